-- Money stays an exact integer in range (issue 21, item 3): BIGINT columns refuse what does not
-- fit in 64 bits; these CHECK constraints refuse negative balances, prices and caps and
-- non-positive amounts, so no write can leave the range even if the application's own check were
-- wrong. A database holding such a row fails here and is left as it was (docs/database.md).
ALTER TABLE "crypto_coin"
    ADD CONSTRAINT "crypto_coin_priceUnits_check" CHECK ("priceUnits" >= 0),
    ADD CONSTRAINT "crypto_coin_marketCapCents_check" CHECK ("marketCapCents" >= 0),
    ADD CONSTRAINT "crypto_coin_volume24hCents_check" CHECK ("volume24hCents" >= 0);
ALTER TABLE "crypto_wallet" ADD CONSTRAINT "crypto_wallet_balanceUnits_check" CHECK ("balanceUnits" >= 0);
ALTER TABLE "crypto_transfer"
    ADD CONSTRAINT "crypto_transfer_amountUnits_check" CHECK ("amountUnits" > 0),
    ADD CONSTRAINT "crypto_transfer_kind_check" CHECK ("kind" IN ('transfer', 'deposit', 'withdraw'));

-- CreateIndex
CREATE INDEX "crypto_transfer_fromWalletId_idx" ON "crypto_transfer"("fromWalletId");

-- CreateIndex
CREATE INDEX "crypto_transfer_toWalletId_idx" ON "crypto_transfer"("toWalletId");

-- The money path of the crypto app (apps/crypto/grpc_services/ledger-pg.ts): a batch of
-- transfers, deposits and withdrawals applied in one statement, so one round trip and one commit.
-- Each item succeeds or fails on its own (a failed item changes nothing; no item's failure undoes
-- another's). Deadlock-free by lock order: wallets money is credited to are created first (in
-- (user, coin) order, only if missing), then every wallet the batch touches is locked in id
-- order, then ledger rows are inserted in (user, key) order (the caller sorts the items). While
-- the wallets are locked the balances are kept in arrays and written once at the end.
-- Outcomes: applied, replay (the key was used before: the stored row is returned), no_coin,
-- no_recipient, self, no_wallet, insufficient, overflow (the balance would pass 2^63 - 1).
CREATE FUNCTION "crypto_apply_operations"(
    p_kind TEXT[], p_user INTEGER[], p_key TEXT[], p_symbol TEXT[], p_amount BIGINT[], p_to TEXT[]
) RETURNS TABLE (
    item INTEGER, outcome TEXT,
    transfer_id INTEGER, transfer_kind TEXT, transfer_key TEXT, transfer_amount BIGINT, transfer_created TIMESTAMPTZ,
    from_username TEXT, to_username TEXT,
    wallet_id INTEGER, wallet_balance BIGINT, wallet_created TIMESTAMPTZ, wallet_updated TIMESTAMPTZ, wallet_username TEXT,
    coin_id INTEGER, coin_symbol TEXT, coin_name TEXT, coin_price BIGINT, coin_cap BIGINT, coin_volume BIGINT,
    coin_change INTEGER, coin_active BOOLEAN, coin_created TIMESTAMPTZ, coin_updated TIMESTAMPTZ
) LANGUAGE plpgsql SET search_path FROM CURRENT SET lock_timeout = '3s' AS $fn$
#variable_conflict use_column
DECLARE
    n CONSTANT INTEGER := cardinality(p_kind);
    max_units CONSTANT BIGINT := 9223372036854775807;
    now_utc CONSTANT TIMESTAMP := now() AT TIME ZONE 'UTC';
    results TEXT[] := array_fill(NULL::TEXT, ARRAY[n]);
    tids INTEGER[] := array_fill(NULL::INTEGER, ARRAY[n]);
    earlier INTEGER[];
    coins INTEGER[];
    recipients INTEGER[];
    need_user INTEGER[] := '{}';
    need_coin INTEGER[] := '{}';
    w_key BIGINT[];
    w_id INTEGER[];
    w_bal BIGINT[];
    w_old BIGINT[];
    created INTEGER[];
    k INTEGER;
    src INTEGER;
    dst INTEGER;
    tid INTEGER;
BEGIN
    IF n IS NULL OR n = 0 THEN RETURN; END IF;

    -- Keys used before, coins and recipients, in one query.
    SELECT array_agg(e.id ORDER BY o.i), array_agg(c.id ORDER BY o.i), array_agg(u.id ORDER BY o.i)
      INTO earlier, coins, recipients
      FROM unnest(p_user, p_key, p_symbol, p_to) WITH ORDINALITY AS o(user_id, key, symbol, to_name, i)
      LEFT JOIN crypto_transfer e ON e."userId" = o.user_id AND e."idempotencyKey" = o.key
      LEFT JOIN crypto_coin c ON c.symbol = o.symbol AND c."isActive"
      LEFT JOIN auth_user u ON u.username = o.to_name AND u."isActive";

    FOR k IN 1..n LOOP
        IF earlier[k] IS NOT NULL THEN
            results[k] := 'replay';
            tids[k] := earlier[k];
        ELSIF coins[k] IS NULL THEN
            results[k] := 'no_coin';
        ELSIF p_kind[k] = 'transfer' AND recipients[k] IS NULL THEN
            results[k] := 'no_recipient';
        ELSIF p_kind[k] = 'transfer' AND recipients[k] = p_user[k] THEN
            results[k] := 'self';
        ELSE
            IF p_kind[k] <> 'deposit' THEN
                need_user := need_user || p_user[k];
                need_coin := need_coin || coins[k];
            END IF;
            IF p_kind[k] <> 'withdraw' THEN
                need_user := need_user || CASE WHEN p_kind[k] = 'deposit' THEN p_user[k] ELSE recipients[k] END;
                need_coin := need_coin || coins[k];
            END IF;
        END IF;
    END LOOP;

    -- Wallets money is credited to, created when missing (before any lock is taken).
    WITH made AS (
        INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt")
        SELECT x.u, x.c, 0, now_utc, now_utc
          FROM (SELECT DISTINCT p_user[j] AS u, coins[j] AS c FROM generate_subscripts(p_kind, 1) AS j
                 WHERE results[j] IS NULL AND p_kind[j] = 'deposit'
                UNION
                SELECT DISTINCT recipients[j], coins[j] FROM generate_subscripts(p_kind, 1) AS j
                 WHERE results[j] IS NULL AND p_kind[j] = 'transfer') AS x
         WHERE NOT EXISTS (SELECT 1 FROM crypto_wallet w WHERE w."userId" = x.u AND w."coinId" = x.c)
         ORDER BY x.u, x.c
        ON CONFLICT ("userId", "coinId") DO NOTHING
        RETURNING id)
    SELECT array_agg(id) INTO created FROM made;

    -- Every wallet the batch touches, locked in id order.
    SELECT array_agg(s.key), array_agg(s.id), array_agg(s.bal)
      INTO w_key, w_id, w_bal
      FROM (SELECT (w."userId"::BIGINT << 32) | w."coinId" AS key, w.id, w."balanceUnits" AS bal
              FROM crypto_wallet w
             WHERE (w."userId", w."coinId") IN (SELECT * FROM unnest(need_user, need_coin))
             ORDER BY w.id
               FOR NO KEY UPDATE OF w) AS s;
    w_old := w_bal;

    FOR k IN 1..n LOOP
        CONTINUE WHEN results[k] IS NOT NULL;
        src := CASE WHEN p_kind[k] <> 'deposit' THEN array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k]) END;
        dst := CASE p_kind[k]
                   WHEN 'transfer' THEN array_position(w_key, (recipients[k]::BIGINT << 32) | coins[k])
                   WHEN 'deposit' THEN array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k])
               END;
        IF p_kind[k] <> 'deposit' AND src IS NULL THEN
            results[k] := 'no_wallet';
        ELSIF p_kind[k] <> 'withdraw' AND dst IS NULL THEN
            results[k] := 'no_recipient';
        ELSIF src IS NOT NULL AND w_bal[src] < p_amount[k] THEN
            results[k] := 'insufficient';
        ELSIF dst IS NOT NULL AND w_bal[dst] > max_units - p_amount[k] THEN
            results[k] := 'overflow';
        ELSE
            tid := NULL;
            INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits", "createdAt")
            VALUES (p_kind[k], p_key[k], p_user[k], coins[k], w_id[src], w_id[dst], p_amount[k], now_utc)
            ON CONFLICT ("userId", "idempotencyKey") DO NOTHING
            RETURNING id INTO tid;
            IF tid IS NULL THEN
                -- Another call with the same key committed since the first look: its result.
                results[k] := 'replay';
                SELECT e.id INTO tid FROM crypto_transfer e WHERE e."userId" = p_user[k] AND e."idempotencyKey" = p_key[k];
            ELSE
                results[k] := 'applied';
                IF src IS NOT NULL THEN w_bal[src] := w_bal[src] - p_amount[k]; END IF;
                IF dst IS NOT NULL THEN w_bal[dst] := w_bal[dst] + p_amount[k]; END IF;
            END IF;
            tids[k] := tid;
        END IF;
    END LOOP;

    UPDATE crypto_wallet w SET "balanceUnits" = v.bal, "updatedAt" = now_utc
      FROM unnest(w_id, w_bal, w_old) AS v(id, bal, old)
     WHERE w.id = v.id AND v.bal <> v.old;
    -- A wallet created above that no applied item credited is removed again: a failed call changes nothing.
    IF created IS NOT NULL THEN
        DELETE FROM crypto_wallet w
         WHERE w.id = ANY(created) AND NOT EXISTS (SELECT 1 FROM crypto_transfer t WHERE t."toWalletId" = w.id);
    END IF;

    RETURN QUERY
    SELECT o.i::INTEGER, o.r, t.id, t.kind, t."idempotencyKey", t."amountUnits", t."createdAt" AT TIME ZONE 'UTC',
           fu.username, tu.username,
           w.id, w."balanceUnits", w."createdAt" AT TIME ZONE 'UTC', w."updatedAt" AT TIME ZONE 'UTC', wu.username,
           c.id, c.symbol, c.name, c."priceUnits", c."marketCapCents", c."volume24hCents", c."change24hBps", c."isActive",
           c."createdAt" AT TIME ZONE 'UTC', c."updatedAt" AT TIME ZONE 'UTC'
      FROM unnest(results, tids) WITH ORDINALITY AS o(r, tid, i)
      LEFT JOIN crypto_transfer t ON t.id = o.tid
      LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId"
      LEFT JOIN auth_user fu ON fu.id = fw."userId"
      LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId"
      LEFT JOIN auth_user tu ON tu.id = tw."userId"
      LEFT JOIN crypto_wallet w ON w.id = CASE WHEN t.kind = 'deposit' THEN t."toWalletId" ELSE t."fromWalletId" END
      LEFT JOIN auth_user wu ON wu.id = w."userId"
      LEFT JOIN crypto_coin c ON c.id = t."coinId"
     ORDER BY o.i;
END
$fn$;
