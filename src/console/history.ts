/**
 * The pools' history for the provider chart: a bounded ring of samples, oldest dropped first, so a
 * console left open for days holds the same memory as one just started.
 */
import type { SampleJson } from './api-types.js';

/** Samples kept by default: 30 minutes at one sample every 3 s. */
export const DEFAULT_HISTORY_SIZE = 600;

export class PoolHistory {
  readonly #size: number;
  readonly #samples: SampleJson[] = [];

  constructor(size: number = DEFAULT_HISTORY_SIZE) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw new RangeError(`history size ${size} is not a positive integer`);
    this.#size = size;
  }

  add(sample: SampleJson): void {
    this.#samples.push(sample);
    if (this.#samples.length > this.#size) this.#samples.splice(0, this.#samples.length - this.#size);
  }

  /** The samples, oldest first. */
  list(): readonly SampleJson[] {
    return [...this.#samples];
  }
}
