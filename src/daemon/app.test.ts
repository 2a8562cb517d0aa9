import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { LeaseId } from '../lease/index.js';
import { parseSdl } from '../sdl/index.js';
import { openSqliteStore } from '../store/index.js';
import type { LeasePodsReport } from '../webhook/index.js';
import { createProviderApp } from './app.js';
import { TokenVerifier } from './auth.js';
import { StaticChain } from './chain.js';
import { FailureLimiter } from './failure-limit.js';
import { createMetrics } from './metrics.js';
import { Readiness } from './readiness.js';
import type { ProviderService } from './service.js';
import { account, bidOn, createHarness, exposeSdl, type Harness, ipSdl, tokenOf, unwrap } from './testing.js';

const alice = account(0xa11ce);
const bob = account(0xb0b);
const carol = account(0xca201);
const dave = account(0xda7e);

interface LeaseStatusBody {
  services: Record<string, { name: string; available: number; total: number; ready_replicas: number }>;
  forwarded_ports: Record<string, unknown>;
  ips: Record<string, { Port: number; ExternalPort: number; Protocol: string; IP: string }[]> | null;
  ip_endpoints: Record<
    string,
    { state: string; addresses: string[]; reason?: string; held_by?: { dseq: string } }
  >;
}

interface ManifestReply {
  version: string;
  leases: { action: string; withheld: { endpoint: string; state: string; reason: string }[] }[];
}

async function json<T>(response: Response): Promise<T> {
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  return (await response.json()) as T;
}

async function expectError(response: Response, status: number, code: string): Promise<string> {
  assert.equal(response.status, status);
  const body = await json<{ error: string; code: string }>(response);
  assert.equal(body.code, code, body.error);
  return body.error;
}

describe('provider daemon with a ledger', () => {
  let h: Harness;
  let token: string;

  before(async () => {
    h = await createHarness({ adminToken: 'an-admin-token-of-some-length' });
    h.fund(alice);
    h.fund(bob);
    token = tokenOf(alice, h.clock.now);
  });
  after(() => h.close());

  const statusOf = async (dseq: string, who = token): Promise<LeaseStatusBody> => {
    const response = await h.request('GET', `/lease/${dseq}/1/1/status`, { token: who });
    assert.equal(response.status, 200);
    return json<LeaseStatusBody>(response);
  };
  const deploy = async (sdl = ipSdl('web-ip')): Promise<{ dseq: string; reply: ManifestReply }> => {
    const { dseq } = h.lease(alice, sdl);
    const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: sdl.manifest });
    assert.equal(sent.status, 200);
    return { dseq, reply: await json<ManifestReply>(sent) };
  };
  const ipOf = async (dseq: string): Promise<string | undefined> => (await statusOf(dseq)).ips?.web?.[0]?.IP;

  describe('manifests and lease status', () => {
    it('deploys a manifest and reports its IP in lease-status, Akash-shaped', async () => {
      const sdl = ipSdl('first-ip');
      const { dseq, reply } = await deploy(sdl);
      assert.equal(reply.version, sdl.manifestVersion);
      assert.equal(reply.leases[0]?.action, 'deployed');
      assert.deepEqual(reply.leases[0]?.withheld, []);

      const status = await statusOf(dseq);
      assert.equal(status.services.web?.available, 2);
      assert.equal(status.services.web?.ready_replicas, 2);
      assert.deepEqual(status.forwarded_ports, {});
      const entries = status.ips?.web ?? [];
      assert.equal(entries.length, 1);
      assert.deepEqual(Object.keys(entries[0] ?? {}), ['Port', 'ExternalPort', 'Protocol', 'IP']);
      assert.equal(entries[0]?.Port, 80);
      assert.equal(entries[0]?.Protocol, 'TCP');
      assert.match(entries[0]?.IP ?? '', /^203\.0\.113\.([0-9]|1[0-5])$/);
      assert.equal(status.ip_endpoints['first-ip']?.state, 'active');
    });

    it('reports `ips: null` for a lease without IP endpoints', async () => {
      const parsed = parseSdl(
        [
          'version: "2.0"',
          'services:',
          '  web:',
          '    image: nginx',
          '    expose:',
          '      - port: 80',
          '        to: [{global: true}]',
          'profiles:',
          '  compute:',
          '    web: {resources: {cpu: {units: 0.5}, memory: {size: 512Mi}, storage: {size: 1Gi}}}',
          '  placement:',
          '    dcloud: {pricing: {web: {denom: uakt, amount: 1000}}}',
          'deployment:',
          '  web:',
          '    dcloud: {profile: web, count: 1}',
        ].join('\n'),
      );
      assert.ok(parsed.ok);
      const { dseq } = await deploy(parsed.value);
      const status = await statusOf(dseq);
      assert.equal(status.ips, null);
      assert.deepEqual(status.ip_endpoints, {});
      assert.equal(status.services.web?.total, 1);
    });

    it('adds ip_env after the lease-status bytes when the webhook is configured', async () => {
      const { dseq } = await deploy(ipSdl('env-ip'));
      const plain = await (await h.request('GET', `/lease/${dseq}/1/1/status`, { token })).text();
      const asked: LeaseId[] = [];
      const report: LeasePodsReport = {
        current: false,
        pods: [
          { pod: 'web-1', service: 'web', state: 'missing', missing: ['AKASH_LEASED_IPS'], differing: [] },
        ],
      };
      let answer: Result<LeasePodsReport> = ok(report);
      const pods = async (id: LeaseId) => {
        asked.push(id);
        return answer;
      };
      const app = createProviderApp({
        service: () => h.service,
        readiness: h.readiness,
        verifier: h.verifier,
        metrics: h.metrics,
        maxBodyBytes: 1024,
        webhook: () => ({ pods }),
      });
      const get = async () => {
        const response = await app.request(`/lease/${dseq}/1/1/status`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(response.status, 200);
        return response.text();
      };
      assert.equal(await get(), `${plain.slice(0, -1)},"ip_env":${JSON.stringify(report)}}`);
      assert.deepEqual(asked, [
        { owner: alice.address, dseq, gseq: 1, oseq: 1, provider: h.provider.address },
      ]);
      answer = fail(appError('K8S_UNAVAILABLE', 'the apiserver did not answer'));
      assert.deepEqual(JSON.parse(await get()).ip_env, {
        current: null,
        code: 'K8S_UNAVAILABLE',
        error: 'the apiserver did not answer',
      });
      // Another owner's lease is refused before the cluster is asked.
      const other = await app.request(`/lease/${dseq}/1/1/status`, {
        headers: { authorization: `Bearer ${tokenOf(bob, h.clock.now)}` },
      });
      assert.equal(other.status, 403);
      assert.equal(asked.length, 2);
    });

    it('keeps the address across an update, and applies the new target port (Go F3)', async () => {
      const { dseq } = await deploy(ipSdl('kept-ip'));
      const before = await ipOf(dseq);
      // a deployment update changes only the hash on chain, so the group's endpoints stay as ordered
      const updated = ipSdl('kept-ip', [[8080, 80]]);
      unwrap(
        h.ledger.updateDeployment({ id: { owner: alice.address, dseq }, hash: updated.manifestVersion }),
      );
      const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: updated.manifest });
      assert.equal(sent.status, 200);
      assert.equal((await json<ManifestReply>(sent)).leases[0]?.action, 'updated');
      const entries = (await statusOf(dseq)).ips?.web ?? [];
      assert.deepEqual(
        entries.map((entry) => [entry.Port, entry.ExternalPort, entry.IP]),
        [[8080, 80, before]],
      );
    });

    it('refuses an update whose IP endpoints differ from what the group ordered', async () => {
      const { dseq } = await deploy(ipSdl('shape-ip'));
      const wider = ipSdl('shape-ip', [
        [80, 80],
        [8443, 443],
      ]);
      unwrap(h.ledger.updateDeployment({ id: { owner: alice.address, dseq }, hash: wider.manifestVersion }));
      const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: wider.manifest });
      await expectError(sent, 422, 'MANIFEST_MISMATCH');
    });

    it('refuses a manifest whose version is not the deployment hash', async () => {
      const { dseq } = h.lease(alice, ipSdl('hash-ip'));
      const other = ipSdl('hash-ip', [[81, 81]]);
      const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: other.manifest });
      const message = await expectError(sent, 422, 'MANIFEST_MISMATCH');
      assert.match(message, new RegExp(other.manifestVersion));
    });

    it('refuses bodies that are not manifests, and deployments without a lease here', async () => {
      const { dseq } = h.lease(alice, ipSdl('body-ip'));
      await expectError(
        await h.request('PUT', `/deployment/${dseq}/manifest`, { token, raw: '{not json' }),
        400,
        'INVALID_INPUT',
      );
      await expectError(
        await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: [{ name: 'x' }] }),
        400,
        'INVALID_INPUT',
      );
      await expectError(
        await h.request('PUT', '/deployment/987654/manifest', { token, body: ipSdl('body-ip').manifest }),
        404,
        'LEASE_NOT_FOUND',
      );
      await expectError(
        await h.request('PUT', '/deployment/0x1/manifest', { token, body: ipSdl('body-ip').manifest }),
        400,
        'INVALID_INPUT',
      );
    });

    it('refuses a body over the size limit', async () => {
      const sent = await h.request('PUT', '/deployment/1/manifest', {
        token,
        raw: 'x'.repeat((1 << 20) + 1),
      });
      await expectError(sent, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses a deeply nested body with a code, before parsing, lease or not (was a 500 stack overflow)', async () => {
      const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const withExtra = (extra: string) =>
        JSON.stringify(ipSdl('deep-ip').manifest).replace('"name":"web"', `"name":"web","x":${extra}`);
      // ~10 KB: an account with no lease anywhere used to get 500 "Maximum call stack size exceeded"
      const deep = withExtra(nested(4000));
      for (const dseq of ['987655', h.lease(alice, ipSdl('deep-ip')).dseq]) {
        const message = await expectError(
          await h.request('PUT', `/deployment/${dseq}/manifest`, { token, raw: deep }),
          400,
          'INPUT_TOO_DEEP',
        );
        assert.doesNotMatch(message, /stack/);
      }
      await expectError(
        await h.request('POST', '/endpoint/migrate', { token, raw: nested(100) }),
        400,
        'INPUT_TOO_DEEP',
      );
      // a manifest's own nesting, with unknown fields a newer tool may add, stays well inside the bound
      const { dseq } = h.lease(alice, ipSdl('deep-ip'));
      const shallow = withExtra(nested(40));
      assert.equal(
        (await h.request('PUT', `/deployment/${dseq}/manifest`, { token, raw: shallow })).status,
        422,
      );
    });

    it('lists the caller’s own leases only', async () => {
      const mine = await json<{ id: { owner: string } }[]>(await h.request('GET', '/leases', { token }));
      assert.ok(mine.length > 0);
      assert.ok(mine.every((lease) => lease.id.owner === alice.address));
      const theirs = await h.request('GET', '/leases', { token: tokenOf(bob, h.clock.now) });
      assert.deepEqual(await json<unknown[]>(theirs), []);
    });
  });

  describe('withheld endpoints and migration', () => {
    let source: string;
    let destination: string;
    let address: string | undefined;

    it('withholds a name another deployment of the owner holds, with the reason beside `ips`', async () => {
      source = (await deploy(ipSdl('moving-ip'))).dseq;
      address = await ipOf(source);
      const second = await deploy(ipSdl('moving-ip'));
      destination = second.dseq;
      const withheld = second.reply.leases[0]?.withheld ?? [];
      assert.equal(withheld[0]?.endpoint, 'moving-ip');
      assert.equal(withheld[0]?.state, 'withheld');
      assert.match(withheld[0]?.reason ?? '', new RegExp(`deployment ${source}`));

      const status = await statusOf(destination);
      assert.deepEqual(status.ips, {});
      assert.equal(status.services.web?.available, 2);
      const endpoint = status.ip_endpoints['moving-ip'];
      assert.equal(endpoint?.state, 'withheld');
      assert.equal(endpoint?.held_by?.dseq, source);
    });

    const migrate = (
      body: unknown,
      who = tokenOf(alice, h.clock.now, { leases: { access: 'scoped', scope: ['ip-migrate'] } }),
    ) => h.request('POST', '/endpoint/migrate', { token: who, body });

    it('answers Go’s statuses for bad migration requests, as JSON', async () => {
      await expectError(
        await h.request('POST', '/endpoint/migrate', { token, raw: 'nope' }),
        422,
        'MIGRATION_INVALID',
      );
      await expectError(await migrate({ endpoints_to_migrate: ['moving-ip'] }), 422, 'MIGRATION_INVALID');
      await expectError(
        await migrate({
          endpoints_to_migrate: [],
          destination_dseq: Number(destination),
          destination_gseq: 1,
        }),
        400,
        'INVALID_INPUT',
      );
      const inactive = await migrate({
        endpoints_to_migrate: ['moving-ip'],
        destination_dseq: 999_999,
        destination_gseq: 1,
      });
      assert.match(
        await expectError(inactive, 400, 'INVALID_INPUT'),
        /destination deployment does not exist/,
      );
      const unknown = await migrate({
        endpoints_to_migrate: ['other-ip'],
        destination_dseq: Number(destination),
        destination_gseq: 1,
      });
      assert.match(
        await expectError(unknown, 400, 'INVALID_INPUT'),
        /"other-ip" does not exist in the destination/,
      );
    });

    it('requires the ip-migrate scope', async () => {
      const body = {
        endpoints_to_migrate: ['moving-ip'],
        destination_dseq: Number(destination),
        destination_gseq: 1,
      };
      const statusOnly = tokenOf(alice, h.clock.now, { leases: { access: 'scoped', scope: ['status'] } });
      await expectError(await migrate(body, statusOnly), 403, 'FORBIDDEN');
    });

    it('plans a dry run without moving anything', async () => {
      const dry = await migrate({
        endpoints_to_migrate: ['moving-ip'],
        destination_dseq: destination,
        destination_gseq: 1,
        dry_run: true,
      });
      assert.equal(dry.status, 200);
      const plan = await json<{ transferred: string[]; dry_run: boolean; moves: { addresses: string[] }[] }>(
        dry,
      );
      assert.deepEqual(plan.transferred, []);
      assert.equal(plan.dry_run, true);
      assert.deepEqual(plan.moves[0]?.addresses, [address]);
      assert.equal((await statusOf(destination)).ip_endpoints['moving-ip']?.state, 'withheld');
    });

    it('moves the named endpoint with its address', async () => {
      const moved = await migrate({
        endpoints_to_migrate: ['moving-ip'],
        destination_dseq: Number(destination),
        destination_gseq: 1,
      });
      assert.equal(moved.status, 200);
      assert.deepEqual((await json<{ transferred: string[] }>(moved)).transferred, ['moving-ip']);
      assert.equal(await ipOf(destination), address);
      const old = await statusOf(source);
      assert.deepEqual(old.ips, {});
      assert.equal(old.ip_endpoints['moving-ip']?.state, 'withheld');
    });
    it('lists in `transferred` only what moved: the same migration again transfers nothing', async () => {
      const again = await migrate({
        endpoints_to_migrate: ['moving-ip'],
        destination_dseq: Number(destination),
        destination_gseq: 1,
      });
      assert.equal(again.status, 200);
      const reply = await json<{ transferred: string[]; unchanged: string[] }>(again);
      assert.deepEqual(reply.transferred, []);
      assert.deepEqual(reply.unchanged, ['moving-ip']);
    });

    it('takes a uint64 destination_dseq above 2^53 sent as a JSON number, exactly', async () => {
      // dave's own deployments: the largest dseq leaves an owner no automatic one after it
      h.fund(dave);
      const daveToken = tokenOf(dave, h.clock.now);
      const big = '18446744073709551615';
      const sdl = ipSdl('far-ip');
      const from = h.lease(dave, sdl).dseq;
      h.lease(dave, sdl, big);
      for (const dseq of [from, big]) {
        const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, {
          token: daveToken,
          body: sdl.manifest,
        });
        assert.equal(sent.status, 200);
      }
      const moved = await h.request('POST', '/endpoint/migrate', {
        token: daveToken,
        // as Go's encoding/json writes a uint64: a bare number JavaScript could not hold
        raw: `{"endpoints_to_migrate":["far-ip"],"destination_dseq":${big},"destination_gseq":1}`,
      });
      assert.equal(moved.status, 200);
      const reply = await json<{ transferred: string[]; moves: { to: { dseq: string } }[] }>(moved);
      assert.deepEqual(reply.transferred, ['far-ip']);
      assert.equal(reply.moves[0]?.to.dseq, big);
      assert.equal((await statusOf(big, daveToken)).ip_endpoints['far-ip']?.state, 'active');
      assert.equal((await statusOf(from, daveToken)).ip_endpoints['far-ip']?.state, 'withheld');
      // one past uint64 is refused, not rounded
      const over = await h.request('POST', '/endpoint/migrate', {
        token: daveToken,
        raw: '{"endpoints_to_migrate":["far-ip"],"destination_dseq":18446744073709551616,"destination_gseq":1}',
      });
      await expectError(over, 422, 'MIGRATION_INVALID');
    });

    it('moves only the endpoints it is asked for (Go F10 moved them all)', async () => {
      const pair = exposeSdl([
        { port: 80, as: 80, ip: 'pair-a' },
        { port: 443, as: 443, ip: 'pair-b' },
      ]);
      const from = (await deploy(pair)).dseq;
      const to = (await deploy(pair)).dseq;
      const before = await statusOf(from);
      const moved = await migrate({
        endpoints_to_migrate: ['pair-a'],
        destination_dseq: Number(to),
        destination_gseq: 1,
      });
      assert.equal(moved.status, 200);
      const after = await statusOf(to);
      assert.equal(after.ip_endpoints['pair-a']?.state, 'active');
      assert.deepEqual(after.ip_endpoints['pair-a']?.addresses, before.ip_endpoints['pair-a']?.addresses);
      assert.equal(after.ip_endpoints['pair-b']?.state, 'withheld');
      assert.equal((await statusOf(from)).ip_endpoints['pair-b']?.state, 'active');
    });
  });

  describe("Akash's read routes: manifest, service status, version", () => {
    let dseq: string;
    let sdl: ReturnType<typeof ipSdl>;
    before(async () => {
      sdl = ipSdl('read-ip');
      dseq = (await deploy(sdl)).dseq;
    });

    it('returns the deployed group as Go’s manifest (a list of groups), with scope get-manifest', async () => {
      const got = await h.request('GET', `/lease/${dseq}/1/1/manifest`, { token });
      assert.equal(got.status, 200);
      assert.deepEqual(await json(got), JSON.parse(JSON.stringify(sdl.manifest)));
      const statusOnly = tokenOf(alice, h.clock.now, { leases: { access: 'scoped', scope: ['status'] } });
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/manifest`, { token: statusOnly }),
        403,
        'FORBIDDEN',
      );
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/manifest`, { token: tokenOf(bob, h.clock.now) }),
        403,
        'FORBIDDEN',
      );
      await expectError(await h.request('GET', `/lease/${dseq}/1/1/manifest`), 401, 'UNAUTHENTICATED');
      await expectError(
        await h.request('GET', `/lease/99999/1/1/manifest`, { token }),
        404,
        'LEASE_NOT_FOUND',
      );
    });

    it('answers one service’s status in chain-sdk’s ServiceStatus shape', async () => {
      const got = await h.request('GET', `/lease/${dseq}/1/1/service/web/status`, { token });
      assert.equal(got.status, 200);
      assert.deepEqual(await json(got), {
        name: 'web',
        available: 2,
        total: 2,
        uris: [],
        observed_generation: 1,
        replicas: 2,
        updated_replicas: 2,
        ready_replicas: 2,
        available_replicas: 2,
      });
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/service/nope/status`, { token }),
        404,
        'SERVICE_NOT_FOUND',
      );
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/service/web/status`, { token: tokenOf(bob, h.clock.now) }),
        403,
        'FORBIDDEN',
      );
    });

    it('answers /version without a token, in Go’s versionInfo shape', async () => {
      const got = await h.request('GET', '/version');
      assert.equal(got.status, 200);
      const body = await json<{ akash: Record<string, unknown>; kube: unknown }>(got);
      assert.deepEqual(Object.keys(body.akash).sort(), [
        'build_deps',
        'build_tags',
        'commit',
        'cosmos_sdk_version',
        'go',
        'name',
        'server_name',
        'version',
      ]);
      assert.equal(body.akash.name, 'akash-ip');
      assert.equal(body.kube, null);
    });
  });

  describe('authentication and authorisation', () => {
    let dseq: string;
    before(async () => {
      dseq = (await deploy(ipSdl('guarded-ip'))).dseq;
    });

    it('needs a valid bearer token', async () => {
      const path = `/lease/${dseq}/1/1/status`;
      await expectError(await h.request('GET', path), 401, 'UNAUTHENTICATED');
      await expectError(await h.request('GET', path, { token: 'not.a.jwt' }), 401, 'UNAUTHENTICATED');
      const basic = await h.app.request(path, { headers: { authorization: 'Basic YWxpY2U6cHc=' } });
      await expectError(basic, 401, 'UNAUTHENTICATED');
      const forged = tokenOf(alice, h.clock.now).slice(0, -4) + 'AAAA';
      await expectError(await h.request('GET', path, { token: forged }), 401, 'UNAUTHENTICATED');
      await expectError(
        await h.request('GET', path, { token: tokenOf(carol, h.clock.now) }),
        401,
        'UNAUTHENTICATED',
      );
    });

    it('refuses an expired token, also once it was cached', async () => {
      const path = `/lease/${dseq}/1/1/status`;
      const short = tokenOf(alice, h.clock.now, { ttlSeconds: 60 });
      assert.equal((await h.request('GET', path, { token: short })).status, 200);
      h.clock.now += 120_000;
      try {
        const message = await expectError(
          await h.request('GET', path, { token: short }),
          401,
          'UNAUTHENTICATED',
        );
        assert.match(message, /expired/);
        const stale = tokenOf(alice, h.clock.now - 3_600_000, { ttlSeconds: 60 });
        await expectError(await h.request('GET', path, { token: stale }), 401, 'UNAUTHENTICATED');
      } finally {
        h.clock.now -= 120_000;
      }
    });

    it('never lets another owner read or change a lease', async () => {
      const bobs = tokenOf(bob, h.clock.now);
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/status`, { token: bobs }),
        403,
        'FORBIDDEN',
      );
      const manifest = ipSdl('guarded-ip').manifest;
      await expectError(
        await h.request('PUT', `/deployment/${dseq}/manifest`, { token: bobs, body: manifest }),
        403,
        'FORBIDDEN',
      );
      const migrate = await h.request('POST', '/endpoint/migrate', {
        token: bobs,
        body: { endpoints_to_migrate: ['guarded-ip'], destination_dseq: Number(dseq), destination_gseq: 1 },
      });
      await expectError(migrate, 403, 'FORBIDDEN');
      await expectError(await h.request('DELETE', `/lease/${dseq}/1/1`, { token: bobs }), 403, 'FORBIDDEN');
      assert.equal((await statusOf(dseq)).ip_endpoints['guarded-ip']?.state, 'active');
    });

    it('checks the scope each route needs', async () => {
      const scoped = (scope: ('status' | 'send-manifest' | 'ip-migrate')[]) =>
        tokenOf(alice, h.clock.now, { leases: { access: 'scoped', scope } });
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/status`, { token: scoped(['send-manifest']) }),
        403,
        'FORBIDDEN',
      );
      assert.equal(
        (await h.request('GET', `/lease/${dseq}/1/1/status`, { token: scoped(['status']) })).status,
        200,
      );
      await expectError(
        await h.request('PUT', `/deployment/${dseq}/manifest`, {
          token: scoped(['status']),
          body: ipSdl('guarded-ip').manifest,
        }),
        403,
        'FORBIDDEN',
      );
      await expectError(
        await h.request('DELETE', `/lease/${dseq}/1/1`, {
          token: scoped(['status', 'send-manifest', 'ip-migrate']),
        }),
        403,
        'FORBIDDEN',
      );
      const elsewhere = tokenOf(alice, h.clock.now, {
        leases: { access: 'granular', permissions: [{ provider: bob.address, access: 'full' }] },
      });
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/status`, { token: elsewhere }),
        403,
        'FORBIDDEN',
      );
    });
  });

  describe('the IP operator routes', () => {
    let dseq: string;
    before(async () => {
      dseq = (await deploy(ipSdl('operator-ip'))).dseq;
    });

    it('reports a lease’s bound ports to provider-internal callers only', async () => {
      const path = `/ip-lease-status/${alice.address}/${dseq}/1/1`;
      const answer = await h.request('GET', path);
      assert.equal(answer.status, 200);
      const entries =
        await json<
          { Port: number; ExternalPort: number; ServiceName: string; IP: string; Protocol: string }[]
        >(answer);
      assert.deepEqual(Object.keys(entries[0] ?? {}), [
        'Port',
        'ExternalPort',
        'ServiceName',
        'IP',
        'Protocol',
      ]);
      assert.equal(entries[0]?.ServiceName, 'web');
      await expectError(await h.request('GET', path, { peer: '192.0.2.10' }), 403, 'FORBIDDEN');
      const admitted = await h.request('GET', path, {
        peer: '192.0.2.10',
        token: 'an-admin-token-of-some-length',
      });
      assert.equal(admitted.status, 200);
      assert.equal((await h.request('GET', `/ip-lease-status/${alice.address}/424242/1/1`)).status, 204);
      await expectError(await h.request('GET', `/ip-lease-status/nobody/${dseq}/1/1`), 404, 'NOT_FOUND');
    });

    it('answers /health, /usage and /status', async () => {
      assert.equal(await (await h.request('GET', '/health')).text(), 'OK');
      const usage = await json<{ Available: number; InUse: number }>(await h.request('GET', '/usage'));
      assert.deepEqual(Object.keys(usage), ['Available', 'InUse']);
      assert.equal(usage.Available, 16);
      const inventory = h.engine.inventory();
      assert.equal(BigInt(usage.InUse), inventory.inUse + inventory.quarantined);
      const status = await json<{
        address: string;
        cluster: {
          leases: number;
          inventory: { leased_ip: Record<string, string>; pools: { name: string }[] };
        };
      }>(await h.request('GET', '/status'));
      assert.equal(status.address, h.provider.address);
      assert.deepEqual(status.cluster.inventory.leased_ip, {
        allocatable: '16',
        allocated: String(inventory.allocated),
        capacity: '16',
      });
      assert.equal(status.cluster.inventory.pools[0]?.name, 'default');
      assert.equal(status.cluster.leases, h.service.size);
    });

    it('exposes pool gauges, counters and request latency on /metrics', async () => {
      const text = await (await h.request('GET', '/metrics')).text();
      assert.match(text, /akash_ip_pool_capacity\{pool="default",family="v4"\} 16/);
      assert.match(
        text,
        new RegExp(`akash_ip_pool_allocated\\{pool="default",family="v4"\\} ${h.engine.inventory().inUse}`),
      );
      assert.match(text, /akash_ip_allocations_total [1-9]/);
      assert.match(text, /akash_ip_migrations_total [1-9]/);
      assert.match(text, /akash_ip_errors_total\{code="FORBIDDEN"\} [1-9]/);
      assert.match(
        text,
        /akash_ip_http_request_duration_seconds_count\{method="GET",route="\/lease\/:dseq\/:gseq\/:oseq\/status",status="200"\} [1-9]/,
      );
    });
  });

  describe('closing leases', () => {
    it('releases the addresses of a lease closed on the ledger', async () => {
      unwrap(await h.sync.reconcile());
      const { dseq } = await deploy(ipSdl('closing-ip'));
      const address = await ipOf(dseq);
      const quarantined = h.engine.inventory().quarantined;
      unwrap(
        h.ledger.closeLease({
          id: { owner: alice.address, dseq, gseq: 1, oseq: 1, provider: h.provider.address },
          actor: alice.address,
        }),
      );
      unwrap(await h.sync.pollEvents());
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/status`, { token }),
        404,
        'LEASE_NOT_FOUND',
      );
      assert.equal(h.engine.inventory().quarantined, quarantined + 1n);
      assert.equal(
        h.engine.lease({ owner: alice.address, dseq, gseq: 1, oseq: 1, provider: h.provider.address })?.state,
        'closed',
      );
      assert.ok(
        h.logs.lines.some(
          (line) => line.msg === 'lease closed' && (line.fields.released as string[]).includes(address ?? ''),
        ),
      );
    });

    it('lets the owner close its lease here and on the ledger', async () => {
      const { dseq } = await deploy(ipSdl('ending-ip'));
      const address = await ipOf(dseq);
      const closed = await h.request('DELETE', `/lease/${dseq}/1/1`, { token });
      assert.equal(closed.status, 200);
      assert.deepEqual((await json<{ released: string[] }>(closed)).released, [address]);
      const onLedger = unwrap(
        h.ledger.getLease({ owner: alice.address, dseq, gseq: 1, oseq: 1, provider: h.provider.address }),
      );
      assert.equal(onLedger.state, 'closed');
      await expectError(await h.request('DELETE', `/lease/${dseq}/1/1`, { token }), 404, 'LEASE_NOT_FOUND');
    });

    it('reconciles leases that ended while it was not following the ledger', async () => {
      const { dseq } = await deploy(ipSdl('stale-ip'));
      unwrap(h.ledger.closeDeployment({ owner: alice.address, dseq }));
      assert.deepEqual(unwrap(await h.sync.reconcile()), { closed: 1, released: 0 });
      await expectError(
        await h.request('GET', `/lease/${dseq}/1/1/status`, { token }),
        404,
        'LEASE_NOT_FOUND',
      );
    });
  });

  describe('bidding', () => {
    it('bids through the lease engine’s gate and hands the reservation to the deployed lease', async () => {
      unwrap(await h.sync.register());
      const { sdl, dseq, lease } = await bidOn(h, alice, 'bid-ip');
      assert.equal(h.engine.inventory().reserved, 1n);
      unwrap(h.ledger.createLease(lease));
      const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: sdl.manifest });
      assert.equal(sent.status, 200);
      assert.equal(h.engine.inventory().reserved, 0n);
      assert.ok(await ipOf(dseq));
    });
  });
});

describe('a pool with no address left', () => {
  it('reports the endpoint as pending without failing the lease status (Go F13)', async () => {
    const h = await createHarness({ pools: ['203.0.113.7/32'] });
    try {
      h.fund(alice);
      const token = tokenOf(alice, h.clock.now);
      for (const name of ['one-ip', 'two-ip']) {
        const sdl = ipSdl(name);
        const { dseq } = h.lease(alice, sdl);
        const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: sdl.manifest });
        assert.equal(sent.status, 200);
        const status = await json<LeaseStatusBody>(
          await h.request('GET', `/lease/${dseq}/1/1/status`, { token }),
        );
        if (name === 'one-ip') {
          assert.equal(status.ips?.web?.[0]?.IP, '203.0.113.7');
          continue;
        }
        assert.deepEqual(status.ips, {});
        assert.equal(status.services.web?.available, 2);
        assert.equal(status.ip_endpoints['two-ip']?.state, 'pending');
        assert.ok((status.ip_endpoints['two-ip']?.reason ?? '').length > 0);
      }
    } finally {
      h.close();
    }
  });
});

describe('a source whose tokens keep failing', () => {
  it('is answered 429 with Retry-After before any token is looked at, others not', async () => {
    const h = await createHarness();
    try {
      h.fund(alice);
      const lookups: string[] = [];
      const app = createProviderApp({
        service: () => h.service,
        readiness: h.readiness,
        verifier: new TokenVerifier({
          lookup: (address) => {
            lookups.push(address);
            return new StaticChain([{ address: alice.address, pubkey: alice.pubkey }]).pubkey(address);
          },
          now: () => h.clock.now,
          cacheSize: 10,
        }),
        metrics: h.metrics,
        maxBodyBytes: 1024,
        authFailures: new FailureLimiter({ burst: 3, perMinute: 6 }, () => h.clock.now),
      });
      const ask = (peer: string, token: string) =>
        app.request(
          'http://provider.test/leases',
          { headers: { authorization: `Bearer ${token}` } },
          { incoming: { socket: { remoteAddress: peer } } },
        );
      // tokens of made-up accounts: each one a key lookup
      const strangers = [1, 2, 3, 4, 5].map((n) => tokenOf(account(0x7000 + n), h.clock.now));
      for (const token of strangers.slice(0, 3))
        await expectError(await ask('198.51.100.7', token), 401, 'UNAUTHENTICATED');
      const limited = await ask('198.51.100.7', strangers[3]!);
      assert.equal(limited.headers.get('retry-after'), '10');
      await expectError(limited, 429, 'RATE_LIMITED');
      await expectError(await ask('198.51.100.7', tokenOf(alice, h.clock.now)), 429, 'RATE_LIMITED');
      assert.equal(lookups.length, 3, 'no lookup while limited');
      assert.equal((await ask('198.51.100.8', tokenOf(alice, h.clock.now))).status, 200);
      h.clock.now += 10_000;
      await expectError(await ask('198.51.100.7', strangers[4]!), 401, 'UNAUTHENTICATED');
    } finally {
      h.close();
    }
  });
});

describe('what a tenant is told when something breaks inside', () => {
  it('gets our message and a reference, never the database’s constraint text, which goes to the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'akash-ip-app-'));
    const path = join(dir, 'provider.db');
    // shared, so this test can play the second writer the store's lock now keeps out
    const store = unwrap(openSqliteStore({ path, shared: true }));
    const h = await createHarness({ store, pools: ['203.0.113.0/30'] });
    try {
      h.fund(alice);
      // a writer that knows nothing of this one's allocations: its addresses belong to no allocation here
      const intruder = new Database(path);
      intruder.pragma('foreign_keys = OFF');
      const taken = intruder.prepare('INSERT INTO addresses (address, key, ord) VALUES (?, ?, 0)');
      for (let last = 0; last < 4; last++) taken.run(`203.0.113.${last}`, `intruder-${last}`);
      intruder.close();
      const sdl = ipSdl('clash-ip');
      const { dseq } = h.lease(alice, sdl);
      const token = tokenOf(alice, h.clock.now);
      const sent = await h.request('PUT', `/deployment/${dseq}/manifest`, { token, body: sdl.manifest });
      const body = await json<{ error: string; code: string; details: { ref: string } }>(sent);
      assert.equal(sent.status, 409);
      assert.equal(body.code, 'IP_IN_USE');
      assert.doesNotMatch(body.error, /constraint|UNIQUE|SQLITE|addresses\.address/i);
      assert.match(body.error, new RegExp(`ref ${body.details.ref}`));
      const logged = h.logs.lines.find((line) => line.fields.ref === body.details.ref);
      assert.match(String(logged?.fields.cause), /UNIQUE constraint failed: addresses\.address/);
    } finally {
      h.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gets a 500 with a reference for a bug, the exception in the log only', async () => {
    const h = await createHarness();
    try {
      const broken = new Proxy(h.service, {
        get(target, key) {
          if (key === 'providerStatus') return () => JSON.parse('{"secret": /etc/shadow');
          return Reflect.get(target, key);
        },
      });
      const app = createProviderApp({
        service: () => broken,
        readiness: h.readiness,
        verifier: h.verifier,
        metrics: h.metrics,
        maxBodyBytes: 1024,
        logger: h.logs,
      });
      const response = await app.request('/status');
      const body = await json<{ error: string; code: string; details: { ref: string } }>(response);
      assert.equal(response.status, 500);
      assert.equal(body.code, 'INTERNAL');
      assert.doesNotMatch(body.error, /JSON|shadow|position|Unexpected/);
      const logged = h.logs.lines.find((line) => line.fields.ref === body.details.ref);
      assert.equal(logged?.level, 'error');
      assert.match(String(logged?.fields.cause), /SyntaxError|JSON/);
    } finally {
      h.close();
    }
  });
});

describe('readiness', () => {
  it('answers 503 until the state is rebuilt, and liveness throughout', async () => {
    const h = await createHarness();
    try {
      const readiness = new Readiness();
      let service: ProviderService | undefined;
      const app = createProviderApp({
        service: () => service,
        readiness,
        verifier: new TokenVerifier({ lookup: new StaticChain([]).pubkey, now: Date.now, cacheSize: 1 }),
        metrics: createMetrics(() => []),
        maxBodyBytes: 1024,
      });
      assert.equal((await app.request('/healthz')).status, 200);
      await expectError(await app.request('/readyz'), 503, 'NOT_READY');
      await expectError(await app.request('/health'), 503, 'NOT_READY');
      await expectError(await app.request('/lease/1/1/1/status'), 503, 'NOT_READY');
      service = h.service;
      readiness.open();
      assert.equal((await app.request('/readyz')).status, 200);
      assert.equal((await app.request('/health')).status, 200);
      readiness.close();
      await expectError(await app.request('/status'), 503, 'NOT_READY');
    } finally {
      h.close();
    }
  });
});
