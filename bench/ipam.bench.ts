/**
 * IPAM at scale: a million allocations from an IPv4 /8 and an IPv6 /64, a million releases followed by a
 * million fresh allocations once the quarantine has passed, and restoring a million-allocation snapshot.
 * Floors: each under 2 s (median of 3) and under 200 bytes of heap per allocated address.
 *
 * The /8 is 10.0.0.0/8: no documentation range is that large, and RFC 1918 space is never routed.
 * Heap per address needs `--expose-gc` (the bench script passes it); it counts the JS heap plus typed-array
 * backing stores, and not the key and owner strings, which the caller already holds.
 */
import {
  type Allocator,
  type AllocatorOptions,
  createAllocator,
  type IpamSnapshot,
} from '../src/ipam/index.js';
import { type Measure, median, type Suite } from './harness.js';

const N = 1_000_000;
const RUNS = 3;
const HOUR = 3_600_000;

const owners = Array.from({ length: 1000 }, (_, i) => `akash1${String(i).padStart(38, 'q')}`);
const keysA = Array.from({ length: N }, (_, i) => `${owners[i % 1000]}-ip-a${i}`);
const keysB = Array.from({ length: N }, (_, i) => `${owners[i % 1000]}-ip-b${i}`);

function build(options: AllocatorOptions, snapshot?: IpamSnapshot): Allocator {
  const made = createAllocator(options, snapshot);
  if (!made.ok) throw new Error(made.error.message);
  return made.value;
}

function fill(allocator: Allocator, keys: readonly string[], family: 'v4' | 'v6'): void {
  for (let i = 0; i < keys.length; i++) {
    const done = allocator.allocate({ key: keys[i]!, owner: owners[i % 1000]!, family });
    if (!done.ok) throw new Error(done.error.message);
  }
}

function shuffled(values: readonly string[]): string[] {
  const out = [...values];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapBytes(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Heap retained per allocated address by what `make` builds (its own frame, so nothing else lingers). */
function heapPerAddress(make: () => Allocator): number {
  const before = heapBytes();
  const kept = make();
  const after = heapBytes();
  kept.lookup(keysA[0]!);
  return (after - before) / N;
}

/** Wall and CPU milliseconds of one run. CPU time (all threads, so GC helpers count) is the steadier
 * figure on a shared machine; wall time is what the floors are about. */
interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

function time(fn: () => void): Timing {
  // A run should not pay for collecting what earlier runs (a whole discarded allocator) left behind.
  gc?.();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

function reportTimes(report: (measure: Measure) => void, name: string, runs: readonly Timing[]): void {
  report({ name, value: median(runs.map((r) => r.wall)), unit: 'ms' });
  report({ name: `${name} (cpu)`, value: median(runs.map((r) => r.cpu)), unit: 'ms' });
}

const suite: Suite = async (report) => {
  const v4: AllocatorOptions = { pools: [{ name: 'big4', addresses: ['10.0.0.0/8'] }] };
  const v6: AllocatorOptions = { pools: [{ name: 'big6', addresses: ['2001:db8::/64'] }] };

  for (const [label, options, family] of [
    ['IPv4 /8', v4, 'v4'],
    ['IPv6 /64', v6, 'v6'],
  ] as const) {
    const times: Timing[] = [];
    for (let run = 0; run < RUNS; run++) times.push(time(() => fill(build(options), keysA, family)));
    reportTimes(report, `${label}: 1M allocations`, times);
    if (gc !== undefined) {
      const bytes = heapPerAddress(() => {
        const allocator = build(options);
        fill(allocator, keysA, family);
        return allocator;
      });
      report({ name: `${label}: heap per address`, value: bytes, unit: 'bytes' });
    }
  }

  // Releases in random order, then, once the quarantine has passed, as many fresh allocations.
  const order = shuffled(keysA);
  const releases: Timing[] = [];
  const reallocations: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    let now = 0;
    const allocator = build({ ...v4, now: () => now });
    fill(allocator, keysA, 'v4');
    releases.push(
      time(() => {
        for (const key of order) allocator.release(key);
      }),
    );
    now += HOUR;
    reallocations.push(time(() => fill(allocator, keysB, 'v4')));
  }
  const totals = releases.map((r, i) => ({
    wall: r.wall + reallocations[i]!.wall,
    cpu: r.cpu + reallocations[i]!.cpu,
  }));
  reportTimes(report, 'IPv4: 1M releases (random order)', releases);
  reportTimes(report, 'IPv4: 1M re-allocations (after expiry)', reallocations);
  reportTimes(report, 'IPv4: 1M releases + re-allocations', totals);

  const snapshot = (() => {
    const source = build(v4);
    fill(source, keysA, 'v4');
    return source.snapshot();
  })();
  const restores: Timing[] = [];
  for (let run = 0; run < RUNS; run++) restores.push(time(() => build(v4, snapshot)));
  reportTimes(report, 'IPv4: restore 1M allocations', restores);
  if (gc !== undefined) {
    report({
      name: 'IPv4: heap per restored address',
      value: heapPerAddress(() => build(v4, snapshot)),
      unit: 'bytes',
    });
  }
};

export default suite;
