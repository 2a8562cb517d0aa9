/**
 * `akash-ip operator` when things go wrong on the real kube-apiserver + MetalLB controller: the apiserver
 * dying mid-sync (a TCP relay that resets every connection and refuses new ones), a pool edited at run time,
 * and poison objects. Each test runs an operator of its own provider on a pool of its own, so the others'
 * objects are "another provider's" and the others' Services foreign LoadBalancers outside its pool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger } from '../../src/daemon/index.js';
import { createHttpsGateway, type KubeGateway, leaseNamespace } from '../../src/k8s/index.js';
import type { LeaseId } from '../../src/lease/index.js';
import { parseOperatorConfig, type RunningOperator, runOperator } from '../../src/operator/index.js';
import { accountOf, goLeasedIp, leaseOf, metallbPool } from '../../src/operator/testing.js';
import { eventually, startCluster, type TestCluster } from './cluster.js';
import { type GoDeclaration, GoProvider } from './go-provider.js';
import { type CuttableProxy, startProxy } from './tcp-proxy.js';

const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';
const web = { service: 'web', port: 8080, externalPort: 80, protocol: 'TCP' } as const;
const tls = { service: 'web', port: 8443, externalPort: 443, protocol: 'TCP' } as const;

let cluster: TestCluster;
let gateway: KubeGateway;
let go: GoProvider;
const running: RunningOperator[] = [];

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function call(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<Answer> {
  const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
  if (!answer.ok) assert.fail(answer.error.message);
  assert.ok(answer.value.status < 300, `${method} ${path}: ${JSON.stringify(answer.value.body)}`);
  return answer.value;
}

function poolPath(name = ''): string {
  return `/apis/metallb.io/v1beta1/namespaces/${cluster.metallbNamespace}/ipaddresspools${name === '' ? '' : `/${name}`}`;
}

async function start(
  provider: string,
  pool: string,
  options: { server?: string; logger?: ReturnType<typeof memoryLogger> } = {},
): Promise<RunningOperator> {
  const config = parseOperatorConfig(
    {
      provider,
      kubeconfig: cluster.kubeconfig,
      restAddress: '127.0.0.1',
      restPort: '0',
      metalLbPool: [pool],
    },
    { AP_METALLB_NAMESPACE: cluster.metallbNamespace },
  );
  if (!config.ok) assert.fail(config.error.message);
  const through =
    options.server === undefined
      ? {}
      : { gateway: createHttpsGateway({ server: options.server, ca: cluster.ca, token: cluster.token }) };
  const started = await runOperator(config.value, { logger: options.logger ?? memoryLogger(), ...through });
  if (!started.ok) assert.fail(started.error.message);
  running.push(started.value);
  return started.value;
}

async function declare(lease: LeaseId, ...ports: GoDeclaration[]): Promise<void> {
  await go.createLeaseNamespace(lease);
  for (const port of ports) await go.declareIP(lease, port);
}

async function leaseStatus(operator: RunningOperator, lease: LeaseId): Promise<{ IP: string }[]> {
  const answer = await fetch(
    `${operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/${lease.gseq}/${lease.oseq}`,
  );
  return answer.status === 200 ? ((await answer.json()) as { IP: string }[]) : [];
}

function confirmed(operator: RunningOperator): number {
  return operator.operator
    .state()
    .reduce((sum, lease) => sum + lease.ports.filter((port) => port.state === 'confirmed').length, 0);
}

async function statusOf(operator: RunningOperator, route: string): Promise<number> {
  const answer = await fetch(`${operator.url}${route}`);
  await answer.arrayBuffer();
  return answer.status;
}

/** The Services of a lease namespace: name → the address MetalLB reports. */
async function servicesOf(lease: LeaseId): Promise<Record<string, string | undefined>> {
  const list = (await call('GET', `/api/v1/namespaces/${leaseNamespace(lease)}/services`)).body as {
    items: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: { ip: string }[] } } }[];
  };
  return Object.fromEntries(
    list.items.map((item) => [item.metadata.name, item.status?.loadBalancer?.ingress?.[0]?.ip]),
  );
}

describe('akash-ip operator failures on a real apiserver + MetalLB controller', () => {
  before(async () => {
    cluster = await startCluster();
    gateway = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    go = new GoProvider(gateway);
    await go.install();
  });

  after(async () => {
    for (const operator of running) await operator.stop();
    gateway?.close();
    await cluster?.stop();
  });

  // its own budget: the convergence wait below allows 120 s, the runner's default for a whole test
  it('the apiserver dies mid-sync: /health stays 200, /readyz says so, and the operator converges by itself', {
    timeout: 300_000,
  }, async () => {
    const provider = accountOf('failures: restart provider');
    const owner = accountOf('failures: restart tenant');
    await call(
      'POST',
      poolPath(),
      metallbPool('restart', ['192.0.2.1-192.0.2.62'], cluster.metallbNamespace),
    );
    const leases = Array.from({ length: 30 }, (_, i) => leaseOf(owner, 100 + i, 1, 1, provider));
    const portsOf = (i: number) => [
      { ...web, endpoint: `e${i}` },
      { ...tls, endpoint: `e${i}` },
    ];
    for (const [i, lease] of leases.slice(0, 10).entries()) await declare(lease, ...portsOf(i));
    let proxy: CuttableProxy | undefined = await startProxy(cluster.server);
    let sampling = true;
    try {
      const operator = await start(provider, 'restart', { server: proxy.server });
      await eventually('the first ten leases confirmed', async () =>
        confirmed(operator) === 20 ? true : undefined,
      );
      assert.equal(await statusOf(operator, '/health'), 200);
      const before = new Map<string, string | undefined>();
      for (const lease of leases.slice(0, 10))
        before.set(leaseNamespace(lease), (await leaseStatus(operator, lease))[0]?.IP);

      // From here on /health is sampled until the end: it must never leave 200.
      const health: number[] = [];
      const sampler = (async () => {
        while (sampling) {
          health.push(await statusOf(operator, '/health'));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();

      // Ten more leases while it runs; the apiserver dies once the operator has started on them.
      for (const [i, lease] of leases.slice(10, 20).entries()) await declare(lease, ...portsOf(10 + i));
      await eventually('the operator writing the new leases', async () =>
        operator.operator.writeStats().created > 20 ? true : undefined,
      );
      proxy.cut();
      // The last ten arrive while the apiserver is away from the operator.
      for (const [i, lease] of leases.slice(20).entries()) await declare(lease, ...portsOf(20 + i));
      await eventually('/readyz 503 while the apiserver is away', async () =>
        (await statusOf(operator, '/readyz')) === 503 ? true : undefined,
      );
      const readyz = (await (await fetch(`${operator.url}/readyz`)).json()) as { reasons: string[] };
      assert.match(readyz.reasons.join(), /does not answer/);
      await eventually('the operator retrying against the dead apiserver', async () =>
        proxy !== undefined && proxy.refused() >= 3 ? true : undefined,
      );
      assert.equal(await statusOf(operator, '/health'), 200);
      proxy.restore();

      await eventually(
        'all 60 ports confirmed after the apiserver is back',
        async () => (confirmed(operator) === 60 ? true : undefined),
        120_000,
      );
      await eventually('/readyz 200 again', async () =>
        (await statusOf(operator, '/readyz')) === 200 ? true : undefined,
      );
      sampling = false;
      await sampler;
      assert.ok(health.length > 0);
      assert.deepEqual(
        health.filter((status) => status !== 200),
        [],
        `/health stayed 200 (${health.length} samples)`,
      );
      const stats = operator.operator.informerStats();
      assert.ok(
        Object.values(stats).every((informer) => informer.reconnects > 0),
        `every informer reconnected: ${JSON.stringify(stats)}`,
      );

      // No duplicate Service, one address per lease, none shared, the first ten unchanged.
      const addresses = new Map<string, string>();
      for (const lease of leases) {
        const services = await servicesOf(lease);
        assert.deepEqual(Object.keys(services).sort(), ['web-ip-443-tcp', 'web-ip-80-tcp']);
        const [a, b] = Object.values(services);
        assert.ok(a !== undefined && a === b, `one confirmed address for ${leaseNamespace(lease)}`);
        addresses.set(leaseNamespace(lease), a);
        assert.deepEqual(
          (await leaseStatus(operator, lease)).map((entry) => entry.IP),
          [a, a],
        );
      }
      assert.equal(new Set(addresses.values()).size, leases.length);
      for (const [namespace, address] of before) assert.equal(addresses.get(namespace), address);
    } finally {
      sampling = false;
      await proxy?.close();
      proxy = undefined;
    }
  });

  it('a pool edited at run time: growth gives the pending port an address, shrinking is reported', async () => {
    const provider = accountOf('failures: pool provider');
    const owner = accountOf('failures: pool tenant');
    await call(
      'POST',
      poolPath(),
      metallbPool('grow', ['198.51.100.1-198.51.100.2'], cluster.metallbNamespace),
    );
    const leases = [200, 201, 202].map((dseq) => leaseOf(owner, dseq, 1, 1, provider));
    for (const [i, lease] of leases.entries()) await declare(lease, { ...web, endpoint: `p${i}` });
    const logger = memoryLogger();
    const operator = await start(provider, 'grow', { logger });
    const waiting = await eventually('two ports confirmed, one pending for want of an address', async () => {
      if (confirmed(operator) !== 2) return undefined;
      const pending = operator.operator.state().find((lease) => lease.ports[0]?.state === 'pending');
      return pending?.ports[0]?.reason?.includes('no free address') === true ? pending.lease : undefined;
    });
    assert.equal(await (await fetch(`${operator.url}/usage`)).text(), '{"Available":2,"InUse":2}\n');
    const state = (await (await fetch(`${operator.url}/state`)).json()) as Record<
      string,
      { state: string; reason?: string }[]
    >;
    const key = `${waiting.owner}/${waiting.dseq}/1/1/${provider}`;
    assert.equal(state[key]?.[0]?.state, 'pending');
    assert.match(state[key]?.[0]?.reason ?? '', /no free address/);

    await call('PATCH', poolPath('grow'), { spec: { addresses: ['198.51.100.1-198.51.100.3'] } });
    const grown = await eventually('the pending port confirmed without a restart', async () => {
      const entries = await leaseStatus(operator, waiting);
      return entries.length === 1 ? entries[0]?.IP : undefined;
    });
    assert.equal(grown, '198.51.100.3');
    assert.equal(await (await fetch(`${operator.url}/usage`)).text(), '{"Available":3,"InUse":3}\n');

    await call('PATCH', poolPath('grow'), { spec: { addresses: ['198.51.100.1-198.51.100.2'] } });
    const orphan = await eventually('the shrink reported', async () =>
      logger.lines.find((line) => line.msg === 'an address held by a lease is in no pool now; it stays held'),
    );
    assert.deepEqual(orphan.fields.addresses, ['198.51.100.3']);
    assert.equal(orphan.fields.lease, `${waiting.owner}/${waiting.dseq}/1/1/${provider}`);
    assert.equal(await (await fetch(`${operator.url}/usage`)).text(), '{"Available":2,"InUse":2}\n');
    // MetalLB withdraws the address it may no longer hand out; /state says so in MetalLB's words, and
    // the Go client no longer reads the port.
    const withdrawn = await eventually('MetalLB withdrawing the address, as /state reports', async () => {
      const port = operator.operator.state().find((lease) => lease.lease.dseq === waiting.dseq)?.ports[0];
      return port?.state === 'pending' && port.reason?.startsWith('MetalLB: ') ? port.reason : undefined;
    });
    assert.match(withdrawn, /198\.51\.100\.3.*not allowed/);
    assert.deepEqual(await leaseStatus(operator, waiting), []);
    // The lease kept its address: growing the pool again gives it back the same one.
    await call('PATCH', poolPath('grow'), { spec: { addresses: ['198.51.100.1-198.51.100.3'] } });
    await eventually('the same address confirmed again', async () =>
      (await leaseStatus(operator, waiting))[0]?.IP === '198.51.100.3' ? true : undefined,
    );
  });

  it('poison objects: a missing lease namespace and a malformed object are listed with why; the others proceed', async () => {
    const provider = accountOf('failures: poison provider');
    const owner = accountOf('failures: poison tenant');
    await call('POST', poolPath(), metallbPool('poison', ['198.51.100.64/28'], cluster.metallbNamespace));
    const good = [300, 301].map((dseq) => leaseOf(owner, dseq, 1, 1, provider));
    for (const [i, lease] of good.entries()) await declare(lease, { ...web, endpoint: `g${i}` });
    // The namespace deleted out of band, or not made yet: Go ignores such a lease until it restarts.
    const homeless = leaseOf(owner, 302, 1, 1, provider);
    await go.declareIP(homeless, { ...web, endpoint: 'homeless' });
    // A sharing key that is not the owner's: no endpoint can be named from it.
    const malformed = goLeasedIp(leaseOf(owner, 303, 1, 1, provider), { ...web, endpoint: 'bad' });
    malformed.spec.sharing_key = 'someone-else-ip-bad';
    await call('POST', LEASED_IPS, malformed);

    const operator = await start(provider, 'poison');
    await eventually('the good leases confirmed', async () => (confirmed(operator) === 2 ? true : undefined));
    const reason = await eventually('the homeless lease reported in /state', async () => {
      const state = (await (await fetch(`${operator.url}/state`)).json()) as Record<
        string,
        { state: string; reason?: string }[]
      >;
      const port = state[`${owner}/302/1/1/${provider}`]?.[0];
      return port?.state === 'pending' && port.reason?.startsWith('writing the Service failed')
        ? port.reason
        : undefined;
    });
    assert.match(reason, /not found/i);
    const ignored = (await (await fetch(`${operator.url}/ignored-leases`)).json()) as Record<
      string,
      { objects: string[]; 'last-error': string; 'last-error-type': string }
    >;
    const entry = ignored[`object/${malformed.metadata.name}`];
    assert.equal(entry?.['last-error-type'], 'malformed');
    assert.match(entry?.['last-error'] ?? '', /sharing/i);
    assert.equal(await statusOf(operator, '/health'), 200);
    assert.equal(await statusOf(operator, '/readyz'), 200);
    for (const lease of good) assert.equal((await leaseStatus(operator, lease)).length, 1);

    // The namespace appears: the backed-off object is retried on its own and proceeds, no restart.
    await call('POST', '/api/v1/namespaces', { metadata: { name: leaseNamespace(homeless) } });
    await eventually(
      'the homeless lease confirmed once its namespace exists',
      async () => ((await leaseStatus(operator, homeless)).length === 1 ? true : undefined),
      90_000,
    );
  });
});
