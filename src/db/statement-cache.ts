import type { Database, Statement } from 'better-sqlite3';

/** Statements kept per connection: Prisma's statements are few; IN lists of many lengths are bounded by this. */
const MAX_STATEMENTS = 256;

/**
 * @prisma/adapter-better-sqlite3 (7.10) compiles every query anew: `client.prepare(sql).bind(args)`,
 * then `reader`, `columns()`, `raw().all()` or `run()`. Compiling is a third of its cost per query
 * (profile of GetCoin under load). This makes `prepare` on that connection reuse one compiled
 * statement per SQL text, with the arguments passed at each run instead of bound for good (a bound
 * better-sqlite3 statement cannot be bound again). SQLite re-prepares a reused statement itself
 * when the schema changes. The adapter runs everything synchronously, so a statement is never in
 * use twice at once.
 */
export function cacheStatements(db: Database): void {
  const compile = db.prepare.bind(db);
  const cache = new Map<string, ReusedStatement>();
  const prepare = (sql: string): ReusedStatement => {
    let entry = cache.get(sql);
    if (entry === undefined) {
      entry = new ReusedStatement(compile(sql));
      if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
      cache.set(sql, entry);
    }
    return entry;
  };
  Object.defineProperty(db, 'prepare', { value: prepare, configurable: true });
}

/** What the adapter calls on `prepare(sql)`: bind once per query, or run with no arguments. */
class ReusedStatement {
  constructor(private readonly stmt: Statement) {}
  bind(args: unknown[]): BoundArgs {
    return new BoundArgs(this.stmt, args);
  }
  run(): unknown {
    return this.stmt.run();
  }
}

/**
 * One query's arguments on a shared statement. The adapter asks for `columns()` before it runs the
 * query; on a reused statement SQLite only recompiles after a schema change when the statement
 * runs, so `columns()` runs it first (a `SELECT *` then reports a column added since) and
 * `raw().all()` hands over those rows.
 */
class BoundArgs {
  private rows: unknown[] | undefined;
  constructor(
    private readonly stmt: Statement,
    private readonly args: unknown[],
  ) {}
  get reader(): boolean {
    return this.stmt.reader;
  }
  columns(): ReturnType<Statement['columns']> {
    this.rows = this.stmt.raw(true).all(this.args);
    return this.stmt.columns();
  }
  raw(): { all(): unknown[] } {
    return { all: () => this.rows ?? this.stmt.raw(true).all(this.args) };
  }
  run(): unknown {
    return this.stmt.run(this.args);
  }
}
