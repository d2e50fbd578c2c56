// The type of the Prisma client cfg hands out (Db), and the compile-time proof that it is honest
// on both databases.
//
// cfg generates two clients from prisma/schema.prisma, one per provider (a Prisma 7 client is
// built for one). Their model APIs are the same but for what PostgreSQL adds: `mode: 'insensitive'`
// on string filters, `skipDuplicates`, field references in `in`/`notIn`, more isolation levels.
// So code written against the SQLite client's types runs unchanged on PostgreSQL: that type is
// the portable one. TypeScript cannot see this by itself (it will not relate two sets of generic
// delegate methods, nor call a union of them), so the checks below do it per model and operation
// from the generated TypeMaps: every argument the portable type allows, PostgreSQL's client accepts
// (arguments are compared as types, not by name), and the result is the same type. A schema
// change that breaks this (a feature one provider lacks) fails `tsc` here, naming nothing else.
import type { Prisma as SqlitePrisma, PrismaClient as SqliteClient } from '#prisma-client';
import type { Prisma as PgPrisma, PrismaClient as PostgresClient } from '#prisma-client-postgresql';

type SqliteMap = SqlitePrisma.TypeMap;
type PgMap = PgPrisma.TypeMap;
type Model = keyof SqliteMap['model'];
type Operations<Map, M> = Map extends { model: infer Models }
  ? M extends keyof Models
    ? Models[M] extends { operations: infer O }
      ? O
      : never
    : never
  : never;
type Part<Map, M, O, K extends 'args' | 'result'> = O extends keyof Operations<Map, M>
  ? Operations<Map, M>[O] extends { [P in K]: infer T }
    ? T
    : never
  : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** One model operation: PostgreSQL accepts the portable arguments and returns the same result. */
type Portable<M, O> = [Part<SqliteMap, M, O, 'args'>] extends [never]
  ? false
  : [Part<SqliteMap, M, O, 'args'>] extends [Part<PgMap, M, O, 'args'>]
    ? Same<Part<SqliteMap, M, O, 'result'>, Part<PgMap, M, O, 'result'>>
    : false;
/** false when any operation of any model is not portable. */
type EveryOperation = { [M in Model]: { [O in keyof Operations<SqliteMap, M>]: Portable<M, O> }[keyof Operations<SqliteMap, M>] }[Model];
/** Raw queries ($queryRaw, $executeRaw and their Unsafe forms) and transaction isolation levels too. */
type Raw = {
  [O in keyof SqliteMap['other']['operations']]: O extends keyof PgMap['other']['operations']
    ? Same<SqliteMap['other']['operations'][O], PgMap['other']['operations'][O]>
    : false;
}[keyof SqliteMap['other']['operations']];
type Isolation = [SqlitePrisma.TransactionIsolationLevel] extends [PgPrisma.TransactionIsolationLevel] ? true : false;
type SameModels = Same<Model, keyof PgMap['model']>;

type Assert<T extends true> = T;
// Each is `true` only when no member is false (a union true | false is boolean, which fails).
export type PortableChecks = [
  Assert<false extends EveryOperation ? false : true>,
  Assert<false extends Raw ? false : true>,
  Assert<Isolation>,
  Assert<SameModels>,
];

/**
 * The Prisma client API both databases serve: the SQLite client's type (the narrower of the two;
 * see above for why that is the portable one, checked by `tsc`). For PostgreSQL-only arguments
 * (`mode: 'insensitive'`), narrow on `db.provider` and see `postgresClient(db)` in client.ts.
 */
export type PortableClient = SqliteClient;

/**
 * The PostgreSQL client as the portable type. The one conversion between the two client types,
 * justified by PortableChecks (TypeScript cannot relate the generic delegates itself).
 */
export function portable(client: PostgresClient): PortableClient {
  return client as unknown as PortableClient;
}

export type { PostgresClient };
