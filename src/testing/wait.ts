/**
 * Tests wait on a state, never on time: a condition (or a probe that finds a value) is checked again until
 * it holds, and a test that waits too long fails naming what it waited for. Shared by every folder's tests,
 * so this module imports nothing of the project.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitLimits {
  /** Gives up after this long; default 10 s. */
  readonly limitMs?: number;
  /**
   * Looks again after this many milliseconds (a real cluster or a child process, where each look costs a
   * request); by default on the next turn of the event loop, for in-process state that changes as soon as
   * the code under test has run.
   */
  readonly everyMs?: number;
}

const DEFAULT_LIMIT_MS = 10_000;

/** Resolves with the first value `probe` gives that is not undefined. */
export async function untilValue<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  { limitMs = DEFAULT_LIMIT_MS, everyMs }: WaitLimits = {},
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await (everyMs === undefined ? new Promise((resolve) => setImmediate(resolve)) : delay(everyMs));
  }
}

/** Resolves once `condition` holds. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limits?: WaitLimits,
): Promise<void> {
  await untilValue(async () => ((await condition()) ? true : undefined), what, limits);
}
