import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { importKey } from '../identity/index.js';
import { storeChange } from '../lease/index.js';
import { Ledger, serveLedger } from '../market/index.js';
import { openSqliteStore } from '../store/index.js';
import { parseConfig } from './config.js';
import type { Logger, LogLevel } from './logger.js';
import { legacyManifestPathOf, loadManifests, manifestRemoval } from './manifest-store.js';
import { runProvider } from './run.js';
import { account, ipSdl, leaseRegistration, tokenOf, unwrap, writeLegacyManifestFile } from './testing.js';

const alice = account(0xa11ce);
const providerKey = account(0x9a9a);

/** A logger that keeps lines and resolves waiters when a message appears. */
function watchingLogger(): Logger & {
  readonly lines: { level: LogLevel; msg: string; fields: Record<string, unknown> }[];
  next(msg: string): Promise<Record<string, unknown>>;
} {
  const lines: { level: LogLevel; msg: string; fields: Record<string, unknown> }[] = [];
  const waiters: { msg: string; resolve: (fields: Record<string, unknown>) => void }[] = [];
  return {
    lines,
    log(level, msg, fields = {}) {
      lines.push({ level, msg, fields: { ...fields } });
      for (const waiter of waiters.filter((w) => w.msg === msg)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve({ ...fields });
      }
    },
    next(msg) {
      const seen = lines.find((line) => line.msg === msg);
      if (seen !== undefined) return Promise.resolve(seen.fields);
      return new Promise((resolve) => waiters.push({ msg, resolve }));
    },
  };
}

/** Standalone mode: tells the daemon at `url` of alice's lease `dseq/1/1` of `sdl` (POST /leases, internal). */
function registerLease(url: string, dseq: string, sdl: ReturnType<typeof ipSdl>): Promise<Response> {
  return fetch(`${url}/leases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(leaseRegistration(alice, dseq, sdl)),
  });
}

describe('runProvider on 127.0.0.1', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akash-ip-daemon-'));
    unwrap(
      await importKey(join(dir, 'keys'), 'provider', Buffer.from(providerKey.privateKey).toString('hex')),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves, keeps leases across a restart on SQLite, and stops cleanly', async () => {
    const config = unwrap(
      parseConfig(
        [
          'provider: {keyring: keys, key: provider}',
          'listen: {host: 127.0.0.1, port: 0, tls: false}',
          'store: {kind: sqlite, path: data/provider.db}',
          'pools: [{name: edge, addresses: [198.51.100.0/30]}]',
          `tenants: [{address: ${alice.address}, pubkey: "${alice.pubkey}"}]`,
        ].join('\n'),
        join(dir, 'provider.yaml'),
        { defaultKeyring: join(dir, 'unused') },
      ),
    );
    const sdl = ipSdl('edge-ip');
    const token = tokenOf(alice, Date.now());
    const auth = { authorization: `Bearer ${token}` };

    const first = watchingLogger();
    const running = unwrap(await runProvider(config, { logger: first }));
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(first.lines[0]?.msg, 'listening');
    assert.equal(first.lines[0]?.fields.url, running.url);
    assert.equal(running.address, providerKey.address);
    unwrap(await running.ready);
    assert.equal((await fetch(`${running.url}/readyz`)).status, 200);

    const registered = await registerLease(running.url, '42', sdl);
    assert.equal(registered.status, 200);
    const sent = await fetch(`${running.url}/deployment/42/manifest`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(sdl.manifest),
    });
    assert.equal(sent.status, 200);
    const status = (await (await fetch(`${running.url}/lease/42/1/1/status`, { headers: auth })).json()) as {
      ips: { web: { IP: string }[] };
    };
    const address = status.ips.web[0]?.IP;
    assert.match(address ?? '', /^198\.51\.100\.[0-3]$/);
    await running.stop();
    assert.deepEqual(
      first.lines.slice(-2).map((line) => line.msg),
      ['stopping', 'stopped'],
    );
    await assert.rejects(fetch(`${running.url}/healthz`));

    const second = watchingLogger();
    const again = unwrap(await runProvider(config, { logger: second }));
    try {
      unwrap(await again.ready);
      assert.equal((await second.next('ready')).leases, 1);
      const restored = (await (
        await fetch(`${again.url}/lease/42/1/1/status`, { headers: auth })
      ).json()) as {
        ips: { web: { IP: string }[] };
      };
      assert.equal(restored.ips.web[0]?.IP, address);
    } finally {
      await again.stop();
    }
  });

  it('moves the manifests an older build kept in a separate file into the lease store on start', async () => {
    const storePath = join(dir, 'legacy/provider.db');
    const config = unwrap(
      parseConfig(
        [
          'provider: {keyring: keys, key: provider}',
          'listen: {tls: false}',
          'store: {kind: sqlite, path: legacy/provider.db}',
          'pools: [{name: edge, addresses: [198.51.100.8/30]}]',
          `tenants: [{address: ${alice.address}, pubkey: "${alice.pubkey}"}]`,
        ].join('\n'),
        join(dir, 'legacy.yaml'),
        { defaultKeyring: join(dir, 'unused') },
      ),
    );
    const sdl = ipSdl('edge-ip');
    const auth = { authorization: `Bearer ${tokenOf(alice, Date.now())}` };
    const statusOf = async (url: string) => {
      const response = await fetch(`${url}/lease/7/1/1/status`, { headers: auth });
      assert.equal(response.status, 200);
      return (await response.json()) as { services: unknown; ips: { web: { IP: string }[] } };
    };

    const first = unwrap(await runProvider(config, { logger: watchingLogger() }));
    let before: Awaited<ReturnType<typeof statusOf>>;
    try {
      unwrap(await first.ready);
      const registered = await registerLease(first.url, '7', sdl);
      assert.equal(registered.status, 200);
      const sent = await fetch(`${first.url}/deployment/7/manifest`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(sdl.manifest),
      });
      assert.equal(sent.status, 200);
      before = await statusOf(first.url);
    } finally {
      await first.stop();
    }

    // What an older build left: the addresses in the lease store, the manifest in a file beside it.
    const store = unwrap(openSqliteStore({ path: storePath }));
    const manifests = unwrap(await loadManifests(store));
    assert.equal(manifests.length, 1);
    unwrap(
      await store.commit(storeChange({ documents: manifests.map((lease) => manifestRemoval(lease.id)) })),
    );
    await store.close();
    const legacy = legacyManifestPathOf(storePath);
    writeLegacyManifestFile(legacy, manifests);

    for (const round of [1, 2]) {
      const logger = watchingLogger();
      const again = unwrap(await runProvider(config, { logger }));
      try {
        unwrap(await again.ready);
        assert.equal((await logger.next('ready')).leases, 1);
        const moved = logger.lines.find((line) => line.msg === 'manifests moved into the lease store');
        if (round === 1)
          assert.deepEqual(moved?.fields, { from: legacy, imported: 1, renamedTo: `${legacy}.migrated` });
        else assert.equal(moved, undefined);
        assert.deepEqual(await statusOf(again.url), before);
      } finally {
        await again.stop();
      }
      assert.equal(existsSync(legacy), false);
      assert.equal(existsSync(`${legacy}.migrated`), true);
    }
  });

  it('starts past a stored manifest nested too deep, leaving its lease for the tenant to send again', async () => {
    const config = unwrap(
      parseConfig(
        [
          'provider: {keyring: keys, key: provider}',
          'listen: {tls: false}',
          'store: {kind: sqlite, path: deep/provider.db}',
          'pools: [{name: edge, addresses: [198.51.100.12/30]}]',
          `tenants: [{address: ${alice.address}, pubkey: "${alice.pubkey}"}]`,
        ].join('\n'),
        join(dir, 'deep.yaml'),
        { defaultKeyring: join(dir, 'unused') },
      ),
    );
    const sdl = ipSdl('edge-ip');
    const auth = { authorization: `Bearer ${tokenOf(alice, Date.now())}` };
    // standalone: the registry of leases lives in memory, so each start is told of the lease again
    const register = (url: string) => registerLease(url, '9', sdl);
    const send = (url: string) =>
      fetch(`${url}/deployment/9/manifest`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(sdl.manifest),
      });
    const addressAt = async (url: string) => {
      const response = await fetch(`${url}/lease/9/1/1/status`, { headers: auth });
      return response.status === 200
        ? ((await response.json()) as { ips: { web: { IP: string }[] } }).ips.web[0]?.IP
        : response.status;
    };
    const first = unwrap(await runProvider(config, { logger: watchingLogger() }));
    let address: string | number | undefined;
    try {
      unwrap(await first.ready);
      assert.equal((await register(first.url)).status, 200);
      assert.equal((await send(first.url)).status, 200);
      address = await addressAt(first.url);
    } finally {
      await first.stop();
    }

    // What a build without the depth bound could have stored: the manifest with a field 10 000 levels deep.
    const store = unwrap(openSqliteStore({ path: join(dir, 'deep/provider.db') }));
    const [stored] = unwrap(await store.documents('manifest'));
    assert.ok(stored !== undefined);
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const json = stored.json.replace('"name":"web"', `"name":"web","x":${deep}`);
    unwrap(
      await store.commit(storeChange({ documents: [{ namespace: 'manifest', key: stored.key, json }] })),
    );
    await store.close();

    const logger = watchingLogger();
    const again = unwrap(await runProvider(config, { logger }));
    try {
      unwrap(await again.ready);
      const skipped = logger.lines.find(
        (line) => line.msg === 'stored manifest skipped; its tenant must send it again',
      );
      assert.equal(skipped?.fields.lease, stored.key);
      assert.equal(skipped?.fields.code, 'INPUT_TOO_DEEP');
      assert.equal(await addressAt(again.url), 404);
      // the lease kept its address: the manifest sent again finds it
      assert.equal((await register(again.url)).status, 200);
      assert.equal((await send(again.url)).status, 200);
      assert.equal(await addressAt(again.url), address);
    } finally {
      await again.stop();
    }
  });

  it('refuses to start on a store another daemon holds, naming it, before it listens', async () => {
    const config = unwrap(
      parseConfig(
        [
          'provider: {keyring: keys, key: provider}',
          'listen: {tls: false}',
          'store: {kind: sqlite, path: shared/provider.db}',
          'pools: [{name: edge, addresses: [198.51.100.16/30]}]',
        ].join('\n'),
        join(dir, 'shared.yaml'),
        { defaultKeyring: join(dir, 'unused') },
      ),
    );
    const first = unwrap(await runProvider(config, { logger: watchingLogger() }));
    try {
      unwrap(await first.ready);
      const logger = watchingLogger();
      const second = await runProvider(config, { logger });
      assert.equal(second.ok ? 'started' : second.error.code, 'STORE_LOCKED');
      assert.match(second.ok ? '' : second.error.message, new RegExp(`in use by process ${process.pid} `));
      assert.deepEqual(logger.lines, [], 'it never listened');
      assert.equal((await fetch(`${first.url}/readyz`)).status, 200, 'the holder is untouched');
    } finally {
      await first.stop();
    }
    const again = unwrap(await runProvider(config, { logger: watchingLogger() }));
    unwrap(await again.ready);
    await again.stop();
  });

  it('registers itself on a devnet ledger with its own URL', async () => {
    const ledger = unwrap(Ledger.open({ path: ':memory:' }));
    const server = await serveLedger(ledger);
    try {
      const config = unwrap(
        parseConfig(
          [
            'provider: {keyring: keys, key: provider}',
            'pools: [{name: edge, addresses: [198.51.100.4/30]}]',
            `ledger: {url: "${server.url}", pollIntervalMs: 20}`,
          ].join('\n'),
          join(dir, 'devnet.yaml'),
          { defaultKeyring: join(dir, 'unused') },
        ),
      );
      const logger = watchingLogger();
      const running = unwrap(await runProvider(config, { logger }));
      try {
        const registered = await logger.next('registered on the ledger');
        assert.equal(registered.hostUri, running.url);
        assert.match(running.url, /^https:\/\/127\.0\.0\.1:/, 'HTTPS unless told otherwise');
        const published = await logger.next('gateway certificate published');
        const certificates = unwrap(ledger.listCertificates({ owner: providerKey.address, state: 'valid' }));
        assert.deepEqual(
          certificates.map((cert) => cert.serial),
          [published.serial],
        );
        const cert = new X509Certificate(readFileSync(join(dir, 'provider-cert.pem')));
        assert.equal(cert.subject, `CN=${providerKey.address}`);
        assert.equal(
          cert.serialNumber,
          BigInt(String(published.serial)).toString(16).toUpperCase().padStart(cert.serialNumber.length, '0'),
        );
        assert.equal(statSync(join(dir, 'provider-key.pem')).mode & 0o777, 0o600);
        // the same certificate is served, over TLS 1.3 only
        const served = await new Promise<{ serial: string; protocol: string | null }>((resolve, reject) => {
          const socket = tlsConnect(
            { host: '127.0.0.1', port: Number(new URL(running.url).port), rejectUnauthorized: false },
            () => {
              resolve({
                serial: socket.getPeerX509Certificate()?.serialNumber ?? '',
                protocol: socket.getProtocol(),
              });
              socket.end();
            },
          );
          socket.on('error', reject);
        });
        assert.deepEqual(served, { serial: cert.serialNumber, protocol: 'TLSv1.3' });
        const old = await new Promise<string>((resolve) => {
          const socket = tlsConnect({
            host: '127.0.0.1',
            port: Number(new URL(running.url).port),
            rejectUnauthorized: false,
            maxVersion: 'TLSv1.2',
          });
          socket.on('secureConnect', () => resolve('connected'));
          socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'refused'));
        });
        assert.notEqual(old, 'connected', 'TLS 1.2 is refused');
        const onLedger = unwrap(ledger.getProvider(providerKey.address));
        assert.equal(onLedger.hostUri, running.url);
        assert.deepEqual(onLedger.attributes, [{ key: 'ip-lease', value: 'true' }]);
      } finally {
        await running.stop();
      }
    } finally {
      await server.close();
      ledger.close();
    }
  });

  it('refuses to start without its key', async () => {
    const config = unwrap(
      parseConfig('provider: {keyring: keys, key: missing}\n', join(dir, 'x.yaml'), { defaultKeyring: dir }),
    );
    const started = await runProvider(config, { logger: watchingLogger() });
    assert.ok(!started.ok);
    assert.equal(started.error.code, 'NOT_FOUND');
  });
});
