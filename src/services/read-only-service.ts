import { derivedDb, type Db } from '../db/client.ts';
import { BaseService } from './base-service.ts';

/** The Prisma operations that change data; `this.db()` of a ReadOnlyService refuses them. */
const WRITES = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
  '$executeRaw',
  '$executeRawUnsafe',
]);

/** A write attempted through a ReadOnlyService's client: a bug in the service, so INTERNAL. */
export class ReadOnlyViolation extends Error {
  override readonly name = 'ReadOnlyViolation';
}

const readOnly = new WeakMap<Db, Db>();

/** The client wrapped so that every write operation throws before reaching the database (one view per client). */
function readOnlyDb(db: Db): Db {
  let wrapped = readOnly.get(db);
  if (!wrapped) {
    const extended = db.$extends({
      name: 'cfg-read-only',
      query: {
        async $allOperations({ model, operation, args, query }) {
          if (WRITES.has(operation)) {
            throw new ReadOnlyViolation(`read-only service attempted ${model ? `${model}.` : ''}${operation}`);
          }
          return query(args);
        },
      },
    });
    wrapped = derivedDb(db, extended);
    readOnly.set(db, wrapped);
  }
  return wrapped;
}

/**
 * A service that only reads. What read-only means here: its database client, `this.db`, refuses
 * every write (create, update, upsert, delete, their *Many forms and $executeRaw) with a
 * ReadOnlyViolation before any SQL is sent, so the call ends INTERNAL and the log names the
 * operation. Reads ($queryRaw included) pass unchanged. It does not change who may
 * call the service: declare static access (or requireAuth) as for any service.
 *
 *     class Catalog extends ReadOnlyService implements ServiceImplementation<typeof CatalogService> {
 *       async listCoins(req: ListCoinsRequest, ctx: CallContext) {
 *         return { coins: await this.db.coin.findMany({ take: req.limit }) };
 *       }
 *     }
 */
export abstract class ReadOnlyService extends BaseService {
  /** The service's database client (see BaseService.db), refusing writes. */
  protected override get db(): Db {
    return readOnlyDb(super.db);
  }
}
