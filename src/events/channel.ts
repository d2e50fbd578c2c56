import { randomUUID } from 'node:crypto';
import { getLogger } from '../log/logger.ts';
import type { Topic } from './topic.ts';
import type { Transport, TxClient } from './transport.ts';
import { decode, encode, type WireEvent } from './wire.ts';

const log = getLogger('events');

export type EventBackend = Transport['backend'];
/** "connecting" until the first connection; "up"; "down" while reconnecting; "closed". */
export type ChannelState = 'connecting' | 'up' | 'down' | 'closed';

/** How long a channel may take to connect first before it counts as down (and is reported). */
const FIRST_CONNECT_MS = 5_000;

/** What a state listener hears: the new state, and for "up" after a loss, `resync` (events may have been missed). */
export interface StateChange {
  state: ChannelState;
  resync: boolean;
  reason?: string;
}

export interface EventStats {
  backend: EventBackend;
  state: ChannelState;
  /** Open subscribe() iterators in this process. */
  subscribers: number;
  /** Events received from other processes (and from database triggers). */
  received: number;
  published: number;
  /** Times the connection came back after a loss. */
  reconnects: number;
  /** ms since the last heartbeat confirmed (Infinity before the first). */
  heartbeatAgeMs: number;
}

export interface EventChannelOptions {
  heartbeatMs: number;
  maxStalenessMs: number;
}

type Handler = (data: unknown) => void;

/**
 * The event channel of one server (one per process; `this.events` in a service): publish to every
 * process of the deployment, subscribe to what any of them publishes, typed per topic
 * (defineTopic). Delivery to the subscribers of one process is in the order the channel delivers
 * (commit order on PostgreSQL and SQLite); what a process publishes reaches its own subscribers at
 * once, before it is sent.
 *
 * Delivery is at most once while connected: after the connection is lost and back, state
 * listeners hear `{ state: 'up', resync: true }` and should re-read what they keep (the channel
 * does not replay). `coherent()` tells caches whether they may trust the channel right now.
 */
export class EventChannel {
  /** This process's id on the channel: messages it sent carry it. */
  readonly origin = randomUUID().slice(0, 13);
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly stateListeners = new Set<(change: StateChange) => void>();
  private current: ChannelState = 'connecting';
  private subscriberCount = 0;
  private received = 0;
  private published = 0;
  private reconnects = 0;
  /** Heartbeats: sequence -> performance.now() at send. */
  private readonly sentAt = new Map<number, number>();
  private seq = 0;
  /** performance.now() at which the last confirmed heartbeat was sent. */
  private confirmedAt = -Infinity;
  /** Messages wait here while a large event is read back, so that order is kept. */
  private inbox: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: EventChannelOptions,
  ) {
    transport.start({
      message: (text) => this.receive(text),
      pong: (token) => this.inOrder(() => this.pong(token)),
      up: (again) => this.setState('up', again),
      down: (reason) => this.setState('down', false, reason),
    });
    if (transport.backend !== 'local' && transport.backend !== 'off') {
      this.timer = setInterval(() => this.heartbeat(), options.heartbeatMs);
      this.timer.unref();
      // A channel that never connects (Redis or PostgreSQL's listener unreachable) is down, and says
      // so, like one that was lost: the server runs on, other processes' changes unseen until it is up.
      setTimeout(() => {
        if (this.current === 'connecting')
          this.setState(
            'down',
            false,
            `not connected within ${FIRST_CONNECT_MS} ms (check events.backend and its address: CFG_REDIS_URL, CFG_EVENTS_LISTEN_URL or the database)`,
          );
      }, FIRST_CONNECT_MS).unref();
    }
  }

  get backend(): EventBackend {
    return this.transport.backend;
  }

  get state(): ChannelState {
    return this.current;
  }

  /** Events written in a database transaction reach other processes at its commit, in commit order (PostgreSQL, SQLite). */
  get transactional(): boolean {
    return this.transport.transactional;
  }

  /**
   * Whether a cache kept up to date by this channel may be used now: the channel is transactional,
   * up, and a heartbeat sent at most maxStalenessMs ago has come back (so every event committed
   * before then has been received). False while the connection is down or stalled.
   */
  coherent(): boolean {
    if (this.current !== 'up') return false;
    if (this.transport.backend === 'local') return true;
    return this.transport.transactional && performance.now() - this.confirmedAt <= this.options.maxStalenessMs;
  }

  /**
   * Publishes `data` to every process of the deployment: this process's subscribers get it now,
   * the others through the channel. Resolves once it is handed to the channel (a channel that is
   * down queues it, or the returned promise rejects: the caller decides).
   */
  async publish<T>(topic: Topic<T>, data: T): Promise<void> {
    this.deliver(topic.name, data);
    this.published++;
    if (this.transport.backend === 'local' || this.transport.backend === 'off') return;
    await this.transport.send(topic.name, encode({ t: topic.name, d: data, o: this.origin }), this.origin);
  }

  /**
   * Publishes `data` in a write's transaction (a Prisma interactive transaction's `tx`): every
   * process, this one included, gets it when and only if the transaction commits. PostgreSQL
   * and SQLite only (transactional); elsewhere throws: publish after the commit instead.
   */
  async publishIn<T>(tx: TxClient, topic: Topic<T>, data: T): Promise<void> {
    if (!this.transport.sendIn)
      throw new Error(`events.publishIn: the ${this.transport.backend} channel is not transactional; publish after the commit`);
    this.published++;
    await this.transport.sendIn(tx, topic.name, encode({ t: topic.name, d: data }));
  }

  /** Delivers `data` to this process's subscribers only (not sent). */
  emitLocal<T>(topic: Topic<T>, data: T): void {
    this.deliver(topic.name, data);
  }

  /** Calls `handler` with every event of `topic` until the returned function is called. */
  on<T>(topic: Topic<T>, handler: (data: T) => void): () => void {
    let set = this.handlers.get(topic.name);
    if (!set) this.handlers.set(topic.name, (set = new Set()));
    const h = handler as Handler;
    set.add(h);
    return () => {
      set.delete(h);
      if (set.size === 0 && this.handlers.get(topic.name) === set) this.handlers.delete(topic.name);
    };
  }

  /**
   * The events of `topic` from now (the subscription starts at this call, not at the first
   * `next()`) until `signal` aborts, through a bounded queue: a slow reader loses the oldest, never
   * the server's memory (`onOverflow` is told).
   */
  subscribe<T>(topic: Topic<T>, signal: AbortSignal, options: { maxQueue?: number; onOverflow?: () => void } = {}): AsyncGenerator<T> {
    const maxQueue = options.maxQueue ?? 1000;
    const queue: T[] = [];
    let wake: (() => void) | undefined;
    const off = this.on(topic, (data) => {
      if (queue.length >= maxQueue) {
        queue.shift();
        options.onOverflow?.();
      }
      queue.push(data);
      wake?.();
    });
    const done = this.countSubscriber();
    const end = () => {
      off();
      done();
      wake?.();
    };
    signal.addEventListener('abort', end, { once: true });
    return (async function* () {
      try {
        while (!signal.aborted) {
          if (queue.length > 0) {
            yield queue.shift()!;
            continue;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        signal.removeEventListener('abort', end);
        off();
        done();
      }
    })();
  }

  /** Calls `listener` on every state change until the returned function is called. */
  onState(listener: (change: StateChange) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Counts a subscriber kept outside subscribe() (an app's own fan-out); call the result when it ends. */
  countSubscriber(): () => void {
    this.subscriberCount++;
    let done = false;
    return () => {
      if (!done) this.subscriberCount--;
      done = true;
    };
  }

  stats(): EventStats {
    return {
      backend: this.transport.backend,
      state: this.current,
      subscribers: this.subscriberCount,
      received: this.received,
      published: this.published,
      reconnects: this.reconnects,
      heartbeatAgeMs: performance.now() - this.confirmedAt,
    };
  }

  /** "postgresql up", "redis down", ...: the monitor's channel column. */
  describe(): string {
    return `${this.transport.backend} ${this.current}`;
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    clearInterval(this.timer);
    this.setState('closed', false);
    await this.transport.close();
  }

  // --- inside ---------------------------------------------------------------------------

  private receive(text: string): void {
    const event = decode(text);
    if (!event) return;
    if (event.o === this.origin) return; // delivered to this process when it was published
    if (event.k !== undefined) {
      const readBack = this.transport.readBack;
      if (!readBack) return;
      const key = event.k;
      const read = readBack.call(this.transport, key).then(
        (payload) => (payload === undefined ? undefined : decode(payload)),
        (err: Error) => {
          log.warn(`event ${event.t} #${key} could not be read back: ${err.message}`);
          return undefined;
        },
      );
      this.inbox = (this.inbox ?? Promise.resolve()).then(async () => {
        const full = await read;
        if (full) this.accept(full);
      });
      return;
    }
    this.inOrder(() => this.accept(event));
  }

  /** Runs `fn` now, or after the messages still waiting for a read-back. */
  private inOrder(fn: () => void): void {
    if (this.inbox === undefined) {
      fn();
      return;
    }
    const mine = (this.inbox = this.inbox.then(fn));
    void mine.then(() => {
      if (this.inbox === mine) this.inbox = undefined;
    });
  }

  private accept(event: WireEvent): void {
    this.received++;
    this.deliver(event.t, event.d);
  }

  private deliver(topic: string, data: unknown): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(data);
      } catch (err) {
        log.error(`a handler of event ${topic} threw: ${(err as Error).message}`);
      }
    }
  }

  private heartbeat(): void {
    if (this.current !== 'up') return;
    const seq = ++this.seq;
    const now = performance.now();
    this.sentAt.set(seq, now);
    // Heartbeats that never came back (a lost connection) are forgotten after a while.
    for (const [s, at] of this.sentAt) if (now - at > 60_000) this.sentAt.delete(s);
    this.transport.ping(`${this.origin}:${seq}`);
  }

  private pong(token: string): void {
    const [origin, n] = token.split(':');
    if (origin !== this.origin) return;
    const at = this.sentAt.get(Number(n));
    if (at === undefined) return;
    for (const s of this.sentAt.keys()) if (s <= Number(n)) this.sentAt.delete(s);
    if (at > this.confirmedAt) this.confirmedAt = at;
  }

  private setState(state: ChannelState, again: boolean, reason?: string): void {
    if (this.current === 'closed' || (this.current === state && !again)) return;
    this.current = state;
    if (state === 'up') {
      if (again) this.reconnects++;
      // A fresh connection proves nothing about the messages sent before it: confirm anew.
      this.confirmedAt = -Infinity;
      this.sentAt.clear();
      this.heartbeat();
      log[again ? 'info' : 'debug'](`event channel (${this.transport.backend}) ${again ? 'back up' : 'up'}`);
    } else if (state === 'down') {
      this.confirmedAt = -Infinity;
      log.warn(`event channel (${this.transport.backend}) down: ${reason ?? 'connection lost'}; reconnecting`);
    }
    const change: StateChange = { state, resync: state === 'up' && again, ...(reason ? { reason } : {}) };
    for (const listener of [...this.stateListeners]) {
      try {
        listener(change);
      } catch (err) {
        log.error(`an event channel state listener threw: ${(err as Error).message}`);
      }
    }
  }
}
