/**
 * A bounded keep-alive HTTP/1.1 load generator, run as its own process by daemon.bench.ts so the client's
 * CPU is not the server's event loop. Like wrk, it writes prepared request bytes on raw sockets and reads
 * just enough of each response (status line, Content-Length, body) to know it is complete: one request in
 * flight per connection, no pipelining, so latency is the server's. Input (a JSON file named by argv[2]):
 * the base URL, request paths with their bearer tokens (cycled in order), concurrency, a duration and a
 * request cap. Output: one JSON line with the request count, errors, throughput and latency quantiles (ms).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

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
const requests = plan.targets.map((target) =>
  Buffer.from(
    `GET ${target.path} HTTP/1.1\r\nHost: ${base.host}\r\nAuthorization: Bearer ${target.token}\r\n` +
      'Connection: keep-alive\r\n\r\n',
  ),
);
const HEADER_END = Buffer.from('\r\n\r\n');
const latencies = new Float64Array(plan.maxRequests);
let issued = 0;
let completed = 0;
let errors = 0;
let next = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(plan.durationMs) * 1_000_000n;

/** Runs one connection until the deadline or the request cap; resolves when it is closed. */
function connection(): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: base.hostname, port: Number(base.port), noDelay: true });
    let buffered: Buffer = Buffer.alloc(0);
    let sentAt = 0n;
    const send = (): void => {
      if (issued >= plan.maxRequests || process.hrtime.bigint() >= deadline) {
        socket.end();
        return;
      }
      issued++;
      const request = requests[next]!;
      next = (next + 1) % requests.length;
      sentAt = process.hrtime.bigint();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const headerEnd = buffered.indexOf(HEADER_END);
      if (headerEnd < 0) return;
      const head = buffered.toString('latin1', 0, headerEnd);
      const length = /\r\ncontent-length: *([0-9]+)/i.exec(head);
      const total = headerEnd + 4 + Number(length?.[1] ?? 0);
      if (buffered.length < total) return;
      if (!head.startsWith('HTTP/1.1 200 ')) errors++;
      latencies[completed++] = Number(process.hrtime.bigint() - sentAt) / 1e6;
      buffered = buffered.subarray(total);
      send();
    });
    socket.on('error', () => {
      errors++;
      resolve();
    });
    socket.on('close', () => resolve());
  });
}

await Promise.all(Array.from({ length: plan.concurrency }, connection));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
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
