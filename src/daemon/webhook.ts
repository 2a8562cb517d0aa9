/**
 * The daemon's side of the leased-IP admission webhook (src/webhook): with `kubernetes.webhook`
 * configured, it serves the webhook once the cluster is synced, tells its lookup about every committed
 * lease, reports whether a lease's pods carry their addresses (lease-status `ip_env`) and, opted in, rolls
 * a lease's workloads once when MetalLB confirms its first address. The daemon dials out to the cluster,
 * so the apiserver reaches the webhook back at the configured URL.
 */
import type { Registry } from 'prom-client';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import {
  connectionOf,
  createHttpsGateway,
  KubeClient,
  type KubeClusterConfig,
  type KubeGateway,
  leaseNamespace,
} from '../k8s/index.js';
import { type LeaseEngine, type LeaseId, type LeaseView, leaseKey } from '../lease/index.js';
import {
  checkLeasePods,
  type EngineLookup,
  engineLookup,
  type LeasePodsReport,
  type ReviewObserver,
  type RunningWebhook,
  rollOnce,
  startWebhook,
  webhookMetrics,
} from '../webhook/index.js';
import type { WebhookSettings } from './config.js';
import type { Logger } from './logger.js';

export interface DaemonWebhookOptions {
  readonly settings: WebhookSettings;
  /** A gateway to the cluster the daemon's backend writes to ({@link clusterGateway}); the configuration goes there too. */
  readonly connect: () => Promise<Result<KubeGateway>>;
  readonly provider: string;
  readonly engine: LeaseEngine;
  readonly logger: Logger;
  readonly registry: Registry;
}

/** What the maintain tick reads of a lease in the cluster (ClusterSync's `lease`): MetalLB's word per port. */
export type ConfirmationOf = (
  id: LeaseId,
) => Promise<Result<{ readonly ports: readonly { readonly confirmed: boolean }[] }>>;

/** A gateway to the cluster the configuration describes; credential files are read now. */
export async function clusterGateway(cluster: KubeClusterConfig): Promise<Result<KubeGateway>> {
  const connection = await connectionOf(cluster);
  return connection.ok
    ? ok(createHttpsGateway({ ...connection.value, timeoutMs: cluster.timeoutMs }))
    : connection;
}

function hasAddress(view: LeaseView | undefined): boolean {
  return (
    view?.state === 'active' &&
    view.endpoints.some((endpoint) => endpoint.state === 'active' && endpoint.addresses.length > 0)
  );
}

export class DaemonWebhook {
  readonly #options: DaemonWebhookOptions;
  readonly #lookup: EngineLookup;
  readonly #onReview: ReviewObserver;
  #gateway: KubeGateway | undefined;
  #client: KubeClient | undefined;
  #running: RunningWebhook | undefined;
  /** Leases holding an address, so a lease's first one is told from a later commit of it. */
  readonly #addressed = new Set<string>();
  /** Opted in: leases whose first address awaits MetalLB's confirmation before their workloads roll. */
  readonly #awaiting = new Map<string, LeaseId>();

  constructor(options: DaemonWebhookOptions) {
    this.#options = options;
    this.#lookup = engineLookup(options.engine);
    this.#onReview = webhookMetrics(options.registry);
    // Addresses held before this start were confirmed long ago: only later first addresses roll anything.
    for (const view of options.engine.leases({ state: 'active' })) {
      this.#lookup.remember(view.id);
      if (hasAddress(view)) this.#addressed.add(view.key);
    }
  }

  /** Whether the webhook is being served (its start can fail; it is tried again on each maintain tick). */
  get serving(): boolean {
    return this.#running !== undefined;
  }

  /** Connects, serves and writes the MutatingWebhookConfiguration. Logs and returns a failure. */
  async start(): Promise<Result<void>> {
    if (this.#running !== undefined) return ok(undefined);
    const started = await this.#start();
    if (started.ok) {
      this.#running = started.value;
      this.#options.logger.log('info', 'admission webhook serving', {
        listen: `${started.value.address.address}:${started.value.address.port}`,
        url: this.#options.settings.url.replace('{port}', String(started.value.address.port)),
      });
      return ok(undefined);
    }
    this.#options.logger.log('error', 'admission webhook not started; tried again on the maintain tick', {
      code: started.error.code,
      error: started.error.message,
    });
    return started;
  }

  async #start(): Promise<Result<RunningWebhook>> {
    const { settings, provider, logger } = this.#options;
    if (this.#client === undefined) {
      const gateway = await this.#options.connect();
      if (!gateway.ok) return gateway;
      this.#gateway = gateway.value;
      this.#client = new KubeClient(gateway.value);
    }
    try {
      return await startWebhook({
        client: this.#client,
        provider,
        lookup: this.#lookup.lookup,
        listen: settings.listen,
        endpoint: { url: settings.url },
        certificates: { ipAddresses: settings.ipAddresses, dnsNames: settings.dnsNames },
        timeoutSeconds: settings.timeoutSeconds,
        onReview: this.#onReview,
        onRotationError: (error) =>
          logger.log('warn', 'admission webhook certificate rotation failed; tried again in an hour', {
            code: error.code,
            error: error.message,
          }),
      });
    } catch (error) {
      // The one throw left is the listening socket's (an address in use or not ours).
      const { host, port } = settings.listen;
      return fail(appError('UNAVAILABLE', `cannot listen on ${host}:${port}: ${(error as Error).message}`));
    }
  }

  /** After each commit (the same leases ClusterSync is told about). */
  committed(ids: readonly LeaseId[]): void {
    for (const id of ids) {
      this.#lookup.remember(id);
      const key = leaseKey(id);
      if (!hasAddress(this.#options.engine.lease(id))) {
        this.#addressed.delete(key);
        this.#awaiting.delete(key);
        continue;
      }
      if (!this.#addressed.has(key) && this.#options.settings.rollOnFirstAddress) this.#awaiting.set(key, id);
      this.#addressed.add(key);
    }
  }

  /** Whether the lease's running pods carry its current addresses (lease-status `ip_env`). */
  async pods(id: LeaseId): Promise<Result<LeasePodsReport, AppError>> {
    if (this.#client === undefined) {
      return fail(appError('NOT_READY', 'the admission webhook has not reached the cluster yet'));
    }
    return checkLeasePods(this.#client, leaseNamespace(id), this.#lookup.lookup);
  }

  /**
   * The maintain tick: starts the webhook if its start failed, and, opted in, rolls the workloads of each
   * lease whose first address MetalLB now confirms (one port serving it is enough: the address exists).
   */
  async tick(status: ConfirmationOf): Promise<void> {
    if (this.#running === undefined) await this.start();
    const client = this.#client;
    if (client === undefined) return;
    for (const [key, id] of this.#awaiting) {
      const realized = await status(id);
      if (!realized.ok || !realized.value.ports.some((port) => port.confirmed)) continue;
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

  /** Stops serving; the configuration stays (failurePolicy Ignore makes it harmless while the daemon is away). */
  async close(): Promise<void> {
    await this.#running?.close();
    this.#running = undefined;
    this.#gateway?.close();
    this.#gateway = undefined;
    this.#client = undefined;
  }
}
