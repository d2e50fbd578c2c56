/** What each step of `cfg check` reports through: a line per finding, counted by runCheck. */
export interface Report {
  good(what: string, text: string): void;
  warn(what: string, text: string): void;
  /** A problem: `err` is a CfgError (its code, message and hint are printed) or a sentence. */
  fail(what: string, err: unknown): void;
}
