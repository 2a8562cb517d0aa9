/**
 * The provider daemon (runProvider, HTTP on 127.0.0.1) driving a real kube-apiserver and the real MetalLB
 * controller: what tenants do through the daemon's routes is what the cluster must end up holding. The
 * daemon reaches the apiserver through a TCP relay this test starts and stops, so it can see a cluster
 * that is not there yet, or goes away for a while.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  memoryLogger,
  type ProviderConfig,
  parseConfig,
  type RunningProvider,
  runProvider,
} from '../../src/daemon/index.js';
import { account, ipSdl, leaseRegistration, tokenOf, unwrap } from '../../src/daemon/testing.js';
import { importKey } from '../../src/identity/index.js';
import {
  createHttpsGateway,
  type KubeGateway,
  LABEL,
  leaseLabels,
  leaseNamespace,
} from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import type { Sdl } from '../../src/sdl/index.js';
import { CONFIGURATION_PATH, RESTARTED_AT_ANNOTATION, ROLLED_ANNOTATION } from '../../src/webhook/index.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';

const alice = account(0xa11ce);
const providerKey = account(0x9a9a);
// A documentation range clear of the harness's ClusterIPs (203.0.113.0/25) and probe (203.0.113.254).
const POOL = { name: 'daemon-v4', addresses: ['192.0.2.64/28'] };

/** A TCP relay to the apiserver on a fixed port, which can be taken down and brought back. */
interface Relay {
  readonly port: number;
  up(): Promise<void>;
  down(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  assert.ok(typeof address === 'object' && address !== null);
  await new Promise<void>((done) => probe.close(() => done()));
  return address.port;
}

async function relayTo(target: URL): Promise<Relay> {
  const port = await freePort();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  return {
    port,
    async up() {
      server = createServer((inbound) => {
        const outbound = connect(Number(target.port), target.hostname);
        track(inbound);
        track(outbound);
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('close', () => outbound.destroy());
        outbound.on('close', () => inbound.destroy());
      });
      const listening = server;
      await new Promise<void>((done) => listening.listen(port, '127.0.0.1', done));
    },
    async down() {
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      const closed = new Promise<void>((done) => closing.close(() => done()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

let cluster: TestCluster;
let gateway: KubeGateway;
let relay: Relay;
let dir: string;
/** Drift checks only when asked (`POST /k8s/reconcile`), so their counts are exact. */
let config: ProviderConfig;
/** The same with a drift check every second. */
let checking: ProviderConfig;
/** The same, reaching the apiserver through the harness's kubeconfig. */
let viaKubeconfig: ProviderConfig;
/** The first, serving the leased-IP admission webhook on 127.0.0.1, opted in to the roll. */
let withWebhook: ProviderConfig;
let daemon: RunningProvider | undefined;
let logs: ReturnType<typeof memoryLogger>;

const token = () => tokenOf(alice, Date.now());

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  assert.ok(daemon !== undefined);
  return fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface EndpointReport {
  state: string;
  addresses?: string[];
}

/** Registers the lease (standalone mode) and sends its manifest; returns its endpoints as reported. */
async function send(dseq: string, sdl: Sdl): Promise<Record<string, EndpointReport>> {
  const registered = await call('POST', '/leases', leaseRegistration(alice, dseq, sdl));
  assert.equal(registered.status, 200, await registered.clone().text());
  const sent = await call('PUT', `/deployment/${dseq}/manifest`, sdl.manifest);
  const report = (await sent.json()) as { leases: { ip_endpoints: Record<string, EndpointReport> }[] };
  assert.equal(sent.status, 200, JSON.stringify(report));
  return report.leases[0]?.ip_endpoints ?? {};
}

/** Like {@link send}, for an endpoint that gets an address; returns it. */
async function deploy(dseq: string, sdl: Sdl, endpoint: string): Promise<string> {
  const endpoints = await send(dseq, sdl);
  const ip = endpoints[endpoint]?.addresses?.[0];
  assert.ok(ip !== undefined, JSON.stringify(endpoints));
  return ip;
}

interface ClusterLease {
  realised: boolean;
  confirmed: boolean;
  ports: {
    declaration: { port: number; externalPort: number };
    addresses: string[];
    assigned: string[];
    resource?: string;
  }[];
}

async function clusterLease(dseq: string): Promise<ClusterLease> {
  const answer = await call('GET', `/k8s/lease/${alice.address}/${dseq}/1/1`);
  const body = (await answer.json()) as ClusterLease;
  assert.equal(answer.status, 200, JSON.stringify(body));
  return body;
}

/** Waits until the daemon says its last write of the lease went through and MetalLB confirmed every port. */
function confirmed(dseq: string): Promise<ClusterLease> {
  return eventually(`MetalLB confirms lease ${dseq}`, async () => {
    const lease = await clusterLease(dseq);
    return lease.realised && lease.confirmed ? lease : undefined;
  });
}

interface ServiceLike {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  spec: { ports: { port: number; targetPort: number }[] };
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}

/** The Services of this provider in the cluster, by lease dseq, read straight from the apiserver. */
async function services(): Promise<Map<string, ServiceLike[]>> {
  const answer = unwrap(
    await gateway.request({
      method: 'GET',
      path: '/api/v1/services',
      query: { labelSelector: 'app.kubernetes.io/managed-by=akash-ip' },
    }),
  );
  assert.equal(answer.status, 200);
  const out = new Map<string, ServiceLike[]>();
  for (const item of (answer.body as { items: ServiceLike[] }).items) {
    const dseq = item.metadata.labels?.['akash.network/lease.id.dseq'] ?? '?';
    out.set(dseq, [...(out.get(dseq) ?? []), item]);
  }
  return out;
}

const NO_DRIFT = { checks: 0, repaired: { created: 0, updated: 0, deleted: 0 } };

async function kubeStatus(): Promise<{
  synced: boolean;
  pending: number;
  unrealised: { lease: string }[];
  drift: { checks: number; repaired: { created: number; updated: number; deleted: number } };
}> {
  const answer = await call('GET', '/status');
  assert.equal(answer.status, 200);
  return ((await answer.json()) as { kubernetes: Awaited<ReturnType<typeof kubeStatus>> }).kubernetes;
}

async function start(settings = config): Promise<RunningProvider> {
  logs = memoryLogger();
  daemon = unwrap(await runProvider(settings, { logger: logs }));
  return daemon;
}

function logged(msg: string): Record<string, unknown>[] {
  return logs.lines.filter((line) => line.msg === msg).map((line) => ({ ...line.fields }));
}

/** Sends a request straight to the apiserver and returns the body of a 2xx answer. */
async function kube(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const answer = unwrap(await gateway.request({ method, path, ...(body === undefined ? {} : { body }) }));
  assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as Record<string, unknown>;
}

const WEB_POD = { [LABEL.akash]: 'true', [LABEL.manifestService]: 'web' };

/** A tenant namespace as the Go provider makes it for the lease, with a Deployment of service `web`. */
async function leaseNamespaceWithDeployment(id: LeaseId): Promise<string> {
  const name = leaseNamespace(id);
  await kube('POST', '/api/v1/namespaces', {
    metadata: { name, labels: { [LABEL.akash]: 'true', ...leaseLabels(id) } },
  });
  // No controller-manager runs: the default ServiceAccount pod admission looks for is made by hand.
  await kube('POST', `/api/v1/namespaces/${name}/serviceaccounts`, { metadata: { name: 'default' } });
  await kube('POST', `/apis/apps/v1/namespaces/${name}/deployments`, {
    metadata: { name: 'web', labels: WEB_POD },
    spec: {
      selector: { matchLabels: WEB_POD },
      template: { metadata: { labels: WEB_POD }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
    },
  });
  return name;
}

interface PodOut {
  metadata: { name: string };
  spec: { containers: { env?: { name: string; value?: string }[] }[] };
}

/** Creates a pod of service `web` through the apiserver (admission runs; no kubelet does) and its env. */
async function webPod(namespace: string, dryRun = false): Promise<{ name: string; env: object }> {
  const pod = (await kube('POST', `/api/v1/namespaces/${namespace}/pods${dryRun ? '?dryRun=All' : ''}`, {
    metadata: { generateName: 'web-', labels: WEB_POD },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'nginx' }] },
  })) as unknown as PodOut;
  const env = Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
  return { name: pod.metadata.name, env };
}

async function templateAnnotations(namespace: string): Promise<Record<string, string> | undefined> {
  const body = (await kube('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/web`)) as {
    spec: { template: { metadata: { annotations?: Record<string, string> } } };
  };
  return body.spec.template.metadata.annotations;
}

describe('the provider daemon on a real apiserver + MetalLB controller', () => {
  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    relay = await relayTo(new URL(cluster.server));
    dir = mkdtempSync(join(tmpdir(), 'akash-ip-k8s-daemon-'));
    unwrap(
      await importKey(join(dir, 'keys'), 'provider', Buffer.from(providerKey.privateKey).toString('hex')),
    );
    writeFileSync(join(dir, 'ca.crt'), cluster.ca);
    writeFileSync(join(dir, 'token'), `${cluster.token}\n`);
    const settings = (reconcileIntervalMs: number, connection?: object, webhook?: object) =>
      unwrap(
        parseConfig(
          JSON.stringify({
            provider: { keyring: 'keys', key: 'provider' },
            // plain HTTP: this test is about the cluster, and reads the daemon with fetch
            listen: { tls: false },
            store: { kind: 'sqlite', path: 'provider.db' },
            pools: [POOL],
            tenants: [{ address: alice.address, pubkey: alice.pubkey }],
            kubernetes: {
              ...(connection ?? {
                // The relay's port: the cluster is not reachable there until the relay is up.
                server: `https://127.0.0.1:${relay.port}`,
                tokenFile: 'token',
                caFile: 'ca.crt',
              }),
              metallbNamespace: cluster.metallbNamespace,
              retryMaxMs: 200,
              reconcileIntervalMs,
              ...(webhook === undefined ? {} : { webhook }),
            },
            limits: { maintainIntervalMs: 200 },
          }),
          join(dir, 'provider.json'),
          { defaultKeyring: join(dir, 'unused') },
        ),
      );
    config = settings(0);
    checking = settings(1000);
    viaKubeconfig = settings(0, { kubeconfig: cluster.kubeconfig, context: 'harness' });
    withWebhook = settings(0, undefined, {
      listen: { host: '127.0.0.1', port: 0 },
      url: 'https://127.0.0.1:{port}/mutate',
      rollOnFirstAddress: true,
    });
  });

  after(async () => {
    await daemon?.stop();
    await relay?.down();
    gateway?.close();
    await cluster?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('stays unready with the reason while the cluster cannot be reached, and syncs once it can', async () => {
    const running = await start();
    await eventually('two failed attempts', async () =>
      logged('kubernetes not ready').length >= 2 ? true : undefined,
    );
    const attempts = logged('kubernetes not ready');
    assert.deepEqual(
      attempts.slice(0, 2).map((fields) => [fields.attempt, fields.code]),
      [
        [1, 'K8S_UNAVAILABLE'],
        [2, 'K8S_UNAVAILABLE'],
      ],
    );
    const unready = await fetch(`${running.url}/readyz`);
    assert.equal(unready.status, 503);
    const why = (await unready.json()) as { code: string; error: string };
    assert.equal(why.code, 'NOT_READY');
    assert.match(why.error, /Kubernetes cluster is not ready \(K8S_UNAVAILABLE: .*ECONNREFUSED/);
    assert.equal((await call('PUT', '/deployment/1/manifest', {})).status, 503);
    assert.equal((await fetch(`${running.url}/healthz`)).status, 200);

    await relay.up();
    unwrap(await running.ready);
    assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
    const [synced] = logged('kubernetes synced');
    assert.deepEqual(synced?.pools, { created: ['daemon-v4'], updated: [], deleted: [] });
    assert.deepEqual(synced?.writes, { created: 0, updated: 0, deleted: 0, unchanged: 0 });
    const pool = unwrap(
      await gateway.request({
        method: 'GET',
        path: `/apis/metallb.io/v1beta1/namespaces/${cluster.metallbNamespace}/ipaddresspools/daemon-v4`,
      }),
    );
    assert.deepEqual((pool.body as { spec: unknown }).spec, {
      addresses: ['192.0.2.64/28'],
      autoAssign: false,
      avoidBuggyIPs: false,
    });
    assert.deepEqual(await kubeStatus(), { synced: true, pending: 0, unrealised: [], drift: NO_DRIFT });
  });

  it('a manifest sent to the daemon becomes LoadBalancer Services pinned to its address, confirmed by MetalLB', async () => {
    const address = await deploy(
      '42',
      ipSdl('web', [
        [80, 80],
        [443, 443],
      ]),
      'web',
    );
    const other = await deploy('43', ipSdl('api', [[8080, 80]]), 'api');
    assert.notEqual(address, other);
    const lease = await confirmed('42');
    assert.deepEqual(
      lease.ports.map((port) => [port.declaration.externalPort, port.addresses, port.assigned]),
      [
        [80, [address], [address]],
        [443, [address], [address]],
      ],
    );
    await confirmed('43');
    const byLease = await services();
    assert.equal(byLease.get('42')?.length, 2);
    for (const service of byLease.get('42') ?? []) {
      assert.equal(service.metadata.annotations?.['metallb.io/loadBalancerIPs'], address);
      assert.deepEqual(
        service.status?.loadBalancer?.ingress?.map((entry) => entry.ip),
        [address],
      );
    }
    // lease-status keeps Akash's shape; the cluster's word is in /k8s/lease and /status only.
    const status = (await (await call('GET', '/lease/42/1/1/status')).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(status), ['services', 'forwarded_ports', 'ips', 'ip_endpoints']);
    assert.deepEqual(
      (status.ips as Record<string, { IP: string }[]>).web?.map((entry) => entry.IP),
      [address, address],
    );
  });

  it('an update keeps the address and the Services, and writes the new target port', async () => {
    const before = await services();
    const uids = (before.get('42') ?? []).map((service) => service.metadata.uid).sort();
    const address = await deploy(
      '42',
      ipSdl('web', [
        [8080, 80],
        [443, 443],
      ]),
      'web',
    );
    const lease = await eventually('the new target port is written', async () => {
      const current = await confirmed('42');
      return current.ports.some((port) => port.declaration.port === 8080) ? current : undefined;
    });
    assert.deepEqual(
      lease.ports.map((port) => [port.declaration.externalPort, port.declaration.port, port.assigned]),
      [
        [80, 8080, [address]],
        [443, 443, [address]],
      ],
    );
    const after = await services();
    assert.deepEqual((after.get('42') ?? []).map((service) => service.metadata.uid).sort(), uids);
    assert.deepEqual(
      (after.get('42') ?? []).map((service) => service.spec.ports[0]?.targetPort).sort(),
      [443, 8080],
    );
  });

  it('a write the cluster misses is kept by the engine and made on a later maintain tick', async () => {
    await relay.down();
    const address = await deploy('44', ipSdl('db', [[5432, 5432]]), 'db');
    const missed = await eventually('the daemon reports the lease unrealised', async () => {
      const status = await kubeStatus();
      return status.unrealised.length > 0 ? status : undefined;
    });
    assert.deepEqual(
      missed.unrealised.map((entry) => entry.lease),
      [`${alice.address}/44/1/1/${providerKey.address}`],
    );
    assert.ok(logged('kubernetes write failed; retried on the maintain tick').length > 0);
    assert.equal((await fetch(`${daemon?.url}/readyz`)).status, 200);

    await relay.up();
    const lease = await confirmed('44');
    assert.deepEqual(lease.ports[0]?.assigned, [address]);
    assert.deepEqual(await kubeStatus(), { synced: true, pending: 0, unrealised: [], drift: NO_DRIFT });
  });

  it('closing a lease removes exactly its objects', async () => {
    const before = await services();
    const closed = await call('DELETE', '/lease/42/1/1');
    assert.equal(closed.status, 200, await closed.clone().text());
    // realised: the daemon's write is done (it deletes the Services first, then the ProviderLeasedIPs)
    await eventually('the closed lease written: no object of it left', async () => {
      const lease = await clusterLease('42');
      return lease.realised && lease.ports.length === 0 ? true : undefined;
    });
    const after = await services();
    assert.deepEqual([...after.keys()].sort(), ['43', '44']);
    for (const dseq of ['43', '44']) {
      assert.deepEqual(
        after.get(dseq)?.map((service) => service.metadata.uid),
        before.get(dseq)?.map((service) => service.metadata.uid),
      );
    }
    const resources = unwrap(
      await gateway.request({
        method: 'GET',
        path: '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips',
      }),
    );
    assert.deepEqual(
      (resources.body as { items: { metadata: { name: string } }[] }).items
        .map((item) => item.metadata.name)
        .sort(),
      [`${alice.address}-ip-api-tcp-80`, `${alice.address}-ip-db-tcp-5432`],
    );
  });

  it("a migration moves the endpoint's objects to the destination lease with its address", async () => {
    const address = (await confirmed('43')).ports[0]?.assigned[0];
    assert.ok(address !== undefined);
    const withheld = await send('45', ipSdl('api', [[8080, 80]]));
    assert.equal(withheld.api?.state, 'withheld');
    const moved = await call('POST', '/endpoint/migrate', {
      endpoints_to_migrate: ['api'],
      destination_dseq: '45',
      destination_gseq: 1,
    });
    assert.equal(moved.status, 200, await moved.clone().text());
    const lease = await confirmed('45');
    assert.deepEqual(lease.ports[0]?.assigned, [address]);
    const after = await eventually('the source has no Service left', async () => {
      const current = await services();
      return current.has('43') ? undefined : current;
    });
    assert.deepEqual([...after.keys()].sort(), ['44', '45']);
    assert.equal((await clusterLease('43')).ports.length, 0);
  });

  it('a drift check puts back what was deleted or changed by hand, and nothing else', async () => {
    const db = (await confirmed('44')).ports[0]?.assigned[0];
    const api = (await confirmed('45')).ports[0]?.assigned[0];
    assert.ok(db !== undefined && api !== undefined);
    const before = await services();
    const [dbService] = before.get('44') ?? [];
    const [apiService] = before.get('45') ?? [];
    assert.ok(dbService !== undefined && apiService !== undefined);
    const [free] = ['192.0.2.78', '192.0.2.77'].filter((ip) => ip !== db && ip !== api);
    assert.ok(free !== undefined);

    // Someone else's Service beside ours, carrying the lease's labels but not our managed-by label.
    const { 'app.kubernetes.io/managed-by': _ours, ...leaseLabels } = dbService.metadata.labels ?? {};
    const foreign = unwrap(
      await gateway.request({
        method: 'POST',
        path: `/api/v1/namespaces/${dbService.metadata.namespace}/services`,
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'foreign', labels: leaseLabels, annotations: { note: 'not akash-ip' } },
          spec: { type: 'ClusterIP', ports: [{ port: 5432, protocol: 'TCP' }] },
        },
      }),
    );
    assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
    const foreignMeta = (foreign.body as ServiceLike).metadata;

    // By hand: the db Service deleted, the api lease's ProviderLeasedIP deleted and its Service re-pinned.
    const deleted = unwrap(
      await gateway.request({
        method: 'DELETE',
        path: `/api/v1/namespaces/${dbService.metadata.namespace}/services/${dbService.metadata.name}`,
      }),
    );
    assert.equal(deleted.status, 200);
    const resource = `/apis/akash.network/v2beta2/namespaces/lease/providerleasedips/${alice.address}-ip-api-tcp-80`;
    assert.equal(unwrap(await gateway.request({ method: 'DELETE', path: resource })).status, 200);
    const apiPath = `/api/v1/namespaces/${apiService.metadata.namespace}/services/${apiService.metadata.name}`;
    const repinned = unwrap(
      await gateway.request({
        method: 'PATCH',
        path: apiPath,
        body: { metadata: { annotations: { 'metallb.io/loadBalancerIPs': free } } },
      }),
    );
    assert.equal(repinned.status, 200);
    // MetalLB follows the hand-made pin: the drift is real before it is repaired.
    await eventually('MetalLB moves the api Service to the hand-made address', async () => {
      const now = (await services()).get('45')?.[0];
      return now?.status?.loadBalancer?.ingress?.[0]?.ip === free ? true : undefined;
    });

    const answer = await call('POST', '/k8s/reconcile');
    const report = (await answer.json()) as { leases: { lease: string }[] };
    assert.equal(answer.status, 200, JSON.stringify(report));
    // Leases MetalLB still serves go first: the api lease before the db lease whose Service is gone.
    report.leases.sort((a, b) => (a.lease < b.lease ? -1 : 1));
    const key = (dseq: string) => `${alice.address}/${dseq}/1/1/${providerKey.address}`;
    assert.deepEqual(report, {
      pools: { created: [], updated: [], deleted: [] },
      leases: [
        { lease: key('44'), writes: { created: 1, updated: 0, deleted: 0, unchanged: 1 } },
        { lease: key('45'), writes: { created: 1, updated: 1, deleted: 0, unchanged: 0 } },
      ],
      repaired: { created: 2, updated: 1, deleted: 0 },
      unrealised: 0,
    });
    const [line] = logged('kubernetes drift repaired');
    assert.deepEqual(line?.repaired, { created: 2, updated: 1, deleted: 0 });

    assert.deepEqual((await confirmed('44')).ports[0]?.assigned, [db]);
    const apiLease = await eventually('MetalLB moves the api Service back', async () => {
      const lease = await confirmed('45');
      return lease.ports[0]?.assigned[0] === api ? lease : undefined;
    });
    assert.equal(apiLease.ports[0]?.resource, `${alice.address}-ip-api-tcp-80`);
    const after = await services();
    assert.equal(after.get('45')?.[0]?.metadata.uid, apiService.metadata.uid);
    assert.equal(after.get('45')?.[0]?.metadata.annotations?.['metallb.io/loadBalancerIPs'], api);
    assert.notEqual(after.get('44')?.[0]?.metadata.uid, dbService.metadata.uid);

    const untouched = unwrap(
      await gateway.request({
        method: 'GET',
        path: `/api/v1/namespaces/${dbService.metadata.namespace}/services/foreign`,
      }),
    );
    assert.equal(untouched.status, 200);
    const meta = (untouched.body as ServiceLike).metadata;
    assert.deepEqual([meta.uid, meta.resourceVersion], [foreignMeta.uid, foreignMeta.resourceVersion]);

    // Nothing differs any more: a second check writes nothing.
    const again = (await (await call('POST', '/k8s/reconcile')).json()) as { repaired: unknown };
    assert.deepEqual(again.repaired, { created: 0, updated: 0, deleted: 0 });
    assert.deepEqual((await kubeStatus()).drift, {
      checks: 2,
      repaired: { created: 2, updated: 1, deleted: 0 },
    });
  });

  it('a restarted daemon finds the cluster right, writes nothing, and reports the same', async () => {
    const before = await services();
    await daemon?.stop();
    // From here on drift is also checked on a timer.
    const running = await start(checking);
    unwrap(await running.ready);
    const [synced] = logged('kubernetes synced');
    assert.deepEqual(synced?.pools, { created: [], updated: [], deleted: [] });
    assert.deepEqual(synced?.writes, { created: 0, updated: 0, deleted: 0, unchanged: 4 });
    assert.deepEqual(synced?.unrealised, []);
    const after = await services();
    assert.deepEqual(
      [...after].map(([dseq, list]) => [dseq, list.map((service) => service.metadata.uid)]),
      [...before].map(([dseq, list]) => [dseq, list.map((service) => service.metadata.uid)]),
    );
    assert.ok((await confirmed('44')).confirmed);
    assert.ok((await confirmed('45')).confirmed);
  });

  it('drift checks on the interval put back a Service deleted by hand', async () => {
    const api = (await confirmed('45')).ports[0]?.assigned[0];
    const [service] = (await services()).get('45') ?? [];
    assert.ok(api !== undefined && service !== undefined);
    const deleted = unwrap(
      await gateway.request({
        method: 'DELETE',
        path: `/api/v1/namespaces/${service.metadata.namespace}/services/${service.metadata.name}`,
      }),
    );
    assert.equal(deleted.status, 200);
    const back = await eventually('a timed drift check recreates the Service', async () => {
      const now = (await services()).get('45')?.[0];
      return now !== undefined && now.metadata.uid !== service.metadata.uid ? now : undefined;
    });
    assert.equal(back.metadata.annotations?.['metallb.io/loadBalancerIPs'], api);
    assert.deepEqual((await confirmed('45')).ports[0]?.assigned, [api]);
    const drift = (await kubeStatus()).drift;
    assert.ok(drift.checks >= 1);
    assert.equal(drift.repaired.created, 1);
  });

  it('connects through a kubeconfig file and finds the cluster right', async () => {
    const before = await services();
    await daemon?.stop();
    const running = await start(viaKubeconfig);
    unwrap(await running.ready);
    const [synced] = logged('kubernetes synced');
    assert.deepEqual(synced?.writes, { created: 0, updated: 0, deleted: 0, unchanged: 4 });
    assert.deepEqual(
      [...(await services())].map(([dseq, list]) => [dseq, list.map((service) => service.metadata.uid)]),
      [...before].map(([dseq, list]) => [dseq, list.map((service) => service.metadata.uid)]),
    );
    assert.ok((await confirmed('44')).confirmed);
    const answer = await call('POST', '/k8s/reconcile');
    assert.equal(answer.status, 200);
    assert.deepEqual(((await answer.json()) as { repaired: unknown }).repaired, {
      created: 0,
      updated: 0,
      deleted: 0,
    });
  });

  it('with kubernetes.webhook, pods created after a deploy carry the leased IP, older ones are reported, and only that lease rolls', async () => {
    await daemon?.stop();
    const running = await start(withWebhook);
    unwrap(await running.ready);
    const id = (dseq: string): LeaseId => ({
      owner: alice.address,
      dseq,
      gseq: 1,
      oseq: 1,
      provider: providerKey.address,
    });
    const ns = await leaseNamespaceWithDeployment(id('50'));
    // A lease namespace of this provider whose lease the daemon never deploys: never rolled.
    const other = await leaseNamespaceWithDeployment(id('51'));
    const early = await webPod(ns);
    const address = await deploy('50', ipSdl('p2p'), 'p2p');
    const expected = { AKASH_LEASED_IP_P2P: address, AKASH_LEASED_IPS: `p2p=${address}` };
    // The apiserver reads the configuration asynchronously: dry runs until it calls the daemon.
    await eventually("the apiserver calls the daemon's webhook", async () => {
      const pod = await webPod(ns, true);
      return 'AKASH_LEASED_IP_P2P' in pod.env ? true : undefined;
    });
    const late = await webPod(ns);
    assert.deepEqual(late.env, expected);
    assert.deepEqual(early.env, {});

    const answer = await call('GET', '/lease/50/1/1/status');
    const status = (await answer.json()) as Record<string, unknown>;
    assert.equal(answer.status, 200, JSON.stringify(status));
    // Akash's fields first and unchanged; the extension last, which Go's decoder ignores.
    assert.deepEqual(Object.keys(status), ['services', 'forwarded_ports', 'ips', 'ip_endpoints', 'ip_env']);
    const ipEnv = status.ip_env as { current: boolean; pods: { pod: string; state: string }[] };
    assert.equal(ipEnv.current, false);
    assert.deepEqual(Object.fromEntries(ipEnv.pods.map((pod) => [pod.pod, pod.state])), {
      [early.name]: 'missing',
      [late.name]: 'current',
    });

    const restartedAt = await eventually(
      "the daemon rolls lease 50's Deployment once MetalLB confirms",
      async () => (await templateAnnotations(ns))?.[RESTARTED_AT_ANNOTATION],
    );
    assert.ok(!Number.isNaN(Date.parse(restartedAt)));
    const workload = (await kube('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`)) as {
      metadata: { annotations?: Record<string, string> };
    };
    assert.equal(workload.metadata.annotations?.[ROLLED_ANNOTATION], restartedAt);
    assert.equal(await templateAnnotations(other), undefined);
    // the log line follows the roll's writes
    const rolled = await eventually(
      'the roll logged',
      async () => logged('workloads rolled for their first leased address')[0],
    );
    assert.deepEqual(rolled, {
      lease: `${alice.address}/50/1/1/${providerKey.address}`,
      rolled: ['deployments/web'],
      alreadyRolled: [],
    });

    // Stopped, the daemon leaves its configuration (failurePolicy Ignore): pods are still created, unchanged.
    await daemon?.stop();
    daemon = undefined;
    const configuration = (await kube('GET', `${CONFIGURATION_PATH}/akash-ip-leased-ips`)) as {
      webhooks: { failurePolicy: string; clientConfig: { url: string } }[];
    };
    assert.equal(configuration.webhooks[0]?.failurePolicy, 'Ignore');
    assert.match(configuration.webhooks[0]?.clientConfig.url ?? '', /^https:\/\/127\.0\.0\.1:\d+\/mutate$/);
    assert.deepEqual((await webPod(ns)).env, {});
  });
});
