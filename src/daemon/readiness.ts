/**
 * The start-up barrier: requests that need state answer 503 until the state is rebuilt,
 * and shutdown waits for requests in flight. Unlike Go's barrier it never gates liveness,
 * so a slow rebuild cannot make a supervisor kill a healthy process.
 */
export class Readiness {
  #ready = false;
  #reason: string | undefined;
  #inFlight = 0;
  #drained: (() => void) | undefined;

  get ready(): boolean {
    return this.#ready;
  }

  /** Why the daemon is not ready, when it waits on something other than its own state (a cluster). */
  get reason(): string | undefined {
    return this.#ready ? undefined : this.#reason;
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Records why the daemon is still not ready; `open()` clears it. */
  hold(reason: string): void {
    this.#reason = reason;
  }

  open(): void {
    this.#ready = true;
    this.#reason = undefined;
  }

  close(): void {
    this.#ready = false;
  }

  /** Runs `work` as one request in flight. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#drained?.();
    }
  }

  /** Resolves once no request is in flight, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
