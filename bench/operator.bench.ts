/**
 * `akash-ip operator` on the real test cluster (kube-apiserver + MetalLB controller, test/k8s/cluster.ts):
 * leases × 2 ports of `ProviderLeasedIP` objects written as the Go provider's DeclareIP writes them (as many
 * as the documentation address ranges hold: see POOL), then the operator started in-process behind a gateway
 * that counts every apiserver request by verb.
 *
 * Measured: the cold start (first list → every port confirmed by MetalLB) and restarts with the same
 * objects (first list → `/health` 200, requests, writes: must be 0), with the SQLite state file and without
 * (rebuilt from the Services' pins). Next to them, the Go operator's cost as the reference (§10, F5) states
 * it: one Get + one Create/Update per object per epoch, computed, not run.
 *
 * Progress goes to stderr; every phase has a deadline; the cluster is stopped on the way out (and, should
 * this process be killed, stops by itself when its stdin closes).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../src/daemon/index.js';
import {
  createHttpsGateway,
  KubeBackend,
  type KubeGateway,
  type KubeRequest,
  leaseNamespace,
} from '../src/k8s/index.js';
import type { LeaseId } from '../src/lease/index.js';
import { parseOperatorConfig, type RunningOperator, runOperator } from '../src/operator/index.js';
import { accountOf, goLeasedIp, leaseOf, metallbPool, PROVIDER } from '../src/operator/testing.js';
import { eventually, startCluster, type TestCluster } from '../test/k8s/cluster.js';
import { median, type Suite } from './harness.js';

const TENANTS = 20;
const LEASES_PER_TENANT = 10;
const LEASES = TENANTS * LEASES_PER_TENANT;
const PORTS_PER_LEASE = 2;
/**
 * Two TCP ports of one endpoint: one sharing key, so one address per lease. Go names an object after its
 * sharing key (owner + endpoint), not its lease, so each of a tenant's leases has an endpoint of its own.
 */
function portsOf(lease: number) {
  const endpoint = `web${lease}`;
  return [
    { endpoint, service: 'web', port: 8080, externalPort: 80 },
    { endpoint, service: 'web', port: 8443, externalPort: 443 },
  ] as const;
}
const DECLARATIONS = LEASES * PORTS_PER_LEASE;
/**
 * Every LoadBalancer Service takes a ClusterIP, and the operator's Services are IPv4 (Go's objects name no
 * family, and an IPv6 pool is refused in this mode: FAMILY_MISMATCH). The harness's IPv4 service range
 * (203.0.113.0/25) holds 125, so two ServiceCIDRs from the other documentation ranges add 316; the leases'
 * pool is 192.0.2.0/24. The documentation ranges (768 IPv4 addresses) cannot hold 1,000 Services and their
 * addresses, so the bench runs the largest round size that fits: 200 leases × 2 ports.
 */
const POOL = ['192.0.2.1-192.0.2.254'];
const EXTRA_SERVICE_CIDRS = ['198.51.100.0/24', '203.0.113.128/26'];
const RESTARTS = 3;
const WRITE_CONCURRENCY = 16;
const SETUP_TIMEOUT_MS = 180_000;
const CONFIRM_TIMEOUT_MS = 240_000;
const RESTART_TIMEOUT_MS = 60_000;
const LEASED_IPS = '/apis/akash.network/v2beta2/namespaces/lease/providerleasedips';

type Verb = 'list' | 'get' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
const WRITE_VERBS: ReadonlySet<Verb> = new Set(['create', 'update', 'patch', 'delete']);

/**
 * `verb resource`, e.g. `list services`, `create services`, `list events`. A collection path has an odd
 * number of segments after its group/version (`services`, `namespaces/x/services`), an object's an even one.
 */
function requestOf(method: KubeRequest['method'] | 'WATCH', path: string): { verb: Verb; what: string } {
  const rest = path.replace(/^\/api\/v1\/?|^\/apis\/[^/]+\/[^/]+\/?/, '');
  const segments = rest.split('/').filter((part) => part !== '');
  const collection = segments.length % 2 === 1;
  const resource = segments[collection ? segments.length - 1 : segments.length - 2] ?? path;
  const verb: Verb =
    method === 'WATCH'
      ? 'watch'
      : method === 'GET'
        ? collection
          ? 'list'
          : 'get'
        : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as const)[method];
  return { verb, what: `${verb} ${resource}` };
}

/** Every apiserver request the operator makes, by verb, through the KubeGateway port it is given. */
class CountingGateway implements KubeGateway {
  /** By `verb resource`. */
  readonly counts = new Map<string, number>();
  #writes = 0;
  firstAt: number | undefined;
  readonly #inner: KubeGateway;

  constructor(inner: KubeGateway) {
    this.#inner = inner;
  }

  #count(method: KubeRequest['method'] | 'WATCH', path: string): void {
    this.firstAt ??= performance.now();
    const { verb, what } = requestOf(method, path);
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
    if (WRITE_VERBS.has(verb)) this.#writes += 1;
  }

  request(req: KubeRequest) {
    this.#count(req.method, req.path);
    return this.#inner.request(req);
  }

  watch(req: Parameters<KubeGateway['watch']>[0], signal: AbortSignal) {
    this.#count('WATCH', req.path);
    return this.#inner.watch(req, signal);
  }

  close(): void {
    this.#inner.close();
  }

  total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  writes(): number {
    return this.#writes;
  }

  summary(): string {
    return [...this.counts.entries()].map(([verb, n]) => `${verb}=${n}`).join(' ');
  }
}

function progress(message: string): void {
  process.stderr.write(`[operator bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The operator's warnings and errors on stderr, the first few of each kind: a bench run must explain itself. */
function stderrLogger(): Logger {
  const seen = new Map<string, number>();
  return {
    log(level, msg, fields = {}) {
      if (level !== 'warn' && level !== 'error') return;
      const count = (seen.get(msg) ?? 0) + 1;
      seen.set(msg, count);
      if (count <= 3) progress(`operator ${level}: ${msg} ${JSON.stringify(fields)}`);
    },
  };
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

function confirmedPorts(running: RunningOperator): number {
  let confirmed = 0;
  for (const lease of running.operator.state()) {
    for (const port of lease.ports) if (port.state === 'confirmed') confirmed += 1;
  }
  return confirmed;
}

const suite: Suite = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-operator-bench-'));
  const stateFile = join(dir, 'state.sqlite');
  let cluster: TestCluster | undefined;
  let admin: KubeGateway | undefined;
  let running: RunningOperator | undefined;
  try {
    progress('starting the test cluster (apiserver + MetalLB controller)');
    const clusterStart = performance.now();
    cluster = await startCluster();
    progress(`cluster ready in ${Math.round(performance.now() - clusterStart)} ms`);
    const ready = cluster;
    const gateway = createHttpsGateway({ server: ready.server, ca: ready.ca, token: ready.token });
    admin = gateway;
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
      const answer = await gateway.request({ method, path, ...(body === undefined ? {} : { body }) });
      if (!answer.ok) throw new Error(`${method} ${path}: ${answer.error.message}`);
      if (answer.value.status >= 300) {
        throw new Error(
          `${method} ${path}: HTTP ${answer.value.status} ${JSON.stringify(answer.value.body)}`,
        );
      }
      return answer.value.body;
    };

    // The Akash provider's chart installs the CRD; the daemon's backend installs a compatible one.
    const crd = await new KubeBackend({ gateway, provider: PROVIDER }).ensureCrd();
    if (!crd.ok) throw new Error(crd.error.message);
    await call(
      'POST',
      `/apis/metallb.io/v1beta1/namespaces/${ready.metallbNamespace}/ipaddresspools`,
      metallbPool('default', POOL, ready.metallbNamespace),
    );
    for (const [i, cidr] of EXTRA_SERVICE_CIDRS.entries()) {
      await call('POST', '/apis/networking.k8s.io/v1/servicecidrs', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'ServiceCIDR',
        metadata: { name: `bench-${i}` },
        spec: { cidrs: [cidr] },
      });
    }
    const leases: LeaseId[] = [];
    for (let t = 0; t < TENANTS; t++) {
      const owner = accountOf(`bench tenant ${t}`);
      for (let n = 0; n < LEASES_PER_TENANT; n++) leases.push(leaseOf(owner, 1000 + n));
    }
    progress(`declaring ${DECLARATIONS} ports on ${LEASES} leases as Go's DeclareIP does`);
    const declareStart = performance.now();
    const declareDeadline = Date.now() + SETUP_TIMEOUT_MS;
    await inParallel(leases, WRITE_CONCURRENCY, async (lease) => {
      if (Date.now() > declareDeadline) throw new Error(`declaring not done within ${SETUP_TIMEOUT_MS} ms`);
      await call('POST', '/api/v1/namespaces', { metadata: { name: leaseNamespace(lease) } });
      for (const port of portsOf(Number(lease.dseq))) await call('POST', LEASED_IPS, goLeasedIp(lease, port));
    });
    progress(`declared in ${Math.round(performance.now() - declareStart)} ms`);

    const start = async (state: string | undefined) => {
      const counting = new CountingGateway(
        createHttpsGateway({ server: ready.server, ca: ready.ca, token: ready.token, timeoutMs: 15_000 }),
      );
      const config = parseOperatorConfig(
        {
          provider: PROVIDER,
          kubeconfig: ready.kubeconfig,
          restAddress: '127.0.0.1',
          restPort: '0',
          ...(state === undefined ? {} : { state }),
        },
        { AP_METALLB_NAMESPACE: ready.metallbNamespace },
      );
      if (!config.ok) throw new Error(config.error.message);
      const started = await runOperator(config.value, { logger: stderrLogger(), gateway: counting });
      if (!started.ok) throw new Error(started.error.message);
      running = started.value;
      return { operator: started.value, counting };
    };
    const healthy = async (operator: RunningOperator, timeoutMs: number) => {
      await Promise.race([
        operator.operator.synced(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no first sync within ${timeoutMs} ms`)), timeoutMs).unref(),
        ),
      ]);
      const health = await fetch(`${operator.url}/health`);
      assert.equal(health.status, 200, '/health answers 200 once synced');
    };
    const since = (at: number | undefined) => performance.now() - (at ?? performance.now());

    progress(`cold start: the operator leases ${LEASES} addresses, writes ${DECLARATIONS} Services`);
    const cold = await start(stateFile);
    await healthy(cold.operator, CONFIRM_TIMEOUT_MS);
    const coldHealth = since(cold.counting.firstAt);
    let lastReport = 0;
    await eventually(
      `all ${DECLARATIONS} ports confirmed by MetalLB`,
      async () => {
        const confirmed = confirmedPorts(cold.operator);
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          progress(`${confirmed}/${DECLARATIONS} confirmed; requests so far: ${cold.counting.summary()}`);
        }
        return confirmed === DECLARATIONS ? true : undefined;
      },
      CONFIRM_TIMEOUT_MS,
    );
    const coldConfirmed = since(cold.counting.firstAt);
    await cold.operator.operator.idle();
    progress(`all confirmed in ${Math.round(coldConfirmed)} ms; requests: ${cold.counting.summary()}`);
    // What the Go provider's client reads: every port of every lease, one address per lease, none shared.
    const addressOfLease = new Map<string, string>();
    await inParallel(leases, WRITE_CONCURRENCY, async (lease) => {
      const answer = await fetch(
        `${cold.operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/${lease.gseq}/${lease.oseq}`,
      );
      assert.equal(answer.status, 200);
      const entries = (await answer.json()) as { IP: string }[];
      assert.equal(entries.length, PORTS_PER_LEASE);
      assert.equal(entries[0]!.IP, entries[1]!.IP);
      addressOfLease.set(leaseNamespace(lease), entries[0]!.IP);
    });
    assert.equal(new Set(addressOfLease.values()).size, LEASES, 'every lease has an address of its own');

    const label = `${DECLARATIONS} declarations (${LEASES} leases × ${PORTS_PER_LEASE} ports)`;
    report({ name: `cold start, ${label}: first list → /health 200`, value: coldHealth, unit: 'ms' });
    report({
      name: `cold start, ${label}: first list → all confirmed by MetalLB`,
      value: coldConfirmed,
      unit: 'ms',
    });
    report({ name: `cold start: apiserver requests`, value: cold.counting.total(), unit: 'req' });
    for (const [what, count] of [...cold.counting.counts.entries()].sort()) {
      report({ name: `cold start: apiserver requests, ${what}`, value: count, unit: 'req' });
    }
    report({ name: 'cold start: apiserver writes', value: cold.counting.writes(), unit: 'req' });
    await cold.operator.stop();
    running = undefined;
    cold.counting.close();

    for (const [kind, state] of [
      ['with its state file', stateFile],
      ['without state (rebuilt from the Services)', undefined],
    ] as const) {
      const health: number[] = [];
      const requests: number[] = [];
      const writes: number[] = [];
      for (let run = 0; run < RESTARTS; run++) {
        const again = await start(state);
        await healthy(again.operator, RESTART_TIMEOUT_MS);
        health.push(since(again.counting.firstAt));
        await again.operator.operator.idle();
        assert.equal(confirmedPorts(again.operator), DECLARATIONS, 'every port confirmed at once');
        for (const lease of leases.slice(0, 5)) {
          const answer = await fetch(
            `${again.operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/${lease.gseq}/${lease.oseq}`,
          );
          const entries = (await answer.json()) as { IP: string }[];
          assert.equal(entries[0]?.IP, addressOfLease.get(leaseNamespace(lease)), 'the same address');
        }
        requests.push(again.counting.total());
        writes.push(again.counting.writes());
        progress(
          `restart ${kind} #${run + 1}: /health 200 after ${Math.round(health.at(-1)!)} ms; ` +
            `requests: ${again.counting.summary()}`,
        );
        await again.operator.stop();
        running = undefined;
        again.counting.close();
      }
      const restart = `restart ${kind}, ${DECLARATIONS} declarations`;
      report({
        name: `${restart}: first list → /health 200 (median of ${RESTARTS})`,
        value: median(health),
        unit: 'ms',
      });
      report({ name: `${restart}: apiserver requests (median)`, value: median(requests), unit: 'req' });
      report({
        name: `${restart}: apiserver writes (max of ${RESTARTS})`,
        value: Math.max(...writes),
        unit: 'req',
      });
    }

    // The reference's own accounting (akash-provider-ip.md §2.2, §10, F5), computed rather than run: on a
    // cold start each object's Add is a Get (404) + Create; on every restart or epoch each object is
    // re-applied with a Get + a full Update, besides the lists and the watch.
    const go = 'Go operator reference (computed: one Get + one Create/Update per object per epoch)';
    report({ name: `${go}: cold start requests`, value: 2 * DECLARATIONS, unit: 'req' });
    report({ name: `${go}: cold start writes`, value: DECLARATIONS, unit: 'req' });
    report({ name: `${go}: restart requests`, value: 2 * DECLARATIONS, unit: 'req' });
    report({ name: `${go}: restart writes`, value: DECLARATIONS, unit: 'req' });
  } finally {
    await running?.stop();
    admin?.close();
    progress('stopping the cluster');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default suite;
