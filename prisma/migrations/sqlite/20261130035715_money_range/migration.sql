-- Money stays an exact integer in range (issue 21, item 3). SQLite stores whatever it is given,
-- and integer arithmetic that overflows turns into REAL: these CHECK constraints refuse a value
-- that is not an INTEGER or is negative (amounts: not positive), so no write can leave the range
-- even if the application's own check were wrong. SQLite cannot add a CHECK to an existing table,
-- so the three tables are rebuilt (Prisma's copy, drop, rename; the migration runs in one
-- transaction with foreign keys checked before commit). A database holding a REAL or negative
-- balance fails here and is left as it was: see docs/database.md ("Money columns").
-- Prisma's schema language cannot express CHECK constraints: a later migration that redefines one
-- of these tables must copy them (test/money-range.test.ts fails if they are gone).

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_crypto_coin" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "symbol" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "priceUnits" BIGINT NOT NULL DEFAULT 0,
    "marketCapCents" BIGINT NOT NULL DEFAULT 0,
    "volume24hCents" BIGINT NOT NULL DEFAULT 0,
    "change24hBps" INTEGER NOT NULL DEFAULT 0,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "crypto_coin_priceUnits_check" CHECK (typeof("priceUnits") = 'integer' AND "priceUnits" >= 0),
    CONSTRAINT "crypto_coin_marketCapCents_check" CHECK (typeof("marketCapCents") = 'integer' AND "marketCapCents" >= 0),
    CONSTRAINT "crypto_coin_volume24hCents_check" CHECK (typeof("volume24hCents") = 'integer' AND "volume24hCents" >= 0),
    CONSTRAINT "crypto_coin_change24hBps_check" CHECK (typeof("change24hBps") = 'integer')
);
INSERT INTO "new_crypto_coin" ("change24hBps", "createdAt", "id", "isActive", "marketCapCents", "name", "priceUnits", "symbol", "updatedAt", "volume24hCents") SELECT "change24hBps", "createdAt", "id", "isActive", "marketCapCents", "name", "priceUnits", "symbol", "updatedAt", "volume24hCents" FROM "crypto_coin";
DROP TABLE "crypto_coin";
ALTER TABLE "new_crypto_coin" RENAME TO "crypto_coin";
CREATE UNIQUE INDEX "crypto_coin_symbol_key" ON "crypto_coin"("symbol");
CREATE INDEX "crypto_coin_marketCapCents_idx" ON "crypto_coin"("marketCapCents");
CREATE TABLE "new_crypto_wallet" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" INTEGER NOT NULL,
    "coinId" INTEGER NOT NULL,
    "balanceUnits" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "crypto_wallet_userId_fkey" FOREIGN KEY ("userId") REFERENCES "auth_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "crypto_wallet_coinId_fkey" FOREIGN KEY ("coinId") REFERENCES "crypto_coin" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_wallet_balanceUnits_check" CHECK (typeof("balanceUnits") = 'integer' AND "balanceUnits" >= 0)
);
INSERT INTO "new_crypto_wallet" ("balanceUnits", "coinId", "createdAt", "id", "updatedAt", "userId") SELECT "balanceUnits", "coinId", "createdAt", "id", "updatedAt", "userId" FROM "crypto_wallet";
DROP TABLE "crypto_wallet";
ALTER TABLE "new_crypto_wallet" RENAME TO "crypto_wallet";
CREATE UNIQUE INDEX "crypto_wallet_userId_coinId_key" ON "crypto_wallet"("userId", "coinId");
CREATE TABLE "new_crypto_transfer" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL DEFAULT 'transfer',
    "idempotencyKey" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "coinId" INTEGER NOT NULL,
    "fromWalletId" INTEGER,
    "toWalletId" INTEGER,
    "amountUnits" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "crypto_transfer_coinId_fkey" FOREIGN KEY ("coinId") REFERENCES "crypto_coin" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_fromWalletId_fkey" FOREIGN KEY ("fromWalletId") REFERENCES "crypto_wallet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_toWalletId_fkey" FOREIGN KEY ("toWalletId") REFERENCES "crypto_wallet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_amountUnits_check" CHECK (typeof("amountUnits") = 'integer' AND "amountUnits" > 0),
    CONSTRAINT "crypto_transfer_kind_check" CHECK ("kind" IN ('transfer', 'deposit', 'withdraw'))
);
INSERT INTO "new_crypto_transfer" ("amountUnits", "coinId", "createdAt", "fromWalletId", "id", "idempotencyKey", "kind", "toWalletId", "userId") SELECT "amountUnits", "coinId", "createdAt", "fromWalletId", "id", "idempotencyKey", "kind", "toWalletId", "userId" FROM "crypto_transfer";
DROP TABLE "crypto_transfer";
ALTER TABLE "new_crypto_transfer" RENAME TO "crypto_transfer";
CREATE UNIQUE INDEX "crypto_transfer_userId_idempotencyKey_key" ON "crypto_transfer"("userId", "idempotencyKey");
CREATE INDEX "crypto_transfer_fromWalletId_idx" ON "crypto_transfer"("fromWalletId");
CREATE INDEX "crypto_transfer_toWalletId_idx" ON "crypto_transfer"("toWalletId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
