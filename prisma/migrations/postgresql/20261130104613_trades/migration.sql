-- Trades (issue 19, the Trade RPC): a "buy" or "sell" is one ledger row with two legs, the coin
-- leg (coinId, amountUnits, toWalletId for a buy, fromWalletId for a sell) and the quote leg
-- (quoteWalletId, quoteAmountUnits, at priceUnits quote units per coin); see docs/money.md.

-- AlterTable
ALTER TABLE "crypto_transfer" ADD COLUMN     "priceUnits" BIGINT,
ADD COLUMN     "quoteAmountUnits" BIGINT,
ADD COLUMN     "quoteWalletId" INTEGER;

-- CreateIndex
CREATE INDEX "crypto_transfer_quoteWalletId_idx" ON "crypto_transfer"("quoteWalletId");

-- AddForeignKey
ALTER TABLE "crypto_transfer" ADD CONSTRAINT "crypto_transfer_quoteWalletId_fkey" FOREIGN KEY ("quoteWalletId") REFERENCES "crypto_wallet"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The kinds a row may have, and the trade columns' own rules (a trade has all three, nothing else any).
ALTER TABLE "crypto_transfer" DROP CONSTRAINT "crypto_transfer_kind_check";
ALTER TABLE "crypto_transfer"
    ADD CONSTRAINT "crypto_transfer_kind_check" CHECK ("kind" IN ('transfer', 'deposit', 'withdraw', 'buy', 'sell')),
    ADD CONSTRAINT "crypto_transfer_quoteAmountUnits_check" CHECK ("quoteAmountUnits" > 0),
    ADD CONSTRAINT "crypto_transfer_priceUnits_check" CHECK ("priceUnits" > 0),
    ADD CONSTRAINT "crypto_transfer_trade_check" CHECK (CASE WHEN "kind" IN ('buy', 'sell')
        THEN "quoteWalletId" IS NOT NULL AND "quoteAmountUnits" IS NOT NULL AND "priceUnits" IS NOT NULL
        ELSE "quoteWalletId" IS NULL AND "quoteAmountUnits" IS NULL AND "priceUnits" IS NULL END);

-- The money path of the crypto app (apps/crypto/grpc_services/ledger-pg.ts), as money_range made
-- it, with trades: a "buy" or "sell" (p_symbol the coin, p_amount the quantity, p_quote the quote
-- coin's symbol, p_limit the worst price accepted or NULL) moves money between two wallets of the
-- caller at the coin's price read in this statement: a buy debits the quote wallet
-- ceil(quantity x price / 10^8) and credits the coin wallet the quantity; a sell debits the coin
-- wallet the quantity and credits the quote wallet floor(quantity x price / 10^8). The wallet
-- credited is created when missing, as for a deposit. Everything else is as before: one round
-- trip and one commit per batch; each item succeeds or fails on its own; deadlock-free by lock
-- order (credited wallets created first, in (user, coin) order, before any row lock; then every
-- wallet the batch touches locked in id order; coin rows are only read, never locked, so a price
-- update (UpdateCoinPrice, ImportPrices) never waits for a batch, nor a batch for it); each key
-- claimed by inserting its ledger row before the balances are checked. The caller sends each
-- (user, key) at most once per batch, sorted by (user, key).
-- Outcomes: applied, replay (the key was used before: the stored row is returned), no_caller
-- (the caller's user is gone or inactive), no_coin, no_recipient, self (a transfer to oneself, a
-- trade of the quote coin against itself), no_wallet, insufficient, overflow (a balance or a
-- trade's value would pass 2^63 - 1), no_quote (the quote coin is missing or inactive), no_price
-- (the coin's price is 0), price_limit (the price is past the order's limit), too_small (a sale's
-- value rounds down to 0).
DROP FUNCTION "crypto_apply_operations"(TEXT[], INTEGER[], TEXT[], TEXT[], BIGINT[], TEXT[]);
CREATE FUNCTION "crypto_apply_operations"(
    p_kind TEXT[], p_user INTEGER[], p_key TEXT[], p_symbol TEXT[], p_amount BIGINT[], p_to TEXT[], p_quote TEXT[], p_limit BIGINT[]
) RETURNS TABLE (
    item INTEGER, outcome TEXT,
    transfer_id INTEGER, transfer_kind TEXT, transfer_key TEXT, transfer_amount BIGINT, transfer_created TIMESTAMPTZ,
    from_username TEXT, to_username TEXT,
    wallet_id INTEGER, wallet_balance BIGINT, wallet_created TIMESTAMPTZ, wallet_updated TIMESTAMPTZ, wallet_username TEXT,
    coin_id INTEGER, coin_symbol TEXT, coin_name TEXT, coin_price BIGINT, coin_cap BIGINT, coin_volume BIGINT,
    coin_change INTEGER, coin_active BOOLEAN, coin_created TIMESTAMPTZ, coin_updated TIMESTAMPTZ,
    quote_symbol TEXT, quote_amount BIGINT, trade_price BIGINT, quote_balance BIGINT
) LANGUAGE plpgsql SET search_path FROM CURRENT SET lock_timeout = '3s' AS $fn$
#variable_conflict use_column
DECLARE
    n CONSTANT INTEGER := cardinality(p_kind);
    max_units CONSTANT BIGINT := 9223372036854775807;
    unit CONSTANT NUMERIC := 100000000;
    now_utc CONSTANT TIMESTAMP := (now() AT TIME ZONE 'UTC')::TIMESTAMP(3);
    -- Outcome codes, named by OUTCOMES[code].
    outcomes CONSTANT TEXT[] := ARRAY['applied', 'replay', 'no_caller', 'no_coin', 'no_recipient', 'self', 'no_wallet', 'insufficient', 'overflow',
                                      'no_quote', 'no_price', 'price_limit', 'too_small'];
    TRANSFER CONSTANT SMALLINT := 1;
    DEPOSIT CONSTANT SMALLINT := 2;
    WITHDRAW CONSTANT SMALLINT := 3;
    BUY CONSTANT SMALLINT := 4;
    SELL CONSTANT SMALLINT := 5;
    kinds SMALLINT[];
    -- Per item, from one lookup.
    earlier INTEGER[];
    caller_ids INTEGER[];
    coins INTEGER[];
    prices BIGINT[];
    quotes INTEGER[];
    recipients INTEGER[];
    -- Per item, decided here.
    codes SMALLINT[] := array_fill(0::SMALLINT, ARRAY[n]);
    tids INTEGER[] := array_fill(0, ARRAY[n]);
    from_ids INTEGER[] := array_fill(0, ARRAY[n]);
    to_ids INTEGER[] := array_fill(0, ARRAY[n]);
    quote_ids INTEGER[] := array_fill(0, ARRAY[n]);
    src_of INTEGER[] := array_fill(0, ARRAY[n]);
    dst_of INTEGER[] := array_fill(0, ARRAY[n]);
    -- What leaves the source wallet and reaches the destination (the same but for trades).
    src_amount BIGINT[] := array_fill(0::BIGINT, ARRAY[n]);
    dst_amount BIGINT[] := array_fill(0::BIGINT, ARRAY[n]);
    -- Trades only (NULL otherwise): the quote leg and the price.
    quote_amounts BIGINT[] := array_fill(NULL::BIGINT, ARRAY[n]);
    trade_prices BIGINT[] := array_fill(NULL::BIGINT, ARRAY[n]);
    own_ids INTEGER[] := array_fill(0, ARRAY[n]);
    balance_after BIGINT[] := array_fill(0::BIGINT, ARRAY[n]);
    quote_after BIGINT[] := array_fill(NULL::BIGINT, ARRAY[n]);
    refused INTEGER[] := '{}';
    -- The wallets the batch touches (key: user << 32 | coin), locked; and those credited (created when missing).
    need_user INTEGER[] := '{}';
    need_coin INTEGER[] := '{}';
    cred_user INTEGER[] := '{}';
    cred_coin INTEGER[] := '{}';
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
    value NUMERIC;
    src_user INTEGER;
    src_coin INTEGER;
    dst_user INTEGER;
    dst_coin INTEGER;
BEGIN
    IF n IS NULL OR n = 0 THEN RETURN; END IF;

    SELECT array_agg(CASE s.kind WHEN 'transfer' THEN 1 WHEN 'deposit' THEN 2 WHEN 'withdraw' THEN 3 WHEN 'buy' THEN 4 ELSE 5 END), array_agg(s.earlier),
           array_agg(s.caller), array_agg(s.coin), array_agg(s.price), array_agg(s.quote), array_agg(s.recipient)
      INTO kinds, earlier, caller_ids, coins, prices, quotes, recipients
      FROM (SELECT o.kind, COALESCE(e.id, 0) AS earlier, COALESCE(me.id, 0) AS caller, COALESCE(c.id, 0) AS coin, COALESCE(c."priceUnits", 0) AS price,
                   COALESCE(q.id, 0) AS quote, COALESCE(u.id, 0) AS recipient
              FROM unnest(p_kind, p_user, p_key, p_symbol, p_to, p_quote) WITH ORDINALITY AS o(kind, user_id, key, symbol, to_name, quote, i)
              LEFT JOIN auth_user me ON me.id = o.user_id AND me."isActive"
              LEFT JOIN crypto_transfer e ON e."userId" = o.user_id AND e."idempotencyKey" = o.key
              LEFT JOIN crypto_coin c ON c.symbol = o.symbol AND c."isActive"
              LEFT JOIN crypto_coin q ON q.symbol = o.quote AND q."isActive"
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
        ELSIF kinds[k] >= BUY AND quotes[k] = 0 THEN
            codes[k] := 10;
        ELSIF kinds[k] >= BUY AND quotes[k] = coins[k] THEN
            codes[k] := 6;
        ELSIF kinds[k] >= BUY AND prices[k] = 0 THEN
            codes[k] := 11;
        ELSIF kinds[k] = BUY AND prices[k] > p_limit[k] OR kinds[k] = SELL AND prices[k] < p_limit[k] THEN
            codes[k] := 12;
        ELSE
            IF kinds[k] >= BUY THEN
                value := p_amount[k]::NUMERIC * prices[k] / unit;
                value := CASE WHEN kinds[k] = BUY THEN ceil(value) ELSE floor(value) END;
                IF value = 0 THEN
                    codes[k] := 13;
                    CONTINUE;
                ELSIF value > max_units THEN
                    codes[k] := 9;
                    CONTINUE;
                END IF;
                quote_amounts[k] := value::BIGINT;
                trade_prices[k] := prices[k];
            END IF;
            -- The wallet money leaves and the one it reaches, as (user, coin).
            src_user := CASE WHEN kinds[k] <> DEPOSIT THEN p_user[k] END;
            src_coin := CASE WHEN kinds[k] = BUY THEN quotes[k] ELSE coins[k] END;
            dst_user := CASE kinds[k] WHEN TRANSFER THEN recipients[k] WHEN WITHDRAW THEN NULL ELSE p_user[k] END;
            dst_coin := CASE WHEN kinds[k] = SELL THEN quotes[k] ELSE coins[k] END;
            IF src_user IS NOT NULL THEN
                need_user := need_user || src_user;
                need_coin := need_coin || src_coin;
            END IF;
            IF dst_user IS NOT NULL THEN
                need_user := need_user || dst_user;
                need_coin := need_coin || dst_coin;
                cred_user := cred_user || dst_user;
                cred_coin := cred_coin || dst_coin;
            END IF;
        END IF;
    END LOOP;

    -- Wallets money is credited to, created when missing (before any row lock is taken).
    IF EXISTS (SELECT 1 FROM unnest(cred_user, cred_coin) AS x(u, c)
                WHERE NOT EXISTS (SELECT 1 FROM crypto_wallet w WHERE w."userId" = x.u AND w."coinId" = x.c)) THEN
        WITH made AS (
            INSERT INTO crypto_wallet ("userId", "coinId", "balanceUnits", "createdAt", "updatedAt")
            SELECT x.u, x.c, 0, now_utc, now_utc
              FROM (SELECT DISTINCT u, c FROM unnest(cred_user, cred_coin) AS o(u, c)) AS x
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
        src := CASE kinds[k]
                   WHEN DEPOSIT THEN NULL
                   WHEN BUY THEN array_position(w_key, (p_user[k]::BIGINT << 32) | quotes[k])
                   ELSE array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k])
               END;
        dst := CASE kinds[k]
                   WHEN TRANSFER THEN array_position(w_key, (recipients[k]::BIGINT << 32) | coins[k])
                   WHEN WITHDRAW THEN NULL
                   WHEN SELL THEN array_position(w_key, (p_user[k]::BIGINT << 32) | quotes[k])
                   ELSE array_position(w_key, (p_user[k]::BIGINT << 32) | coins[k])
               END;
        IF kinds[k] <> DEPOSIT AND (src IS NULL OR (w_bal[src] = 0 AND w_id[src] = ANY(created))) THEN
            codes[k] := 7;
        ELSIF kinds[k] <> WITHDRAW AND dst IS NULL THEN
            codes[k] := 5;
        ELSE
            src_of[k] := COALESCE(src, 0);
            dst_of[k] := COALESCE(dst, 0);
            IF kinds[k] = BUY THEN
                to_ids[k] := w_id[dst];
                quote_ids[k] := w_id[src];
                src_amount[k] := quote_amounts[k];
                dst_amount[k] := p_amount[k];
            ELSIF kinds[k] = SELL THEN
                from_ids[k] := w_id[src];
                quote_ids[k] := w_id[dst];
                src_amount[k] := p_amount[k];
                dst_amount[k] := quote_amounts[k];
            ELSE
                from_ids[k] := COALESCE(w_id[src], 0);
                to_ids[k] := COALESCE(w_id[dst], 0);
                src_amount[k] := p_amount[k];
                dst_amount[k] := p_amount[k];
            END IF;
        END IF;
    END LOOP;

    -- Each remaining key claimed by its ledger row, in the (user, key) order the items come in. A key
    -- a concurrent call committed since the first look is not inserted: the item answers with that
    -- call's row. Rows of items refused below are deleted again before the end.
    WITH ins AS (
        INSERT INTO crypto_transfer (kind, "idempotencyKey", "userId", "coinId", "fromWalletId", "toWalletId", "amountUnits",
                                     "quoteWalletId", "quoteAmountUnits", "priceUnits", "createdAt")
        SELECT o.kind, o.key, o.u, o.c, NULLIF(o.f, 0), NULLIF(o.t, 0), o.a, NULLIF(o.q, 0), o.qa, o.p, now_utc
          FROM unnest(codes, p_kind, p_key, p_user, coins, from_ids, to_ids, p_amount, quote_ids, quote_amounts, trade_prices)
               AS o(code, kind, key, u, c, f, t, a, q, qa, p)
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
        IF src IS NOT NULL AND w_bal[src] < src_amount[k] THEN
            codes[k] := 8;
            refused := refused || tids[k];
        ELSIF dst IS NOT NULL AND w_bal[dst] > max_units - dst_amount[k] THEN
            codes[k] := 9;
            refused := refused || tids[k];
        ELSE
            codes[k] := 1;
            IF src IS NOT NULL THEN w_bal[src] := w_bal[src] - src_amount[k]; END IF;
            IF dst IS NOT NULL THEN
                w_bal[dst] := w_bal[dst] + dst_amount[k];
                used := used || w_id[dst];
            END IF;
            -- The caller's wallet of the coin (for a deposit or buy, the one credited), and for a trade its quote wallet.
            own_ids[k] := CASE WHEN kinds[k] IN (DEPOSIT, BUY) THEN to_ids[k] ELSE from_ids[k] END;
            balance_after[k] := w_bal[CASE WHEN kinds[k] IN (DEPOSIT, BUY) THEN dst ELSE src END];
            quote_after[k] := CASE kinds[k] WHEN BUY THEN w_bal[src] WHEN SELL THEN w_bal[dst] END;
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
           c."createdAt" AT TIME ZONE 'UTC', c."updatedAt" AT TIME ZONE 'UTC',
           qc.symbol, o.qa, o.p, o.qbal
      FROM unnest(codes, tids, p_kind, p_key, p_amount, p_user, coins, from_ids, to_ids, own_ids, balance_after, quote_ids, quote_amounts, trade_prices, quote_after)
           WITH ORDINALITY AS o(code, tid, kind, key, a, u, c, f, t, own, bal, q, qa, p, qbal, i)
      JOIN auth_user me ON me.id = o.u
      JOIN crypto_coin c ON c.id = o.c
      JOIN crypto_wallet w ON w.id = o.own
      LEFT JOIN crypto_wallet fw ON fw.id = o.f LEFT JOIN auth_user fu ON fu.id = fw."userId"
      LEFT JOIN crypto_wallet tw ON tw.id = o.t LEFT JOIN auth_user tu ON tu.id = tw."userId"
      LEFT JOIN crypto_wallet qw ON qw.id = o.q LEFT JOIN crypto_coin qc ON qc.id = qw."coinId"
     WHERE o.code = 1
    UNION ALL
    -- Replayed: the stored row, its wallets' owners and the caller's wallets as they are now.
    SELECT o.i::INTEGER, outcomes[o.code], t.id, t.kind, t."idempotencyKey", t."amountUnits", t."createdAt" AT TIME ZONE 'UTC',
           fu.username, tu.username,
           w.id, w."balanceUnits", w."createdAt" AT TIME ZONE 'UTC', w."updatedAt" AT TIME ZONE 'UTC', wu.username,
           c.id, c.symbol, c.name, c."priceUnits", c."marketCapCents", c."volume24hCents", c."change24hBps", c."isActive",
           c."createdAt" AT TIME ZONE 'UTC', c."updatedAt" AT TIME ZONE 'UTC',
           qc.symbol, t."quoteAmountUnits", t."priceUnits", qw."balanceUnits"
      FROM unnest(codes, earlier) WITH ORDINALITY AS o(code, tid, i)
      JOIN crypto_transfer t ON t.id = o.tid
      JOIN crypto_coin c ON c.id = t."coinId"
      LEFT JOIN crypto_wallet fw ON fw.id = t."fromWalletId"
      LEFT JOIN auth_user fu ON fu.id = fw."userId"
      LEFT JOIN crypto_wallet tw ON tw.id = t."toWalletId"
      LEFT JOIN auth_user tu ON tu.id = tw."userId"
      LEFT JOIN crypto_wallet w ON w.id = CASE WHEN t.kind IN ('deposit', 'buy') THEN t."toWalletId" ELSE t."fromWalletId" END
      LEFT JOIN auth_user wu ON wu.id = w."userId"
      LEFT JOIN crypto_wallet qw ON qw.id = t."quoteWalletId" LEFT JOIN crypto_coin qc ON qc.id = qw."coinId"
     WHERE o.code = 2
    UNION ALL
    -- Refused: the outcome alone.
    SELECT o.i::INTEGER, outcomes[o.code], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM unnest(codes) WITH ORDINALITY AS o(code, i)
     WHERE o.code > 2;
END
$fn$;
