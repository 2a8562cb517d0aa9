/**
 * End to end over HTTPS on 127.0.0.1: a provider daemon with its default transport (TLS 1.3, its certificate
 * published on a devnet ledger), the tenant CLI talking to it by URL with a JWT and with mTLS, refusals of
 * revoked, expired and foreign certificates, a server with the wrong CN refused before anything is sent, the new
 * routes, and a uint64 dseq above 2^53 through migrate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { account, tokenOf, unwrap } from '../daemon/fixtures.js';
import { parseConfig, runProvider } from '../daemon/index.js';
import type { Logger } from '../daemon/logger.js';
import { importKey } from '../identity/index.js';
import { Ledger, type LedgerServer, serveLedger } from '../market/index.js';
import { groupSpec, IP_LEASE } from '../market/testing.js';
import { parseSdl, type Sdl } from '../sdl/index.js';
import { resolvePaths } from '../tenant/home.js';
import { createAccountCertificate } from '../x509/index.js';
import { certificateFileOf } from './gateway.js';
import { runCaptured } from './testing.js';

const tenant = account(0x7e4a47);
const mallory = account(0x3a11);
const provider = account(0x9a0b1);
const BIG_DSEQ = '18446744073709551615';

/** A logger whose lines can be waited for. */
function watchingLogger(): Logger & {
  until(match: (msg: string) => boolean): Promise<Record<string, unknown>>;
} {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const waiters: { match: (msg: string) => boolean; resolve: (fields: Record<string, unknown>) => void }[] =
    [];
  return {
    log(_level, msg, fields = {}) {
      lines.push({ msg, fields });
      for (const waiter of waiters.filter((w) => w.match(msg))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(fields);
      }
    },
    until(match) {
      const seen = lines.find((line) => match(line.msg));
      if (seen !== undefined) return Promise.resolve(seen.fields);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

describe('the tenant CLI against a provider over HTTPS', () => {
  let dir: string;
  let home: string;
  let ledger: Ledger;
  let ledgerServer: LedgerServer;
  let url: string;
  let logger: ReturnType<typeof watchingLogger>;
  let stop: () => Promise<void>;
  let sdlFile: string;
  let sdl: Sdl;
  let dseq: string;

  /** `akash-ip --home <home> [--ledger] <args>`; JSON output parsed when it succeeded. */
  const cli = async (args: readonly string[], options: { ledger?: boolean } = {}) => {
    const ran = await runCaptured([
      '--home',
      home,
      ...(options.ledger === false ? [] : ['--ledger', ledgerServer.url]),
      ...args,
    ]);
    return {
      ...ran,
      json: ran.code === 0 && ran.stdout !== '' ? (JSON.parse(ran.stdout) as unknown) : undefined,
    };
  };
  const gateway = (...extra: string[]) => ['--provider-url', url, '--provider', provider.address, ...extra];

  /** Creates a deployment of `sdl` (optionally at `at`) and the lease on our provider once it has bid. */
  const lease = async (at?: string): Promise<string> => {
    const created = unwrap(
      ledger.createDeployment({
        owner: tenant.address,
        groups: sdl.groups,
        hash: sdl.manifestVersion,
        deposit: { denom: 'uakt', amount: '5000000' },
        ...(at === undefined ? {} : { dseq: at }),
      }),
    );
    const order = created.orders[0];
    assert.ok(order !== undefined);
    const id = created.deployment.id.dseq;
    await logger.until((msg) =>
      msg.startsWith(`provider ${provider.address} bid on order ${tenant.address}/${id}/`),
    );
    unwrap(ledger.createLease({ ...order.id, provider: provider.address }));
    return id;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akash-ip-https-'));
    home = join(dir, 'home');
    for (const [name, who] of [
      ['tenant', tenant],
      ['mallory', mallory],
    ] as const) {
      unwrap(await importKey(join(home, 'keys'), name, Buffer.from(who.privateKey).toString('hex')));
    }
    unwrap(
      await importKey(
        join(dir, 'provider-keys'),
        'provider',
        Buffer.from(provider.privateKey).toString('hex'),
      ),
    );
    ledger = unwrap(Ledger.open({ path: ':memory:' }));
    for (const who of [tenant, mallory, provider]) {
      unwrap(
        ledger.fundAccount({
          address: who.address,
          amount: { denom: 'uakt', amount: '100000000' },
          pubkey: who.pubkey,
        }),
      );
    }
    ledgerServer = await serveLedger(ledger);
    const config = unwrap(
      parseConfig(
        [
          'provider: {keyring: provider-keys, key: provider}',
          // no cache of ledger answers about client certificates: a revocation is seen on the next request
          'listen: {host: 127.0.0.1, port: 0, tls: {clientCertCacheMs: 0}}',
          'pools: [{name: edge, addresses: [198.51.100.0/29]}]',
          `ledger: {url: "${ledgerServer.url}", pollIntervalMs: 20}`,
        ].join('\n'),
        join(dir, 'provider.yaml'),
        { defaultKeyring: join(dir, 'unused') },
      ),
    );
    logger = watchingLogger();
    const running = unwrap(await runProvider(config, { logger }));
    url = running.url;
    stop = running.stop;
    unwrap(await running.ready);
    await logger.until((msg) => msg === 'gateway certificate published');
    sdlFile = join(dir, 'ip-lease.yaml');
    writeFileSync(sdlFile, readFileSync('examples/ip-lease.yaml'));
    const parsed = parseSdl(readFileSync(sdlFile, 'utf8'));
    assert.ok(parsed.ok);
    sdl = parsed.value;
    dseq = await lease();
  });
  after(async () => {
    await stop?.();
    await ledgerServer?.close();
    ledger?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS, and the CLI sends the manifest and reads the lease back with a JWT', async () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const sent = await cli(['send-manifest', sdlFile, '--dseq', dseq, ...gateway('-o', 'json')]);
    assert.equal(sent.code, 0, sent.stderr);
    const status = await cli(['lease-status', '--dseq', dseq, ...gateway('-o', 'json')]);
    assert.equal(status.code, 0, status.stderr);
    const ips = (status.json as { ips: Record<string, { IP: string }[]> }).ips;
    assert.match(ips.web?.[0]?.IP ?? '', /^198\.51\.100\./);
    const manifest = await cli(['get-manifest', '--dseq', dseq, ...gateway('-o', 'json')]);
    assert.equal(manifest.code, 0, manifest.stderr);
    assert.deepEqual(
      (manifest.json as { name: string }[]).map((group) => group.name),
      sdl.manifest.map((group) => group.name),
    );
    const service = await cli(['service-status', 'web', '--dseq', dseq, ...gateway('-o', 'json')]);
    assert.equal(service.code, 0, service.stderr);
    assert.equal((service.json as { name: string; ready_replicas: number }).ready_replicas, 1);
    const missing = await cli(['service-status', 'db', '--dseq', dseq, ...gateway('-o', 'json')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /SERVICE_NOT_FOUND/);
  });

  it('authenticates with a published client certificate (mTLS, no token), refuses it once revoked or expired', async () => {
    const created = await cli(['cert', 'create', 'client', '-o', 'json']);
    assert.equal(created.code, 0, created.stderr);
    const { serial } = created.json as { serial: string };
    const listed = await cli(['cert', 'list', '--state', 'valid', '-o', 'json']);
    assert.deepEqual(
      (listed.json as { serial: string }[]).map((cert) => cert.serial),
      [serial],
    );
    const mtls = await cli(['lease-status', '--dseq', dseq, ...gateway('--auth-type', 'mtls', '-o', 'json')]);
    assert.equal(mtls.code, 0, mtls.stderr);

    const revoked = await cli(['cert', 'revoke', '-o', 'json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await cli(['lease-status', '--dseq', dseq, ...gateway('--auth-type', 'mtls')]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /UNAUTHENTICATED/);
    assert.match(refused.stderr, /no valid certificate with serial/);

    // published, but past its notAfter
    const expired = unwrap(
      createAccountCertificate({
        address: tenant.address,
        kind: 'client',
        notBefore: new Date(Date.now() - 7_200_000),
        notAfter: new Date(Date.now() - 3_600_000),
      }),
    );
    unwrap(ledger.createCertificate({ owner: tenant.address, cert: expired.cert, pubkey: expired.pubkey }));
    writeFileSync(
      certificateFileOf(resolvePaths({ home }, {}, dir), tenant.address),
      expired.cert + expired.key,
    );
    const late = await cli(['lease-status', '--dseq', dseq, ...gateway('--auth-type', 'mtls')]);
    assert.equal(late.code, 5);
    assert.match(late.stderr, /expired/);
  });

  it('refuses another owner’s certificate for this owner’s lease', async () => {
    const created = await cli(['--from', 'mallory', 'cert', 'create', 'client', '-o', 'json']);
    assert.equal(created.code, 0, created.stderr);
    const foreign = await cli([
      '--from',
      'mallory',
      'lease-status',
      '--dseq',
      dseq,
      ...gateway('--auth-type', 'mtls'),
    ]);
    assert.equal(foreign.code, 5);
    assert.match(foreign.stderr, /FORBIDDEN/);
  });

  it('refuses a server whose certificate names another address, sending it nothing', async () => {
    const impostor = unwrap(
      createAccountCertificate({
        address: mallory.address,
        kind: 'server',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        hosts: ['127.0.0.1'],
      }),
    );
    let requests = 0;
    const server = createServer(
      { cert: impostor.cert, key: impostor.key, minVersion: 'TLSv1.3' },
      (_req, res) => {
        requests++;
        res.end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const refused = await cli([
        'lease-status',
        '--dseq',
        dseq,
        '--provider-url',
        `https://127.0.0.1:${port}`,
        '--provider',
        provider.address,
      ]);
      assert.equal(refused.code, 5);
      assert.match(refused.stderr, /PROVIDER_UNTRUSTED/);
      assert.match(refused.stderr, new RegExp(`names ${mallory.address}, not provider ${provider.address}`));
      assert.equal(requests, 0, 'no request (and no token) reached the impostor');
    } finally {
      server.close();
    }
  });

  it('trusts a pinned certificate when there is no ledger, and refuses a self-signed one without any anchor', async () => {
    const pinned = join(dir, 'provider-cert.pem');
    const noLedger = await cli(['lease-status', '--dseq', dseq, ...gateway()], { ledger: false });
    assert.equal(noLedger.code, 5);
    assert.match(noLedger.stderr, /--provider-cert/);
    const withPin = await cli(
      ['lease-status', '--dseq', dseq, ...gateway('--provider-cert', pinned, '-o', 'json')],
      {
        ledger: false,
      },
    );
    assert.equal(withPin.code, 0, withPin.stderr);
  });

  it('answers /validate with the IP gate’s verdict and counts', async () => {
    const token = tokenOf(tenant, Date.now());
    const ask = async (ips: number[]) => {
      const body = JSON.stringify(groupSpec({ attributes: [IP_LEASE], units: [{ ips }] }));
      const target = new URL('/validate', url);
      const { request } = await import('node:https');
      return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const req = request(
          target,
          {
            method: 'GET',
            rejectUnauthorized: false,
            // as Go's client sends it: a GET with a JSON body of known length
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json; charset=UTF-8',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += String(chunk);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    };
    const fits = await ask([1]);
    assert.equal(fits.status, 200, JSON.stringify(fits.body));
    assert.equal(fits.body.passed, true);
    const tooMany = await ask([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(tooMany.status, 200);
    assert.equal(tooMany.body.passed, false);
    assert.match(
      String((tooMany.body.reasons as string[])[0]),
      /^INSUFFICIENT_IPS: the group needs 9 leased IP\(s\), \d+ available/,
    );
  });

  it('moves an endpoint to a deployment whose dseq is above 2^53, sent as a JSON number', async () => {
    const destination = await lease(BIG_DSEQ);
    const sent = await cli(['send-manifest', sdlFile, '--dseq', destination, ...gateway('-o', 'json')]);
    assert.equal(sent.code, 0, sent.stderr);
    const moved = await cli([
      'migrate-endpoints',
      'myendpoint',
      '--dseq',
      destination,
      ...gateway('-o', 'json'),
    ]);
    assert.equal(moved.code, 0, moved.stderr);
    const status = await cli(['lease-status', '--dseq', destination, ...gateway('-o', 'json')]);
    assert.equal(
      (status.json as { ip_endpoints: Record<string, { state: string }> }).ip_endpoints.myendpoint?.state,
      'active',
    );
    const again = await cli([
      'migrate-endpoints',
      'myendpoint',
      '--dseq',
      destination,
      ...gateway('-o', 'json'),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /"transferred": \[\]/);
  });
});
