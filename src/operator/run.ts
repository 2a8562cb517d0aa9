/**
 * Runs the IP operator: connects to the API server (kubeconfig or the pod's service account), opens the
 * lease store (SQLite with `--state`, else memory, rebuilt from the cluster), starts the reconciler and
 * serves the HTTP API at once (503 until the first sync, as Go's barrier).
 */
import type { Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Gauge } from 'prom-client';
import { createMetrics, type Logger, listen } from '../daemon/index.js';
import { type AppError, ok, type Result } from '../errors/index.js';
import { createHttpsGateway, type KubeConnection, type KubeGateway, loadKubeconfig } from '../k8s/index.js';
import { createLeaseEngine, type LeaseId, type LeaseStore } from '../lease/index.js';
import { createMemoryStore, openSqliteStore } from '../store/index.js';
import { type IpEnvStatus, LeaseWebhook } from '../webhook/index.js';
import { OperatorWebhook } from './admission.js';
import { inClusterConnection, type OperatorConfig } from './config.js';
import { leaseFamilies } from './families.js';
import { createOperatorApp } from './http.js';
import { suffixOfEndpoint } from './leased-ip.js';
import { IpOperator } from './reconciler.js';
import { RenewingGateway } from './renewing-gateway.js';

/** The version `/version` reports. */
export const OPERATOR_VERSION = '0.1.0';

/** How long `/state` waits for the lease pods' checks (`ip_env`) before answering with what it has. */
const IP_ENV_WAIT_MS = 2_000;
/** A webhook whose start failed, or a roll that failed, is tried again at least this often. */
const WEBHOOK_RETRY_MS = 30_000;

export interface RunOperatorOptions {
  readonly logger: Logger;
  /** A gateway to use instead of connecting (tests: the fake API server). */
  readonly gateway?: KubeGateway;
}

export interface RunningOperator {
  /** `http://host:port` of the API. */
  readonly url: string;
  readonly operator: IpOperator;
  /** The admission webhook, once the first sync is done (with `--webhook-port`). */
  admission(): OperatorWebhook | undefined;
  /**
   * Resolves if the operator refuses to go on after it started: the named pools cannot serve `--ip-family`
   * (NO_IP_SUPPORT). The caller stops it and exits with the error.
   */
  readonly refused: Promise<AppError>;
  stop(): Promise<void>;
}

async function connect(config: OperatorConfig): Promise<Result<Omit<KubeConnection, 'timeoutMs'>>> {
  if (config.kube.kind === 'kubeconfig') return loadKubeconfig(config.kube.file, config.kube.context);
  return inClusterConnection(config.kube);
}

/** One GET of the apiserver's `/version`: any answer means it is reachable. */
async function reachable(gateway: KubeGateway): Promise<string | undefined> {
  const answer = await gateway.request({ method: 'GET', path: '/version' });
  return answer.ok ? undefined : `the Kubernetes API server does not answer: ${answer.error.message}`;
}

function operatorGauges(operator: IpOperator, registry: ReturnType<typeof createMetrics>['registry']): void {
  new Gauge({
    name: 'akash_ip_operator_synced',
    help: '1 once the first sync is done',
    registers: [registry],
    collect() {
      this.set(operator.isSynced() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'akash_ip_operator_ignored_objects',
    help: 'ProviderLeasedIP objects not acted on, by why',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const entry of operator.ignored()) this.inc({ kind: entry.kind }, entry.objects.length);
    },
  });
  new Gauge({
    name: 'akash_ip_operator_service_writes',
    help: 'Service writes since start, by verb (failed: refused or unanswered)',
    labelNames: ['verb'],
    registers: [registry],
    collect() {
      for (const [verb, count] of Object.entries(operator.writeStats())) this.set({ verb }, count);
    },
  });
  new Gauge({
    name: 'akash_ip_operator_usage',
    help: 'What /usage reports: pool size (Available) and addresses not free (InUse)',
    labelNames: ['field'],
    registers: [registry],
    collect() {
      const usage = operator.usage();
      if (usage === undefined) return;
      this.set({ field: 'Available' }, Number(usage.available));
      this.set({ field: 'InUse' }, Number(usage.inUse));
    },
  });
}

export async function runOperator(
  config: OperatorConfig,
  options: RunOperatorOptions,
): Promise<Result<RunningOperator, AppError>> {
  const { logger } = options;
  let gateway = options.gateway;
  if (gateway === undefined) {
    const connection = await connect(config);
    if (!connection.ok) return connection;
    // Tokens rotate (the pod's service account, a kubeconfig tokenFile): re-read, reconnect when changed.
    gateway = new RenewingGateway({
      initial: connection.value,
      read: () => connect(config),
      open: (current) => createHttpsGateway({ ...current, timeoutMs: 15_000 }),
    });
  }
  const opened: Result<LeaseStore> =
    config.stateFile === undefined ? ok(createMemoryStore()) : openSqliteStore({ path: config.stateFile });
  if (!opened.ok) return opened;
  const store = opened.value;
  const engine = await createLeaseEngine({
    store,
    provider: config.provider,
    pools: [],
    quarantineMs: config.quarantineMs,
  });
  if (!engine.ok) {
    await store.close();
    return engine;
  }
  // Made after the first sync (the leases found then roll nothing); the passes tell it about the engine.
  let admission: OperatorWebhook | undefined;
  let refuse: (error: AppError) => void = () => {};
  const refused = new Promise<AppError>((resolve) => {
    refuse = resolve;
  });
  const families = leaseFamilies(config.family, config.akashRest, () => operator.resync());
  const operator: IpOperator = new IpOperator({
    families,
    onRefused: (error) => {
      logger.log('error', 'the operator refuses to start', { code: error.code, error: error.message });
      refuse(error);
    },
    onPass: () => admission?.afterPass(),
    gateway,
    engine: engine.value,
    provider: config.provider,
    manifestNamespace: config.manifestNamespace,
    metallbNamespace: config.metallbNamespace,
    pools: config.pools,
    logger,
  });
  const metrics = createMetrics(() => engine.value.capacities());
  operatorGauges(operator, metrics.registry);
  const kube = gateway;
  const app = createOperatorApp({
    operator,
    provider: config.provider,
    reachable: () => reachable(kube),
    registry: metrics.registry,
    version: OPERATOR_VERSION,
    logger,
    observe: (method, route, status, seconds) => metrics.requests.observe({ method, route, status }, seconds),
    ...(config.webhook === undefined
      ? {}
      : {
          ipEnv: async (leases: readonly LeaseId[]) =>
            (await admission?.ipEnv(leases, IP_ENV_WAIT_MS)) ?? new Map<string, IpEnvStatus>(),
        }),
  });
  const listening = await listen(getRequestListener(app.fetch), config.restAddress, config.restPort, {
    metrics,
    logger,
  });
  if (!listening.ok) {
    kube.close();
    await store.close();
    return listening;
  }
  const server: Server = listening.value.server;
  const host = config.restAddress.includes(':') ? `[${config.restAddress}]` : config.restAddress;
  const url = `http://${host}:${listening.value.port}`;
  logger.log('info', 'listening', {
    url,
    provider: config.provider,
    manifestNamespace: config.manifestNamespace,
    pools: config.pools,
    ipFamily: config.family,
    akashRest: config.akashRest ?? 'none (every lease gets --ip-family)',
    state: config.stateFile ?? 'memory (rebuilt from the cluster)',
  });
  operator.start();
  let stopping: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  const webhook = config.webhook;
  if (webhook !== undefined) {
    void operator.synced().then(() => {
      if (stopping !== undefined) return;
      admission = new OperatorWebhook({
        webhook: new LeaseWebhook({
          gateway: kube,
          provider: config.provider,
          engine: engine.value,
          logger,
          registry: metrics.registry,
          rollOnFirstAddress: webhook.rollOnFirstAddress,
          // A name Go hashed reaches us as its hash only: the variable is named after the hash, `h_` or not.
          endpointName: suffixOfEndpoint,
          serve: {
            listen: { host: config.restAddress, port: webhook.port },
            endpoint: webhook.endpoint,
            certificates: { ipAddresses: webhook.ipAddresses, dnsNames: webhook.dnsNames },
            timeoutSeconds: webhook.timeoutSeconds,
            ...(webhook.configurationName === undefined
              ? {}
              : { configurationName: webhook.configurationName }),
          },
        }),
        operator,
      });
      admission.afterPass();
      retry = setInterval(() => admission?.afterPass(), WEBHOOK_RETRY_MS);
      retry.unref();
    });
  }
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.log('info', 'stopping', {});
      clearInterval(retry);
      await admission?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await operator.stop();
      server.closeAllConnections();
      await closed;
      kube.close();
      await store.close();
    })();
    return stopping;
  };
  return ok({ url, operator, admission: () => admission, refused, stop });
}
