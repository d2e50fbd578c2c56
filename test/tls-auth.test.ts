// The token tests over TLS: the crypto app served with a certificate, a client trusting the CA
// calls a private method with a valid token, and a bad token is UNAUTHENTICATED over TLS too.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { makeCerts, type Certs } from './support/certs.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const ROOT = new URL('..', import.meta.url).pathname;
let app: CryptoEnv;
let certs: Certs;
let running: RunningServer;

before(async () => {
  certs = makeCerts();
  app = await startCrypto('sqlite');
  process.env.CFG_SECRET_KEY = String(app.env.CFG_SECRET_KEY);
  const config = resolveConfig(
    {
      grpc: {
        enabledApps: ['crypto'],
        server: { host: '127.0.0.1', port: 0, enableReflection: false, tls: { cert: certs.serverCert, key: certs.serverKey } },
        proto: { autoGenerate: false },
      },
      logging: { logCalls: false },
    },
    { root: ROOT, env: { DATABASE_URL: app.env.DATABASE_URL } },
  );
  running = await startServer(config);
});
after(async () => {
  await running?.stop();
  await app?.stop();
  rmSync(certs.dir, { recursive: true, force: true });
});

test('over TLS: a valid token reaches a private method; a bad one is UNAUTHENTICATED', async () => {
  const tls = {
    credentials: credentials.createSsl(certs.read(certs.caCert)),
    channelOptions: { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
  };
  const alice = cryptoClient(`127.0.0.1:${running.port}`, { ...tls, token: await app.token('alice') });
  const forged = cryptoClient(`127.0.0.1:${running.port}`, { ...tls, token: 'not.a.token' });
  try {
    assert.equal((await alice.getWallet({ symbol: 'BTC' })).wallet?.username, 'alice');
    const err = await forged.getCoin({ symbol: 'BTC' }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    assert.equal(err?.code, status.UNAUTHENTICATED);
  } finally {
    alice.close();
    forged.close();
  }
});
