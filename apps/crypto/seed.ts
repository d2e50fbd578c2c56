import type { Db } from 'cfg-grpc/db';

// Demo data for the crypto app, loaded by `cfg seed` (and by `npm install` on the SQLite default).
// Idempotent: every row is an upsert keyed on a natural key, so running it again changes nothing
// that users have not changed. Prices: 8 decimal places; market caps and volumes: cents.

const usd = (dollars: string) => BigInt(Math.round(Number(dollars) * 100)) * 1_000_000n; // 8 dp from 2 dp
const cents = (dollars: number) => BigInt(Math.round(dollars * 100));
const units = (amount: string) => {
  const [whole, frac = ''] = amount.split('.');
  return BigInt(whole! + frac.padEnd(8, '0'));
};

const COINS = [
  { symbol: 'BTC', name: 'Bitcoin', price: '64250.12', cap: 1_265_000_000_000, volume: 31_200_000_000, bps: 215 },
  { symbol: 'ETH', name: 'Ethereum', price: '3120.45', cap: 375_000_000_000, volume: 15_400_000_000, bps: -132 },
  { symbol: 'SOL', name: 'Solana', price: '145.87', cap: 67_000_000_000, volume: 2_900_000_000, bps: 564 },
  { symbol: 'XRP', name: 'XRP', price: '0.52', cap: 28_700_000_000, volume: 1_100_000_000, bps: -48 },
  { symbol: 'ADA', name: 'Cardano', price: '0.45', cap: 16_000_000_000, volume: 410_000_000, bps: 91 },
  { symbol: 'DOGE', name: 'Dogecoin', price: '0.13', cap: 18_800_000_000, volume: 900_000_000, bps: -701 },
  // What trades (the Trade RPC) are paid in: a buy debits the caller's USDT wallet, a sell credits it.
  { symbol: 'USDT', name: 'Tether', price: '1', cap: 110_000_000_000, volume: 45_000_000_000, bps: 1 },
];

const PERMISSIONS = [
  ['view_coin', 'Can view coin'],
  ['add_coin', 'Can add coin'],
  ['change_coin', 'Can change coin'],
  ['delete_coin', 'Can delete coin'],
] as const;

const USERS = [
  {
    username: 'alice',
    email: 'alice@example.com',
    isStaff: false,
    isSuperuser: false,
    wallets: { BTC: '1.5', ETH: '10', SOL: '25', USDT: '10000' },
  },
  { username: 'bob', email: 'bob@example.com', isStaff: false, isSuperuser: false, wallets: { BTC: '0.25', ETH: '3', USDT: '2500' } },
  { username: 'admin', email: 'admin@example.com', isStaff: true, isSuperuser: true, wallets: { BTC: '2', ETH: '20', USDT: '50000' } },
];

export async function seed(db: Db): Promise<void> {
  for (const [codename, name] of PERMISSIONS) {
    await db.permission.upsert({
      where: { app_codename: { app: 'crypto', codename } },
      create: { app: 'crypto', codename, name },
      update: {},
    });
  }
  const coinIds = new Map<string, number>();
  for (const c of COINS) {
    const row = await db.coin.upsert({
      where: { symbol: c.symbol },
      create: {
        symbol: c.symbol,
        name: c.name,
        priceUnits: usd(c.price),
        marketCapCents: cents(c.cap),
        volume24hCents: cents(c.volume),
        change24hBps: c.bps,
      },
      update: {},
    });
    coinIds.set(c.symbol, row.id);
  }
  for (const u of USERS) {
    const user = await db.user.upsert({
      where: { username: u.username },
      create: { username: u.username, email: u.email, isStaff: u.isStaff, isSuperuser: u.isSuperuser },
      update: {},
    });
    for (const [symbol, amount] of Object.entries(u.wallets)) {
      const coinId = coinIds.get(symbol)!;
      await db.wallet.upsert({
        where: { userId_coinId: { userId: user.id, coinId } },
        create: { userId: user.id, coinId, balanceUnits: units(amount) },
        update: {},
      });
    }
  }
}
