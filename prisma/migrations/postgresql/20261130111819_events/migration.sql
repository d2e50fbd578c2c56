-- AlterTable
ALTER TABLE "grpc_server" ADD COLUMN     "channel" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "processes" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "subscribers" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "crypto_coin" ADD COLUMN     "version" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "cfg_event" (
    "id" SERIAL NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cfg_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "cfg_event_createdAt_idx" ON "cfg_event"("createdAt");

-- Every change of a coin is an event (topic crypto.coin), sent with NOTIFY in the transaction of
-- the write itself, whoever makes it (the app, a seed, an outside connection): it reaches every
-- listening process when, and only if, the write commits, in commit order (src/events/pg.ts).
-- The channel is the deployment's: "cfg_events" in the public schema, "cfg_events:<schema>"
-- otherwise (md5 of the schema when that would pass 63 bytes), as src/events/wire.ts computes it.
-- A change that did not bump "version" (a write from outside the app) has it bumped here, so that
-- it always orders commits (the row lock orders them).
CREATE FUNCTION crypto_coin_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."version" = OLD."version" THEN
    NEW."version" := OLD."version" + 1;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER crypto_coin_version BEFORE UPDATE ON "crypto_coin" FOR EACH ROW EXECUTE FUNCTION crypto_coin_version();

CREATE FUNCTION crypto_coin_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  channel text := CASE
    WHEN TG_TABLE_SCHEMA = 'public' THEN 'cfg_events'
    WHEN octet_length('cfg_events:' || TG_TABLE_SCHEMA) <= 63 THEN 'cfg_events:' || TG_TABLE_SCHEMA
    ELSE 'cfg_events:' || md5(TG_TABLE_SCHEMA) END;
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify(channel, json_build_object('t', 'crypto.coin', 'd', json_build_object('symbol', OLD."symbol", 'deleted', true))::text);
  ELSE
    PERFORM pg_notify(channel, json_build_object('t', 'crypto.coin', 'd', json_build_object(
      'symbol', NEW."symbol", 'version', NEW."version", 'priceUnits', NEW."priceUnits"::text, 'change24hBps', NEW."change24hBps",
      'isActive', NEW."isActive", 'updatedAt', NEW."updatedAt"))::text);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER crypto_coin_event AFTER INSERT OR UPDATE OR DELETE ON "crypto_coin" FOR EACH ROW EXECUTE FUNCTION crypto_coin_event();
