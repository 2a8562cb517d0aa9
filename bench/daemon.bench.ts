/**
 * Provider daemon: one real server on 127.0.0.1 holding 10k IP leases (100 tenants × 100 leases), and
 * lease-status throughput and latency measured by a separate keep-alive load process (bench/daemon-load.ts)
 * with pre-signed tokens. Floor: 5k requests/s and p99 under 5 ms on a 2-core machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createMetrics,
  createProviderApp,
  type DeployedLease,
  listen,
  memoryLogger,
  ProviderService,
  providerListener,
  Readiness,
  StaticChain,
  TokenVerifier,
} from '../src/daemon/index.js';
import { account, ipSdl, tokenOf, unwrap } from '../src/daemon/testing.js';
import { createLeaseEngine, type LeaseId } from '../src/lease/index.js';
import { createMemoryStore } from '../src/store/index.js';
import type { LoadPlan, LoadResult } from './daemon-load.js';
import { median, type Suite } from './harness.js';

const TENANTS = 100;
const LEASES_PER_TENANT = 100;
const CONCURRENCY = 16;
const DURATION_MS = 5000;
const MAX_REQUESTS = 200_000;
const RUNS = 3;
const here = dirname(fileURLToPath(import.meta.url));

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs the load process once and returns what it measured. */
function load(planFile: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'daemon-load.ts'), planFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load process exited ${code}`)),
    );
  });
}

const suite: Suite = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-daemon-bench-'));
  const provider = account(0x9a9a).address;
  const tenants = Array.from({ length: TENANTS }, (_, i) => account(0x1000 + i));
  const engine = unwrap(
    await createLeaseEngine({
      store: createMemoryStore(),
      provider,
      pools: [{ name: 'default', addresses: ['127.1.0.0/16'] }],
    }),
  );
  const sdl = ipSdl('web-ip');
  const group = sdl.manifest[0]!;
  const deployed: DeployedLease[] = [];
  const targets: { path: string; token: string }[] = [];
  const now = Date.now();
  const tokens = tenants.map((tenant) => tokenOf(tenant, now, { ttlSeconds: 3600 }));
  const build = process.hrtime.bigint();
  for (let n = 0; n < LEASES_PER_TENANT; n++) {
    for (const [t, tenant] of tenants.entries()) {
      const id: LeaseId = { owner: tenant.address, dseq: String(n + 1), gseq: 1, oseq: 1, provider };
      unwrap(await engine.deploy(id, group));
      deployed.push({ id, group, version: sdl.manifestVersion, deployedAt: now, updatedAt: now });
      targets.push({ path: `/lease/${id.dseq}/1/1/status`, token: tokens[t]! });
    }
  }
  report({ name: `build ${deployed.length} leases (engine, memory store)`, value: ms(build), unit: 'ms' });

  const chain = new StaticChain(
    tenants.map((tenant) => ({ address: tenant.address, pubkey: tenant.pubkey })),
  );
  const metrics = createMetrics(() => engine.inventory().pools);
  const service = new ProviderService({
    provider,
    engine,
    deployed,
    chain,
    logger: memoryLogger(),
    metrics,
    now: Date.now,
  });
  const readiness = new Readiness();
  readiness.open();
  const verifier = new TokenVerifier({ lookup: chain.pubkey, now: Date.now, cacheSize: 10_000 });
  const app = createProviderApp({
    service: () => service,
    readiness,
    verifier,
    metrics,
    maxBodyBytes: 1 << 20,
  });
  const listener = providerListener(app, { service: () => service, readiness, verifier, metrics });
  const { server, port } = unwrap(await listen(listener, '127.0.0.1', 0, { metrics }));

  try {
    const planFile = join(dir, 'plan.json');
    const plan = (durationMs: number): LoadPlan => ({
      url: `http://127.0.0.1:${port}`,
      targets,
      concurrency: CONCURRENCY,
      durationMs,
      maxRequests: MAX_REQUESTS,
    });
    writeFileSync(planFile, JSON.stringify(plan(1000)));
    const warm = await load(planFile);
    if (warm.errors > 0) throw new Error(`warm-up saw ${warm.errors} failed requests`);
    writeFileSync(planFile, JSON.stringify(plan(DURATION_MS)));
    const runs: LoadResult[] = [];
    const cpuPerRequest: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      // this process only serves during a run, so its CPU time is the server's
      const cpu = process.cpuUsage();
      const result = await load(planFile);
      const used = process.cpuUsage(cpu);
      if (result.errors > 0) throw new Error(`run ${run} saw ${result.errors} failed requests`);
      runs.push(result);
      cpuPerRequest.push((used.user + used.system) / result.requests);
    }
    const label = `lease-status, ${deployed.length} leases, ${CONCURRENCY} connections`;
    report({
      name: `${label}: throughput (median of ${RUNS})`,
      value: median(runs.map((r) => r.rps)),
      unit: 'req/s',
    });
    report({ name: `${label}: p50`, value: median(runs.map((r) => r.p50)), unit: 'ms' });
    report({ name: `${label}: p99`, value: median(runs.map((r) => r.p99)), unit: 'ms' });
    report({ name: `${label}: requests per run`, value: median(runs.map((r) => r.requests)), unit: 'req' });
    report({ name: `${label}: server CPU per request`, value: median(cpuPerRequest), unit: 'µs' });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
};

export default suite;
