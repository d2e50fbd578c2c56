-- Trades (issue 19, the Trade RPC): a "buy" or "sell" is one ledger row with two legs, the coin
-- leg (coinId, amountUnits, toWalletId for a buy, fromWalletId for a sell) and the quote leg
-- (quoteWalletId, quoteAmountUnits, at priceUnits quote units per coin); see docs/money.md.
-- SQLite cannot add a foreign key column with its CHECKs to a table, so crypto_transfer is rebuilt
-- (Prisma's copy, drop and rename): the money_range CHECK constraints are copied, the kind check
-- admits buy and sell, and the trade columns get theirs (a trade has all three, nothing else any).

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_crypto_transfer" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL DEFAULT 'transfer',
    "idempotencyKey" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "coinId" INTEGER NOT NULL,
    "fromWalletId" INTEGER,
    "toWalletId" INTEGER,
    "amountUnits" BIGINT NOT NULL,
    "quoteWalletId" INTEGER,
    "quoteAmountUnits" BIGINT,
    "priceUnits" BIGINT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "crypto_transfer_coinId_fkey" FOREIGN KEY ("coinId") REFERENCES "crypto_coin" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_fromWalletId_fkey" FOREIGN KEY ("fromWalletId") REFERENCES "crypto_wallet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_toWalletId_fkey" FOREIGN KEY ("toWalletId") REFERENCES "crypto_wallet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_quoteWalletId_fkey" FOREIGN KEY ("quoteWalletId") REFERENCES "crypto_wallet" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "crypto_transfer_amountUnits_check" CHECK (typeof("amountUnits") = 'integer' AND "amountUnits" > 0),
    CONSTRAINT "crypto_transfer_kind_check" CHECK ("kind" IN ('transfer', 'deposit', 'withdraw', 'buy', 'sell')),
    CONSTRAINT "crypto_transfer_quoteAmountUnits_check" CHECK ("quoteAmountUnits" IS NULL OR (typeof("quoteAmountUnits") = 'integer' AND "quoteAmountUnits" > 0)),
    CONSTRAINT "crypto_transfer_priceUnits_check" CHECK ("priceUnits" IS NULL OR (typeof("priceUnits") = 'integer' AND "priceUnits" > 0)),
    CONSTRAINT "crypto_transfer_trade_check" CHECK (CASE WHEN "kind" IN ('buy', 'sell')
        THEN "quoteWalletId" IS NOT NULL AND "quoteAmountUnits" IS NOT NULL AND "priceUnits" IS NOT NULL
        ELSE "quoteWalletId" IS NULL AND "quoteAmountUnits" IS NULL AND "priceUnits" IS NULL END)
);
INSERT INTO "new_crypto_transfer" ("amountUnits", "coinId", "createdAt", "fromWalletId", "id", "idempotencyKey", "kind", "toWalletId", "userId") SELECT "amountUnits", "coinId", "createdAt", "fromWalletId", "id", "idempotencyKey", "kind", "toWalletId", "userId" FROM "crypto_transfer";
DROP TABLE "crypto_transfer";
ALTER TABLE "new_crypto_transfer" RENAME TO "crypto_transfer";
CREATE INDEX "crypto_transfer_fromWalletId_idx" ON "crypto_transfer"("fromWalletId");
CREATE INDEX "crypto_transfer_toWalletId_idx" ON "crypto_transfer"("toWalletId");
CREATE INDEX "crypto_transfer_quoteWalletId_idx" ON "crypto_transfer"("quoteWalletId");
CREATE UNIQUE INDEX "crypto_transfer_userId_idempotencyKey_key" ON "crypto_transfer"("userId", "idempotencyKey");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
