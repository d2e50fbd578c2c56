-- CreateTable
CREATE TABLE "cfg_event" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "topic" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "cfg_event_createdAt_idx" ON "cfg_event"("createdAt");

-- AlterTable (columns added in place: redefining crypto_coin would drop its CHECK constraints)
ALTER TABLE "grpc_server" ADD COLUMN "processes" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "grpc_server" ADD COLUMN "subscribers" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "grpc_server" ADD COLUMN "channel" TEXT NOT NULL DEFAULT '';
ALTER TABLE "crypto_coin" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 0;

-- Every change of a coin is an event (topic crypto.coin), written in the transaction of the write
-- itself, whoever makes it (the app, a seed, an outside connection): every process reads the
-- event table when PRAGMA data_version changes (src/events/sqlite.ts). A change that did not bump
-- "version" (a write from outside the app) has it bumped here, so that it always orders commits.
CREATE TRIGGER "crypto_coin_version" AFTER UPDATE ON "crypto_coin" WHEN NEW."version" = OLD."version"
BEGIN
  UPDATE "crypto_coin" SET "version" = OLD."version" + 1 WHERE "id" = NEW."id";
END;

CREATE TRIGGER "crypto_coin_event_update" AFTER UPDATE ON "crypto_coin" WHEN NEW."version" <> OLD."version"
BEGIN
  INSERT INTO "cfg_event" ("topic", "payload") VALUES ('crypto.coin', json_object('t', 'crypto.coin', 'd', json_object(
    'symbol', NEW."symbol", 'version', NEW."version", 'priceUnits', CAST(NEW."priceUnits" AS TEXT), 'change24hBps', NEW."change24hBps",
    'isActive', json(CASE WHEN NEW."isActive" THEN 'true' ELSE 'false' END), 'updatedAt', NEW."updatedAt")));
END;

CREATE TRIGGER "crypto_coin_event_insert" AFTER INSERT ON "crypto_coin"
BEGIN
  INSERT INTO "cfg_event" ("topic", "payload") VALUES ('crypto.coin', json_object('t', 'crypto.coin', 'd', json_object(
    'symbol', NEW."symbol", 'version', NEW."version", 'priceUnits', CAST(NEW."priceUnits" AS TEXT), 'change24hBps', NEW."change24hBps",
    'isActive', json(CASE WHEN NEW."isActive" THEN 'true' ELSE 'false' END), 'updatedAt', NEW."updatedAt")));
END;

CREATE TRIGGER "crypto_coin_event_delete" AFTER DELETE ON "crypto_coin"
BEGIN
  INSERT INTO "cfg_event" ("topic", "payload") VALUES ('crypto.coin', json_object('t', 'crypto.coin', 'd', json_object('symbol', OLD."symbol", 'deleted', json('true'))));
END;
