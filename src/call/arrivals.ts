/**
 * When requests reach this process. Each transport notes a request as its headers are read (an
 * HTTP/2 stream opening, an HTTP/1.1 request), which is before any of its handlers run. A value
 * read for one call may then be reused by the calls that had all arrived before it was read, and
 * by none that arrived after (DataVersion.readForCall in src/db): a caller who saw a commit sent
 * its request after that commit, so its request is noted after it and gets a fresh read.
 *
 * Reuse needs every transport serving calls to note them: each says at start-up that it does
 * (cfg's gRPC and web transports), or that it cannot (grpc-js not the shape cfg expects), which
 * turns reuse off for the process. A transport that says neither leaves reuse off too until one
 * says it does; a new transport must note arrivals (ARCHITECTURE.md, "a transport").
 */
let latest = 0;
let notes: 'none' | 'all' | 'not all' = 'none';

/** A request has reached this process (called by the transport, as its headers are read). */
export function noteArrival(): void {
  latest = performance.now();
}

/** This transport notes every request it serves with noteArrival. */
export function transportNotesArrivals(): void {
  if (notes === 'none') notes = 'all';
}

/** This transport serves requests it cannot note: reuse stays off in this process. */
export function transportCannotNoteArrivals(): void {
  notes = 'not all';
}

/** Whether every request being served reached the process before `instant` (a performance.now() time). */
export function noArrivalSince(instant: number): boolean {
  return notes === 'all' && latest < instant;
}
