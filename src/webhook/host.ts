/**
 * The webhook as a Kubernetes mode hosts it, over the lease engine: the daemon's backend and the IP
 * operator both run one. It serves the webhook (a failed start is tried again on the next tick), keeps
 * its lookup told about the leases, reports whether a lease's pods carry their addresses (lease-status
 * and `/state` `ip_env`) and, opted in, rolls a lease's workloads once when its first address is
 * confirmed. What differs between the modes is given: how to reach the cluster, where to listen, how the
 * apiserver calls back, and what "confirmed" means.
 */
import type { Registry } from 'prom-client';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { KubeClient, type KubeGateway, leaseNamespace } from '../k8s/index.js';
import { type LeaseEngine, type LeaseId, type LeaseView, leaseKey } from '../lease/index.js';
import { type EngineLookup, type EngineLookupOptions, engineLookup } from './engine-lookup.js';
import { webhookMetrics } from './metrics.js';
import { checkLeasePods, type LeasePodsReport, rollOnce } from './pods.js';
import { type RunningWebhook, startWebhook, type WebhookRunOptions } from './runner.js';
import type { ReviewObserver } from './server.js';

/** The host's logging port (the daemon's and the operator's JSON-lines logger fit it). */
export interface WebhookLogger {
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Whether MetalLB confirms a lease's address: at least one port serving it is enough. */
export type ConfirmationOf = (id: LeaseId) => Promise<Result<boolean>>;

/**
 * What the `ip_env` field says of a lease: its pods report, or `current: null` with our code and message
 * when the cluster could not tell.
 */
export type IpEnvStatus =
  | LeasePodsReport
  | { readonly current: null; readonly code: string; readonly error: string };

export function ipEnvStatus(pods: Result<LeasePodsReport, AppError>): IpEnvStatus {
  return pods.ok ? pods.value : { current: null, code: pods.error.code, error: pods.error.message };
}

export interface LeaseWebhookOptions {
  /**
   * The cluster: a gateway given is borrowed (its owner closes it); one a function opens is the webhook's
   * own, opened at the first start and closed by {@link LeaseWebhook.close}.
   */
  readonly gateway: KubeGateway | (() => Promise<Result<KubeGateway>>);
  readonly provider: string;
  readonly engine: Pick<LeaseEngine, 'lease' | 'leases'>;
  readonly logger: WebhookLogger;
  readonly registry: Registry;
  /** Roll a lease's workloads once when its first address is confirmed; never without this opt-in. */
  readonly rollOnFirstAddress: boolean;
  /** The name a workload knows an engine endpoint by (see {@link EngineLookupOptions.endpointName}). */
  readonly endpointName?: (engineName: string) => string;
  /** Where to listen, how the apiserver reaches us, the certificate's names, the configuration. */
  readonly serve: Pick<
    WebhookRunOptions,
    'listen' | 'endpoint' | 'certificates' | 'configurationName' | 'timeoutSeconds'
  >;
}

function hasAddress(view: LeaseView | undefined): boolean {
  return (
    view?.state === 'active' &&
    view.endpoints.some((endpoint) => endpoint.state === 'active' && endpoint.addresses.length > 0)
  );
}

export class LeaseWebhook {
  readonly #options: LeaseWebhookOptions;
  readonly #lookup: EngineLookup;
  readonly #onReview: ReviewObserver;
  #owned: KubeGateway | undefined;
  #client: KubeClient | undefined;
  #running: RunningWebhook | undefined;
  /** Leases holding an address, so a lease's first one is told from a later commit of it. */
  readonly #addressed = new Set<string>();
  /** Opted in: leases whose first address awaits MetalLB's confirmation before their workloads roll. */
  readonly #awaiting = new Map<string, LeaseId>();

  /** The engine's leases at construction count as addressed long ago: only later first addresses roll. */
  constructor(options: LeaseWebhookOptions) {
    this.#options = options;
    this.#lookup = engineLookup(
      options.engine,
      options.endpointName === undefined ? {} : { endpointName: options.endpointName },
    );
    this.#onReview = webhookMetrics(options.registry);
    for (const view of options.engine.leases({ state: 'active' })) {
      this.#lookup.remember(view.id);
      if (hasAddress(view)) this.#addressed.add(view.key);
    }
    if (typeof options.gateway !== 'function') this.#client = new KubeClient(options.gateway);
  }

  /** Whether the webhook is being served (its start can fail; it is tried again on each tick). */
  get serving(): boolean {
    return this.#running !== undefined;
  }

  /** The lookup the webhook answers from (namespace and manifest service → variables). */
  get lookup(): EngineLookup['lookup'] {
    return this.#lookup.lookup;
  }

  /** Connects, serves and writes the MutatingWebhookConfiguration. Logs and returns a failure. */
  async start(): Promise<Result<void>> {
    if (this.#running !== undefined) return ok(undefined);
    const started = await this.#start();
    if (started.ok) {
      this.#running = started.value;
      const endpoint = this.#options.serve.endpoint;
      this.#options.logger.log('info', 'admission webhook serving', {
        listen: `${started.value.address.address}:${started.value.address.port}`,
        ...('url' in endpoint
          ? { url: endpoint.url.replace('{port}', String(started.value.address.port)) }
          : { service: `${endpoint.service.namespace}/${endpoint.service.name}:${endpoint.service.port}` }),
      });
      return ok(undefined);
    }
    this.#options.logger.log('error', 'admission webhook not started; tried again on the next tick', {
      code: started.error.code,
      error: started.error.message,
    });
    return started;
  }

  async #start(): Promise<Result<RunningWebhook>> {
    const { serve, provider, logger, gateway } = this.#options;
    if (this.#client === undefined && typeof gateway === 'function') {
      const opened = await gateway();
      if (!opened.ok) return opened;
      this.#owned = opened.value;
      this.#client = new KubeClient(opened.value);
    }
    if (this.#client === undefined) return fail(appError('NOT_READY', 'no cluster to serve the webhook for'));
    try {
      return await startWebhook({
        ...serve,
        client: this.#client,
        provider,
        lookup: this.#lookup.lookup,
        onReview: this.#onReview,
        onRotationError: (error) =>
          logger.log('warn', 'admission webhook certificate rotation failed; tried again in an hour', {
            code: error.code,
            error: error.message,
          }),
      });
    } catch (error) {
      // The one throw left is the listening socket's (an address in use or not ours).
      const where = `${serve.listen?.host ?? '127.0.0.1'}:${serve.listen?.port ?? 0}`;
      return fail(appError('UNAVAILABLE', `cannot listen on ${where}: ${(error as Error).message}`));
    }
  }

  /** After leases changed in the engine (deployed, migrated, closed): tells the lookup and the opt-in. */
  committed(ids: Iterable<LeaseId>): void {
    for (const id of ids) {
      this.#lookup.remember(id);
      const key = leaseKey(id);
      if (!hasAddress(this.#options.engine.lease(id))) {
        this.#addressed.delete(key);
        this.#awaiting.delete(key);
        continue;
      }
      if (!this.#addressed.has(key) && this.#options.rollOnFirstAddress) this.#awaiting.set(key, id);
      this.#addressed.add(key);
    }
  }

  /** Whether the lease's running pods carry its current addresses. */
  async pods(id: LeaseId): Promise<Result<LeasePodsReport, AppError>> {
    if (this.#client === undefined) {
      return fail(appError('NOT_READY', 'the admission webhook has not reached the cluster yet'));
    }
    return checkLeasePods(this.#client, leaseNamespace(id), this.#lookup.lookup);
  }

  /**
   * The host's periodic step: starts the webhook if its start failed, and, opted in, rolls the workloads
   * of each lease whose first address MetalLB now confirms.
   */
  async tick(confirmed: ConfirmationOf): Promise<void> {
    if (this.#running === undefined) await this.start();
    const client = this.#client;
    if (client === undefined) return;
    for (const [key, id] of this.#awaiting) {
      const answer = await confirmed(id);
      if (!answer.ok || !answer.value) continue;
      const rolled = await rollOnce(client, leaseNamespace(id), this.#lookup.lookup, { enabled: true });
      if (!rolled.ok) {
        this.#options.logger.log('warn', 'rolling the workloads of a lease failed; tried again', {
          lease: key,
          code: rolled.error.code,
          error: rolled.error.message,
        });
        continue;
      }
      this.#awaiting.delete(key);
      this.#options.logger.log('info', 'workloads rolled for their first leased address', {
        lease: key,
        ...rolled.value,
      });
    }
  }

  /** Stops serving; the configuration stays (failurePolicy Ignore makes it harmless while we are away). */
  async close(): Promise<void> {
    await this.#running?.close();
    this.#running = undefined;
    if (this.#owned !== undefined) {
      this.#owned.close();
      this.#owned = undefined;
      this.#client = undefined;
    }
  }
}
