/**
 * What the SIGKILL crash tests share: a worker process killed at a random point, and the deterministic
 * per-step randomness that lets a worker pick up where the killed one stopped.
 */
import { spawn } from 'node:child_process';

/**
 * Runs `node --import tsx <worker> ...args` and SIGKILLs it once it has written `killAfter` lines to stdout
 * (a worker writes one per committed step). Rejects if the worker exits any other way.
 */
export function runUntilKilled(worker: string, args: readonly string[], killAfter: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) lines += 1;
      if (lines >= killAfter) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`worker exited with ${code}: ${stderr}`));
    });
  });
}

/** mulberry32 over a per-step seed: step `step` of seed `seed` draws the same numbers in every process. */
export function stepRandom(seed: number, step: number): () => number {
  let state = (seed * 0x9e3779b1 + step * 0x85ebca6b) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One element of a non-empty list, drawn with `next`. */
export function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}
