/**
 * `akash-ip operator` on the real test cluster (kube-apiserver + MetalLB controller, test/k8s/cluster.ts):
 * 1,000 declarations (500 leases × 2 ports) of `ProviderLeasedIP` objects written as the Go provider's
 * DeclareIP writes them, then the operator started in-process behind a gateway that counts every apiserver
 * request by verb and resource.
 *
 * Measured: the cold start (first list → every port confirmed by MetalLB; MetalLB confirms some 15 Services
 * a second here, so a cold round is over a minute) and restarts with the same objects (first list →
 * `/health` 200, requests, writes: must be 0), with the SQLite state file and without (rebuilt from the
 * Services' pins). Next to them, the Go operator's cost as the reference (§10, F5) states it: one Get + one
 * Create/Update per object per epoch, computed, not run.
 *
 * Progress goes to stderr; every phase has a deadline; the cluster is stopped on the way out (and, should
 * this process be killed, stops by itself when its stdin closes).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../src/daemon/index.js';
import { createHttpsGateway, type KubeGateway, type KubeRequest, leaseNamespace } from '../src/k8s/index.js';
import type { LeaseId } from '../src/lease/index.js';
import { parseOperatorConfig, type RunningOperator, runOperator } from '../src/operator/index.js';
import { accountOf, leaseOf, metallbPool, PROVIDER } from '../src/operator/testing.js';
import { eventually, startCluster, type TestCluster } from '../test/k8s/cluster.js';
import { GoProvider } from '../test/k8s/go-provider.js';
import { median, type Suite } from './harness.js';

const TENANTS = 20;
const LEASES_PER_TENANT = 25;
const LEASES = TENANTS * LEASES_PER_TENANT;
const PORTS_PER_LEASE = 2;
/**
 * Two TCP ports of one endpoint: one sharing key, so one address per lease. Go names an object after its
 * sharing key (owner + endpoint), not its lease, so each of a tenant's leases has an endpoint of its own.
 */
function portsOf(lease: number) {
  const endpoint = `web${lease}`;
  return [
    { endpoint, service: 'web', port: 8080, externalPort: 80, proto: 'TCP' },
    { endpoint, service: 'web', port: 8443, externalPort: 443, proto: 'TCP' },
  ] as const;
}
const DECLARATIONS = LEASES * PORTS_PER_LEASE;
/**
 * Every LoadBalancer Service takes a ClusterIP, and the operator's Services are IPv4 (Go's objects name no
 * family). The harness's IPv4 service range (203.0.113.0/25) holds 125, so a ServiceCIDR from loopback
 * holds the rest: ClusterIPs here are only numbers the apiserver hands out (no kube-proxy runs, nothing is
 * ever sent to them). That leaves two whole documentation ranges, 512 addresses, to the leases' pool
 * (MetalLB hands out .0 and .255 too, without avoidBuggyIPs).
 */
const POOL = ['192.0.2.0/24', '198.51.100.0/24'];
const EXTRA_SERVICE_CIDRS = ['127.64.0.0/22'];
const COLD_RUNS = 3;
const RESTARTS = 3;
const WRITE_CONCURRENCY = 16;
const SETUP_TIMEOUT_MS = 180_000;
const CONFIRM_TIMEOUT_MS = 240_000;
const RESTART_TIMEOUT_MS = 60_000;
/** Reading every lease's status back, stopping an operator: quick, but never waited on for ever. */
const CHECK_TIMEOUT_MS = 60_000;

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
  lastWriteAt: number | undefined;
  readonly #inner: KubeGateway;

  constructor(inner: KubeGateway) {
    this.#inner = inner;
  }

  #count(method: KubeRequest['method'] | 'WATCH', path: string): void {
    this.firstAt ??= performance.now();
    const { verb, what } = requestOf(method, path);
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
    if (WRITE_VERBS.has(verb)) {
      this.#writes += 1;
      this.lastWriteAt = performance.now();
    }
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

/** `work`, or a failure naming `what` once `timeoutMs` has passed: no phase of the bench waits for ever. */
async function within<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
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

interface Started {
  readonly operator: RunningOperator;
  readonly counting: CountingGateway;
}

/** One test cluster with the CRD, the pool, the extra ServiceCIDRs and every lease declared. */
class BenchCluster {
  readonly leases: readonly LeaseId[];
  readonly #cluster: TestCluster;
  readonly #admin: KubeGateway;
  readonly #running = new Set<Started>();

  private constructor(cluster: TestCluster, leases: readonly LeaseId[]) {
    this.#cluster = cluster;
    this.#admin = createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token });
    this.leases = leases;
  }

  static async start(leases: readonly LeaseId[]): Promise<BenchCluster> {
    progress('starting the test cluster (apiserver + MetalLB controller)');
    const at = performance.now();
    const bench = new BenchCluster(await startCluster(), leases);
    try {
      progress(`cluster ready in ${Math.round(performance.now() - at)} ms`);
      await bench.#prepare();
      return bench;
    } catch (error) {
      await bench.stop();
      throw error;
    }
  }

  async #call(method: 'POST', path: string, body: unknown): Promise<void> {
    const answer = await this.#admin.request({ method, path, body });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.error.message}`);
    if (answer.value.status >= 300) {
      throw new Error(`${method} ${path}: HTTP ${answer.value.status} ${JSON.stringify(answer.value.body)}`);
    }
  }

  async #prepare(): Promise<void> {
    const metallb = this.#cluster.metallbNamespace;
    const go = new GoProvider(this.#admin);
    await go.install();
    await this.#call(
      'POST',
      `/apis/metallb.io/v1beta1/namespaces/${metallb}/ipaddresspools`,
      metallbPool('default', POOL, metallb),
    );
    for (const [i, cidr] of EXTRA_SERVICE_CIDRS.entries()) {
      await this.#call('POST', '/apis/networking.k8s.io/v1/servicecidrs', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'ServiceCIDR',
        metadata: { name: `bench-${i}` },
        spec: { cidrs: [cidr] },
      });
    }
    progress(`declaring ${DECLARATIONS} ports on ${LEASES} leases as Go's DeclareIP does`);
    const at = performance.now();
    const deadline = Date.now() + SETUP_TIMEOUT_MS;
    await inParallel(this.leases, WRITE_CONCURRENCY, async (lease) => {
      if (Date.now() > deadline) throw new Error(`declaring not done within ${SETUP_TIMEOUT_MS} ms`);
      await go.createLeaseNamespace(lease);
      for (const port of portsOf(Number(lease.dseq))) await go.declareIP(lease, port);
    });
    progress(`declared in ${Math.round(performance.now() - at)} ms`);
  }

  /** The operator in-process, its every apiserver request counted; `/health` 200 awaited (bounded). */
  async operator(state: string | undefined, timeoutMs: number): Promise<Started> {
    const cluster = this.#cluster;
    const counting = new CountingGateway(
      createHttpsGateway({ server: cluster.server, ca: cluster.ca, token: cluster.token, timeoutMs: 15_000 }),
    );
    const config = parseOperatorConfig(
      {
        provider: PROVIDER,
        kubeconfig: cluster.kubeconfig,
        restAddress: '127.0.0.1',
        restPort: '0',
        ...(state === undefined ? {} : { state }),
      },
      { AP_METALLB_NAMESPACE: cluster.metallbNamespace },
    );
    if (!config.ok) throw new Error(config.error.message);
    const started = await runOperator(config.value, { logger: stderrLogger(), gateway: counting });
    if (!started.ok) throw new Error(started.error.message);
    const running = { operator: started.value, counting };
    this.#running.add(running);
    await within('the first sync', timeoutMs, started.value.operator.synced());
    const health = await fetch(`${started.value.url}/health`, {
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    assert.equal(health.status, 200, '/health answers 200 once synced');
    return running;
  }

  async stopOperator(running: Started): Promise<void> {
    this.#running.delete(running);
    await within('stopping the operator', CHECK_TIMEOUT_MS, running.operator.stop());
    running.counting.close();
  }

  async stop(): Promise<void> {
    for (const running of [...this.#running]) await this.stopOperator(running);
    this.#admin.close();
    progress('stopping the cluster');
    await this.#cluster.stop();
  }
}

function since(at: number | undefined): number {
  return performance.now() - (at ?? performance.now());
}

async function leaseStatus(running: Started, lease: LeaseId): Promise<{ IP: string }[]> {
  const answer = await fetch(
    `${running.operator.url}/ip-lease-status/${lease.owner}/${lease.dseq}/${lease.gseq}/${lease.oseq}`,
    { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) },
  );
  assert.equal(answer.status, 200);
  return (await answer.json()) as { IP: string }[];
}

interface ColdRun {
  readonly health: number;
  /** The operator's own part: first list → its last Service write. The rest is MetalLB's. */
  readonly written: number;
  readonly confirmed: number;
  readonly counts: ReadonlyMap<string, number>;
  readonly total: number;
  readonly writes: number;
  /** Lease namespace → its address, as the Go client reads it. */
  readonly addresses: ReadonlyMap<string, string>;
}

/** From the first list to every port confirmed by MetalLB; then what the Go client reads is checked. */
async function coldStart(bench: BenchCluster, stateFile: string): Promise<ColdRun> {
  progress(`cold start: the operator leases ${LEASES} addresses, writes ${DECLARATIONS} Services`);
  const cold = await bench.operator(stateFile, CONFIRM_TIMEOUT_MS);
  const health = since(cold.counting.firstAt);
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
  const confirmed = since(cold.counting.firstAt);
  await within('the last pass', CHECK_TIMEOUT_MS, cold.operator.operator.idle());
  progress(`all confirmed in ${Math.round(confirmed)} ms; requests: ${cold.counting.summary()}`);
  const run = {
    health,
    written: (cold.counting.lastWriteAt ?? Number.NaN) - (cold.counting.firstAt ?? Number.NaN),
    confirmed,
    counts: new Map(cold.counting.counts),
    total: cold.counting.total(),
    writes: cold.counting.writes(),
  };
  // Every port of every lease as the Go provider's client reads it: one address per lease, none shared.
  const addresses = new Map<string, string>();
  await within(
    'reading every lease status',
    CHECK_TIMEOUT_MS,
    inParallel(bench.leases, WRITE_CONCURRENCY, async (lease) => {
      const entries = await leaseStatus(cold, lease);
      assert.equal(entries.length, PORTS_PER_LEASE);
      assert.equal(entries[0]!.IP, entries[1]!.IP);
      addresses.set(leaseNamespace(lease), entries[0]!.IP);
    }),
  );
  assert.equal(new Set(addresses.values()).size, LEASES, 'every lease has an address of its own');
  await bench.stopOperator(cold);
  return { ...run, addresses };
}

interface Restarts {
  readonly health: number[];
  readonly requests: number[];
  readonly writes: number[];
}

/** Restarts with everything in place: `/health` 200, the same addresses, and what it cost. */
async function restarts(
  bench: BenchCluster,
  state: string | undefined,
  addresses: ReadonlyMap<string, string>,
  kind: string,
): Promise<Restarts> {
  const out: Restarts = { health: [], requests: [], writes: [] };
  for (let run = 0; run < RESTARTS; run++) {
    const again = await bench.operator(state, RESTART_TIMEOUT_MS);
    out.health.push(since(again.counting.firstAt));
    await within('the last pass', CHECK_TIMEOUT_MS, again.operator.operator.idle());
    assert.equal(confirmedPorts(again.operator), DECLARATIONS, 'every port confirmed at once');
    await within(
      'reading every lease status',
      CHECK_TIMEOUT_MS,
      inParallel(bench.leases, WRITE_CONCURRENCY, async (lease) => {
        const entries = await leaseStatus(again, lease);
        assert.equal(entries[0]?.IP, addresses.get(leaseNamespace(lease)), 'the same address');
      }),
    );
    out.requests.push(again.counting.total());
    out.writes.push(again.counting.writes());
    progress(
      `restart ${kind} #${run + 1}: /health 200 after ${Math.round(out.health.at(-1)!)} ms; ` +
        `requests: ${again.counting.summary()}`,
    );
    await bench.stopOperator(again);
  }
  return out;
}

const suite: Suite = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-operator-bench-'));
  const leases: LeaseId[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const owner = accountOf(`bench tenant ${t}`);
    for (let n = 0; n < LEASES_PER_TENANT; n++) leases.push(leaseOf(owner, 1000 + n));
  }
  const label = `${DECLARATIONS} declarations (${LEASES} leases × ${PORTS_PER_LEASE} ports)`;
  const cold: ColdRun[] = [];
  try {
    // Each cold start on a cluster of its own: no Service, Event or MetalLB memory left from the one before.
    for (let run = 0; run < COLD_RUNS; run++) {
      const bench = await BenchCluster.start(leases);
      try {
        const stateFile = join(dir, `state-${run}.sqlite`);
        cold.push(await coldStart(bench, stateFile));
        if (run < COLD_RUNS - 1) continue;
        const addresses = cold.at(-1)!.addresses;
        const kinds = [
          ['with its state file', stateFile],
          ['without state (rebuilt from the Services)', undefined],
        ] as const;
        const restartRuns = [];
        for (const [kind, state] of kinds) {
          restartRuns.push({ kind, ...(await restarts(bench, state, addresses, kind)) });
        }
        const coldOf = (pick: (run: ColdRun) => number) => median(cold.map(pick));
        const times = `median of ${COLD_RUNS}`;
        report({
          name: `cold start, ${label}: first list → /health 200 (${times})`,
          value: coldOf((r) => r.health),
          unit: 'ms',
        });
        report({
          name: `cold start, ${label}: first list → every Service written (${times})`,
          value: coldOf((r) => r.written),
          unit: 'ms',
        });
        report({
          name: `cold start, ${label}: first list → all confirmed by MetalLB (${times})`,
          value: coldOf((r) => r.confirmed),
          unit: 'ms',
        });
        report({
          name: `cold start: apiserver requests (${times})`,
          value: coldOf((r) => r.total),
          unit: 'req',
        });
        const kindsOfRequest = new Set(cold.flatMap((r) => [...r.counts.keys()]));
        for (const what of [...kindsOfRequest].sort()) {
          report({
            name: `cold start: apiserver requests, ${what} (${times})`,
            value: coldOf((r) => r.counts.get(what) ?? 0),
            unit: 'req',
          });
        }
        report({
          name: `cold start: apiserver writes (${times})`,
          value: coldOf((r) => r.writes),
          unit: 'req',
        });
        for (const { kind, health, requests, writes } of restartRuns) {
          const restart = `restart ${kind}, ${DECLARATIONS} declarations`;
          report({
            name: `${restart}: first list → /health 200 (median of ${RESTARTS})`,
            value: median(health),
            unit: 'ms',
          });
          report({
            name: `${restart}: apiserver requests (median of ${RESTARTS})`,
            value: median(requests),
            unit: 'req',
          });
          report({
            name: `${restart}: apiserver writes (max of ${RESTARTS})`,
            value: Math.max(...writes),
            unit: 'req',
          });
        }
      } finally {
        await bench.stop();
      }
    }
    // The reference's own accounting (akash-provider-ip.md §2.2, §10, F5), computed rather than run: on a
    // cold start each object's Add is a Get (404) + Create; on every restart or epoch each object is
    // re-applied with a Get + a full Update, besides the lists and the watch.
    const go = 'Go operator reference (computed: one Get + one Create/Update per object per epoch)';
    report({
      name: `${go}: cold start requests, ${DECLARATIONS} declarations`,
      value: 2 * DECLARATIONS,
      unit: 'req',
    });
    report({
      name: `${go}: cold start writes, ${DECLARATIONS} declarations`,
      value: DECLARATIONS,
      unit: 'req',
    });
    report({
      name: `${go}: restart requests, ${DECLARATIONS} declarations`,
      value: 2 * DECLARATIONS,
      unit: 'req',
    });
    report({ name: `${go}: restart writes, ${DECLARATIONS} declarations`, value: DECLARATIONS, unit: 'req' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default suite;
