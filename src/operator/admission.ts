/**
 * The leased-IP admission webhook in operator mode: src/webhook's {@link LeaseWebhook} over the operator's
 * engine and its connection to the cluster. The reconciler is what changes the engine here, so after
 * each pass the webhook is told about the active leases (their namespaces, first addresses) and, opted
 * in, rolls the workloads of a lease whose first address MetalLB now confirms. `/state`'s `ip_env` (do a
 * lease's pods carry its addresses) costs a pod list per lease: it is cached for a while and answered
 * within a bound, so a large provider's `/state` stays fast and never holds anything else up.
 */
import { ok } from '../errors/index.js';
import { type LeaseId, leaseKey } from '../lease/index.js';
import { type IpEnvStatus, ipEnvStatus, type LeaseWebhook } from '../webhook/index.js';
import type { IpOperator } from './reconciler.js';

export interface OperatorWebhookOptions {
  /** Built once the first sync is done: addresses found then were confirmed long ago and roll nothing. */
  readonly webhook: LeaseWebhook;
  readonly operator: Pick<IpOperator, 'confirmedPorts' | 'state'>;
  /** How long a lease's pod report is reused; default 10 s. */
  readonly maxAgeMs?: number;
  /** Pod lists in flight at once; default 4. */
  readonly concurrency?: number;
  readonly now?: () => number;
}

const CHECKING: IpEnvStatus = Object.freeze({
  current: null,
  code: 'NOT_READY',
  error: 'the lease pods are being checked; ask again',
});

export class OperatorWebhook {
  readonly #options: OperatorWebhookOptions;
  readonly #now: () => number;
  /** One step at a time; a pass during a step asks for one more after it. */
  #stepping: Promise<void> | undefined;
  #again = false;
  readonly #reports = new Map<string, { readonly status: IpEnvStatus; readonly at: number }>();
  readonly #checking = new Map<string, Promise<void>>();
  readonly #queue: (() => Promise<void>)[] = [];
  #active = 0;

  constructor(options: OperatorWebhookOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get webhook(): LeaseWebhook {
    return this.#options.webhook;
  }

  /** After each reconcile pass: the webhook learns the leases, and the opt-in rolls what is confirmed. */
  afterPass(): void {
    if (this.#stepping !== undefined) {
      this.#again = true;
      return;
    }
    this.#stepping = this.#step().finally(() => {
      this.#stepping = undefined;
      if (this.#again) {
        this.#again = false;
        this.afterPass();
      }
    });
  }

  /** Resolves when no step runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#stepping !== undefined) await this.#stepping;
  }

  async #step(): Promise<void> {
    const { webhook, operator } = this.#options;
    webhook.committed(operator.state().map((lease) => lease.lease));
    await webhook.tick((id) => Promise.resolve(ok(operator.confirmedPorts(id).length > 0)));
  }

  /**
   * `ip_env` of each lease by lease key: reports younger than `maxAgeMs` as they are, others checked
   * afresh; what is not known after `waitMs` says it is being checked (the check goes on and is cached).
   */
  async ipEnv(leases: readonly LeaseId[], waitMs: number): Promise<ReadonlyMap<string, IpEnvStatus>> {
    const maxAge = this.#options.maxAgeMs ?? 10_000;
    const keys = new Map(leases.map((id) => [leaseKey(id), id] as const));
    for (const key of this.#reports.keys()) if (!keys.has(key)) this.#reports.delete(key);
    const waiting: Promise<void>[] = [];
    for (const [key, id] of keys) {
      const report = this.#reports.get(key);
      if (report !== undefined && this.#now() - report.at < maxAge) continue;
      waiting.push(this.#check(key, id));
    }
    if (waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      });
      await Promise.race([Promise.all(waiting), bound]);
      clearTimeout(timer);
    }
    const out = new Map<string, IpEnvStatus>();
    for (const key of keys.keys()) out.set(key, this.#reports.get(key)?.status ?? CHECKING);
    return out;
  }

  #check(key: string, id: LeaseId): Promise<void> {
    const running = this.#checking.get(key);
    if (running !== undefined) return running;
    const done = new Promise<void>((resolve) => {
      this.#queue.push(async () => {
        const pods = await this.#options.webhook.pods(id);
        this.#reports.set(key, { status: ipEnvStatus(pods), at: this.#now() });
        this.#checking.delete(key);
        resolve();
      });
    });
    this.#checking.set(key, done);
    this.#drain();
    return done;
  }

  #drain(): void {
    while (this.#active < (this.#options.concurrency ?? 4)) {
      const task = this.#queue.shift();
      if (task === undefined) return;
      this.#active += 1;
      void task().finally(() => {
        this.#active -= 1;
        this.#drain();
      });
    }
  }

  async close(): Promise<void> {
    await this.idle();
    await this.#options.webhook.close();
  }
}
