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
-- transfers, deposits and withdrawals applied in one statement, so one round trip and one commit
-- for all of them. Each item succeeds or fails on its own (a failed item changes nothing; no
-- item's failure undoes another's). Deadlock-free by lock order: wallets money is credited to are
-- created first when missing (in (user, coin) order, before any row lock), then every wallet the
-- batch touches is locked in id order, then the ledger rows are inserted (keys in (user, key)
-- order: the caller sorts the items). While the wallets are locked, balances are kept in arrays and each wallet is written once; no statement runs per item,
-- and items are read by unnest() or from integer arrays (a TEXT[] subscript costs O(n)). Each key
-- is claimed by inserting its ledger row before the balances are checked (a key another
-- transaction committed since the first look is then found and its stored row returned, with no
-- error and no retry); the rows of items refused for funds or range are deleted again.
-- The caller sends each (user, key) at most once per batch.
-- Outcomes: applied, replay (the key was used before: the stored row is returned), no_caller
-- (the caller's user is gone or inactive), no_coin, no_recipient, self, no_wallet, insufficient,
-- overflow (a balance would pass 2^63 - 1).
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
    now_utc CONSTANT TIMESTAMP := (now() AT TIME ZONE 'UTC')::TIMESTAMP(3);
    -- Outcome codes, named by OUTCOMES[code].
    outcomes CONSTANT TEXT[] := ARRAY['applied', 'replay', 'no_caller', 'no_coin', 'no_recipient', 'self', 'no_wallet', 'insufficient', 'overflow'];
    TRANSFER CONSTANT SMALLINT := 1;
    DEPOSIT CONSTANT SMALLINT := 2;
    WITHDRAW CONSTANT SMALLINT := 3;
    kinds SMALLINT[];
    -- Per item, from one lookup.
    earlier INTEGER[];
    caller_ids INTEGER[];
    coins INTEGER[];
    recipients INTEGER[];
    -- Per item, decided here.
    codes SMALLINT[] := array_fill(0::SMALLINT, ARRAY[n]);
    tids INTEGER[] := array_fill(0, ARRAY[n]);
    from_ids INTEGER[] := array_fill(0, ARRAY[n]);
    to_ids INTEGER[] := array_fill(0, ARRAY[n]);
    src_of INTEGER[] := array_fill(0, ARRAY[n]);
    dst_of INTEGER[] := array_fill(0, ARRAY[n]);
    own_ids INTEGER[] := array_fill(0, ARRAY[n]);
    balance_after BIGINT[] := array_fill(0::BIGINT, ARRAY[n]);
    refused INTEGER[] := '{}';
    -- The wallets the batch touches (key: user << 32 | coin), locked.
    need_user INTEGER[] := '{}';
    need_coin INTEGER[] := '{}';
    w_key BIGINT[];
    w_id INTEGER[];
    w_bal BIGINT[];
    w_old BIGINT[];
    created INTEGER[];
    used INTEGER[] := '{}';
    k INTEGER;
    tid INTEGER;
    src INTEGER;
    dst INTEGER;
    amount BIGINT;
BEGIN
    IF n IS NULL OR n = 0 THEN RETURN; END IF;

    SELECT array_agg(CASE s.kind WHEN 'transfer' THEN 1 WHEN 'deposit' THEN 2 ELSE 3 END), array_agg(s.earlier),
           array_agg(s.caller), array_agg(s.coin), array_agg(s.recipient)
      INTO kinds, earlier, caller_ids, coins, recipients
      FROM (SELECT o.kind, COALESCE(e.id, 0) AS earlier, COALESCE(me.id, 0) AS caller, COALESCE(c.id, 0) AS coin, COALESCE(u.id, 0) AS recipient
              FROM unnest(p_kind, p_user, p_key, p_symbol, p_to) WITH ORDINALITY AS o(kind, user_id, key, symbol, to_name, i)
              LEFT JOIN auth_user me ON me.id = o.user_id AND me."isActive"
              LEFT JOIN crypto_transfer e ON e."userId" = o.user_id AND e."idempotencyKey" = o.key
              LEFT JOIN crypto_coin c ON c.symbol = o.symbol AND c."isActive"
              LEFT JOIN auth_user u ON u.username = o.to_name AND u."isActive"
             ORDER BY o.i) AS s;

    FOR k IN 1..n LOOP
        IF earlier[k] <> 0 THEN
            codes[k] := 2;
            tids[k] := earlier[k];
        ELSIF caller_ids[k] = 0 THEN
            codes[k] := 3;
        ELSIF coins[k] = 0 THEN
            codes[k] := 4;
        ELSIF kinds[k] = TRANSFER AND recipients[k] = 0 THEN
            codes[k] := 5;
        ELSIF kinds[k] = TRANSFER AND recipients[k] = p_user[k] THEN
            codes[k] := 6;
        ELSE
            IF kinds[k] <> DEPOSIT THEN
                need_user := need_user || p_user[k];
                need_coin := need_coin || coins[k];
            END IF;
            IF kinds[k] <> WITHDRAW THEN
                need_user := need_user || CASE WHEN kinds[k] = DEPOSIT THEN p_user[k] ELSE recipients[k] END;
                need_coin := need_coin || coins[k];
            END IF;
        END IF;
    END LOOP;

    -- Wallets money is credited to, created when missing (before any row lock is taken).
    IF EXISTS (SELECT 1 FROM unnest(need_user, need_coin) AS x(u, c)
                WHERE NOT EXISTS (SELECT 1 FROM crypto_wallet w WHERE w."userId" = x.u AND w."coinId" = x.c)) THEN
        WITH made AS (
            INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt")
            SELECT x.u, x.c, 0, now_utc, now_utc
              FROM (SELECT DISTINCT CASE WHEN o.kind = DEPOSIT THEN o.u ELSE o.r END AS u, o.c
                      FROM unnest(kinds, codes, p_user, recipients, coins) AS o(kind, code, u, r, c)
                     WHERE o.code = 0 AND o.kind <> WITHDRAW) AS x
             WHERE NOT EXISTS (SELECT 1 FROM crypto_wallet w WHERE w."userId" = x.u AND w."coinId" = x.c)
             ORDER BY x.u, x.c
            ON CONFLICT ("userId", "coinId") DO NOTHING
            RETURNING id)
        SELECT array_agg(id) INTO created FROM made;
    END IF;

    -- Every wallet the batch touches, locked in id order.
    SELECT array_agg(s.key), array_agg(s.id), array_agg(s.bal)
      INTO w_key, w_id, w_bal
      FROM (SELECT (w."userId"::BIGINT << 32) | w."coinId" AS key, w.id, w."balanceUnits" AS bal
              FROM crypto_wallet w
             WHERE (w."userId", w."coinId") IN (SELECT * FROM unnest(need_user, need_coin))
             ORDER BY w.id
               FOR NO KEY UPDATE OF w) AS s;
    w_old := w_bal;

    -- Which wallets each item uses.
    FOR k IN 1..n LOOP
        CONTINUE WHEN codes[k] <> 0;
        src := CASE WHEN kinds[k] <> DEPOSIT THEN array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k]) END;
        dst := CASE kinds[k]
                   WHEN TRANSFER THEN array_position(w_key, (recipients[k]::BIGINT << 32) | coins[k])
                   WHEN DEPOSIT THEN array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k])
               END;
        IF kinds[k] <> DEPOSIT AND (src IS NULL OR (w_bal[src] = 0 AND w_id[src] = ANY(created))) THEN
            codes[k] := 7;
        ELSIF kinds[k] <> WITHDRAW AND dst IS NULL THEN
            codes[k] := 5;
        ELSE
            src_of[k] := COALESCE(src, 0);
            dst_of[k] := COALESCE(dst, 0);
            from_ids[k] := COALESCE(w_id[src], 0);
            to_ids[k] := COALESCE(w_id[dst], 0);
        END IF;
    END LOOP;

    -- Each remaining key claimed by its ledger row, in the (user, key) order the items come in. A key
    -- a concurrent call committed since the first look is not inserted: the item answers with that
    -- call's row. Rows of items refused below are deleted again before the end.
    WITH ins AS (
        INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits", "createdAt")
        SELECT o.kind, o.key, o.u, o.c, NULLIF(o.f, 0), NULLIF(o.t, 0), o.a, now_utc
          FROM unnest(codes, p_kind, p_key, p_user, coins, from_ids, to_ids, p_amount) AS o(code, kind, key, u, c, f, t, a)
         WHERE o.code = 0
        ON CONFLICT ("userId", "idempotencyKey") DO NOTHING
        RETURNING id, "userId", "idempotencyKey")
    SELECT array_agg(ins.id ORDER BY o.i) INTO tids
      FROM unnest(p_user, p_key) WITH ORDINALITY AS o(u, key, i)
      LEFT JOIN ins ON ins."userId" = o.u AND ins."idempotencyKey" = o.key;

    -- The balances, item after item, in memory (the wallets are locked).
    FOR k IN 1..n LOOP
        CONTINUE WHEN codes[k] <> 0;
        IF tids[k] IS NULL THEN
            SELECT e.id INTO tid FROM crypto_transfer e WHERE e."userId" = p_user[k] AND e."idempotencyKey" = p_key[k];
            codes[k] := 2;
            earlier[k] := tid;
            CONTINUE;
        END IF;
        src := NULLIF(src_of[k], 0);
        dst := NULLIF(dst_of[k], 0);
        amount := p_amount[k];
        IF src IS NOT NULL AND w_bal[src] < amount THEN
            codes[k] := 8;
            refused := refused || tids[k];
        ELSIF dst IS NOT NULL AND w_bal[dst] > max_units - amount THEN
            codes[k] := 9;
            refused := refused || tids[k];
        ELSE
            codes[k] := 1;
            IF src IS NOT NULL THEN w_bal[src] := w_bal[src] - amount; END IF;
            IF dst IS NOT NULL THEN
                w_bal[dst] := w_bal[dst] + amount;
                used := used || w_id[dst];
            END IF;
            own_ids[k] := CASE WHEN kinds[k] = DEPOSIT THEN to_ids[k] ELSE from_ids[k] END;
            balance_after[k] := w_bal[CASE WHEN kinds[k] = DEPOSIT THEN dst ELSE src END];
        END IF;
    END LOOP;

    IF cardinality(refused) > 0 THEN
        DELETE FROM crypto_transfer WHERE id = ANY(refused);
    END IF;
    UPDATE crypto_wallet w SET "balanceUnits" = v.bal, "updatedAt" = now_utc
      FROM unnest(w_id, w_bal, w_old) AS v(id, bal, old)
     WHERE w.id = v.id AND v.bal <> v.old;
    -- A wallet created above that no applied item credited is removed again: a failed call changes nothing.
    IF created IS NOT NULL THEN
        DELETE FROM crypto_wallet w WHERE w.id = ANY(created) AND w.id <> ALL(used);
    END IF;

    RETURN QUERY
    -- Applied: the row just written; the caller's wallet as this item left it.
    SELECT o.i::INTEGER, outcomes[o.code], o.tid, o.kind, o.key, o.a, now_utc AT TIME ZONE 'UTC',
           fu.username, tu.username,
           w.id, o.bal, w."createdAt" AT TIME ZONE 'UTC', now_utc AT TIME ZONE 'UTC', me.username,
           c.id, c.symbol, c.name, c."priceUnits", c."marketCapCents", c."volume24hCents", c."change24hBps", c."isActive",
           c."createdAt" AT TIME ZONE 'UTC', c."updatedAt" AT TIME ZONE 'UTC'
      FROM unnest(codes, tids, p_kind, p_key, p_amount, p_user, coins, from_ids, to_ids, own_ids, balance_after)
           WITH ORDINALITY AS o(code, tid, kind, key, a, u, c, f, t, own, bal, i)
      JOIN auth_user me ON me.id = o.u
      JOIN crypto_coin c ON c.id = o.c
      JOIN crypto_wallet w ON w.id = o.own
      LEFT JOIN crypto_wallet fw ON fw.id = o.f LEFT JOIN auth_user fu ON fu.id = fw."userId"
      LEFT JOIN crypto_wallet tw ON tw.id = o.t LEFT JOIN auth_user tu ON tu.id = tw."userId"
     WHERE o.code = 1
    UNION ALL
    -- Replayed: the stored row, its wallets' owners and the caller's wallet as it is now.
    SELECT o.i::INTEGER, outcomes[o.code], t.id, t.kind, t."idempotencyKey", t."amountUnits", t."createdAt" AT TIME ZONE 'UTC',
           fu.username, tu.username,
           w.id, w."balanceUnits", w."createdAt" AT TIME ZONE 'UTC', w."updatedAt" AT TIME ZONE 'UTC', wu.username,
           c.id, c.symbol, c.name, c."priceUnits", c."marketCapCents", c."volume24hCents", c."change24hBps", c."isActive",
           c."createdAt" AT TIME ZONE 'UTC', c."updatedAt" AT TIME ZONE 'UTC'
      FROM unnest(codes, earlier) WITH ORDINALITY AS o(code, tid, i)
      JOIN crypto_transfer t ON t.id = o.tid
      JOIN crypto_coin c ON c.id = t."coinId"
      LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId"
      LEFT JOIN auth_user fu ON fu.id = fw."userId"
      LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId"
      LEFT JOIN auth_user tu ON tu.id = tw."userId"
      LEFT JOIN crypto_wallet w ON w.id = CASE WHEN t.kind = 'deposit' THEN t."toWalletId" ELSE t."fromWalletId" END
      LEFT JOIN auth_user wu ON wu.id = w."userId"
     WHERE o.code = 2
    UNION ALL
    -- Refused: the outcome alone.
    SELECT o.i::INTEGER, outcomes[o.code], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM unnest(codes) WITH ORDINALITY AS o(code, i)
     WHERE o.code > 2;
END
$fn$;
