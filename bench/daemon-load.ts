/**
 * A bounded keep-alive HTTP load generator, run as its own process by daemon.bench.ts so the client's
 * CPU is not the server's event loop. Input (a JSON file named by argv[2]): the base URL, request paths
 * with their bearer tokens (cycled in order), concurrency, a duration and a request cap. Output: one JSON
 * line with the request count, errors, throughput and latency quantiles in milliseconds.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';

export interface LoadPlan {
  readonly url: string;
  readonly targets: readonly { readonly path: string; readonly token: string }[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxRequests: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const plan = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadPlan;
const base = new URL(plan.url);
const agent = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
const headers = plan.targets.map((target) => ({ authorization: `Bearer ${target.token}` }));
const latencies = new Float64Array(plan.maxRequests);
let issued = 0;
let completed = 0;
let errors = 0;
let next = 0;

function once(index: number): Promise<void> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const target = plan.targets[index]!;
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: target.path,
        method: 'GET',
        agent,
        headers: headers[index],
      },
      (res) => {
        if (res.statusCode !== 200) errors++;
        res.on('data', () => {});
        res.on('end', () => {
          latencies[completed++] = Number(process.hrtime.bigint() - started) / 1e6;
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

const start = process.hrtime.bigint();
const deadline = start + BigInt(plan.durationMs) * 1_000_000n;
async function worker(): Promise<void> {
  while (issued < plan.maxRequests && process.hrtime.bigint() < deadline) {
    issued++;
    const index = next;
    next = (next + 1) % plan.targets.length;
    await once(index);
  }
}
await Promise.all(Array.from({ length: plan.concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
agent.destroy();

const sorted = latencies.subarray(0, completed).sort();
const at = (q: number): number =>
  sorted[Math.min(completed - 1, Math.max(0, Math.ceil(q * completed) - 1))] ?? 0;
const result: LoadResult = {
  requests: completed,
  errors,
  seconds,
  rps: completed / seconds,
  p50: at(0.5),
  p99: at(0.99),
  max: at(1),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
