/**
 * Running the provider daemon: open the store (held exclusively: a second daemon on it is refused), serve
 * (so `/readyz` can say 503 while the state is rebuilt), move in an earlier build's manifest file, rebuild
 * the lease engine, open the gate, then follow the ledger in the background. Stopping closes the gate,
 * stops accepting, drains requests in flight and closes the store.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getRequestListener } from '@hono/node-server';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { getKey } from '../identity/index.js';
import { connectKubeBackend } from '../k8s/index.js';
import { createLeaseEngine, type LeaseStore } from '../lease/index.js';
import { LedgerClient } from '../market/index.js';
import { createMemoryStore, openSqliteStore } from '../store/index.js';
import type { LeaseWebhook } from '../webhook/index.js';
import { createProviderApp } from './app.js';
import { TokenVerifier } from './auth.js';
import { type Chain, ledgerChain, StaticChain } from './chain.js';
import { ClusterSync } from './cluster-sync.js';
import type { ProviderConfig } from './config.js';
import { FailureLimiter } from './failure-limit.js';
import { screenGroup } from './gateway-info.js';
import { LedgerSync } from './ledger-sync.js';
import type { Logger } from './logger.js';
import { importLegacyManifests, legacyManifestPathOf, loadManifests } from './manifest-store.js';
import { createMetrics } from './metrics.js';
import { Readiness } from './readiness.js';
import { listen, providerListener } from './server.js';
import { ProviderService } from './service.js';
import {
  ClientCertificates,
  ledgerCertificates,
  loadOrCreateServerCertificate,
  publishServerCertificate,
  type ServerCertificate,
} from './tls.js';
import { clusterGateway, confirmedPorts, daemonWebhook } from './webhook.js';

/** A running daemon. */
export interface RunningProvider {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly address: string;
  /** Resolves once the state is rebuilt and requests are served. */
  readonly ready: Promise<Result<void, AppError>>;
  /** Stops accepting, drains requests in flight (bounded by `limits.drainMs`) and closes the store. */
  stop(): Promise<void>;
}

export interface RunProviderOptions {
  readonly logger: Logger;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/**
 * Starts the daemon. Resolves once it listens (the first log line is `{"msg":"listening","url":…}`);
 * the state is rebuilt after that, and `ready` says when it is done.
 */
export async function runProvider(
  config: ProviderConfig,
  options: RunProviderOptions,
): Promise<Result<RunningProvider, AppError>> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const key = await getKey(config.identity.keyring, config.identity.key);
  if (!key.ok) return key;
  const address = key.value.address;

  const readiness = new Readiness();
  let service: ProviderService | undefined;
  let cluster: ClusterSync | undefined;
  let webhook: LeaseWebhook | undefined;
  const metrics = createMetrics(() => service?.engine.inventory().pools ?? []);
  const ledger =
    config.ledger === undefined
      ? undefined
      : new LedgerClient({
          url: config.ledger.url,
          keys: [key.value.privateKey],
          timeoutMs: config.ledger.timeoutMs,
          ...(config.ledger.adminToken === undefined ? {} : { adminToken: config.ledger.adminToken }),
        });
  const registry = ledger === undefined ? new StaticChain(config.tenants) : undefined;
  const { limits } = config;
  const chain: Chain =
    ledger === undefined
      ? (registry as StaticChain)
      : ledgerChain(ledger, address, now, limits.tokenCacheSize);
  const verifier = new TokenVerifier({
    lookup: chain.pubkey,
    now,
    cacheSize: limits.tokenCacheSize,
    ...(limits.maxTokenLifetimeSeconds === undefined
      ? {}
      : { maxLifetimeSeconds: limits.maxTokenLifetimeSeconds }),
  });
  const authFailures = new FailureLimiter(
    { burst: limits.authFailureBurst, perMinute: limits.authFailuresPerMinute },
    now,
  );
  const app = createProviderApp({
    service: () => service,
    readiness,
    verifier,
    metrics,
    maxBodyBytes: config.limits.maxBodyBytes,
    ...(config.adminToken === undefined ? {} : { adminToken: config.adminToken }),
    ...(registry === undefined ? {} : { registry }),
    logger,
    cluster: () => cluster,
    webhook: () => webhook,
    authFailures,
    bidDecisions: () => ledgerSync?.bids.recentDecisions() ?? [],
    screen: (spec, owner, ready) =>
      screenGroup(
        spec,
        owner,
        { address, attributes: config.attributes, pricing: config.pricing },
        (family) => ready.engine.inventory(family),
      ),
    ...(ledger === undefined || config.listen.tls === undefined
      ? {}
      : {
          clientCertificates: new ClientCertificates({
            lookup: ledgerCertificates(ledger),
            now,
            cacheSize: limits.tokenCacheSize,
            cacheMs: config.listen.tls.clientCertCacheMs,
          }),
        }),
  });

  // The store first: a second daemon on the same file is refused before it listens or touches anything.
  const opened: Result<LeaseStore, AppError> =
    config.store.kind === 'sqlite' ? openSqliteStore({ path: config.store.path }) : ok(createMemoryStore());
  if (!opened.ok) return opened;
  let store: LeaseStore | undefined = opened.value;

  const tlsConfig = config.listen.tls;
  let gatewayCertificate: ServerCertificate | undefined;
  if (tlsConfig !== undefined) {
    const hosts = [
      config.listen.host,
      ...(config.hostUri === undefined ? [] : [new URL(config.hostUri).hostname]),
    ];
    const loaded = await loadOrCreateServerCertificate(
      tlsConfig,
      address,
      hosts.filter((host) => host !== '0.0.0.0' && host !== '::').map((host) => host.replace(/^\[|\]$/g, '')),
      new Date(now()),
      logger,
    );
    if (!loaded.ok) {
      await store.close();
      return loaded;
    }
    gatewayCertificate = loaded.value;
  }
  // The fast lane answers lease-status from the service's cache alone; with the webhook, lease-status also
  // reads the lease's pods from the cluster (`ip_env`), so it goes through the app.
  const listener =
    config.kubernetes?.webhook === undefined
      ? providerListener(app, { service: () => service, readiness, verifier, metrics })
      : getRequestListener(app.fetch);
  const listening = await listen(listener, config.listen.host, config.listen.port, {
    metrics,
    logger,
    ...(gatewayCertificate === undefined ? {} : { tls: gatewayCertificate }),
  });
  if (!listening.ok) {
    await store.close();
    return listening;
  }
  const { server } = listening.value;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  const url = `${gatewayCertificate === undefined ? 'http' : 'https'}://${host}:${listening.value.port}`;
  logger.log('info', 'listening', {
    url,
    provider: address,
    ...(gatewayCertificate === undefined ? {} : { certificateSerial: gatewayCertificate.serial }),
  });

  const background = new AbortController();
  const tasks: Promise<unknown>[] = [];
  let ledgerSync: LedgerSync | undefined;

  let operatorConsole: { stop(): Promise<void> } | undefined;
  if (config.console !== undefined) {
    // loaded only when asked for: a daemon without its console loads none of the console's code
    const { startDaemonConsole } = await import('./console.js');
    const started = await startDaemonConsole(
      config.console,
      {
        provider: address,
        url,
        readiness,
        service: () => service,
        cluster: () => cluster,
        decisions: () => ledgerSync?.bids.recentDecisions() ?? [],
      },
      logger,
    );
    if (!started.ok) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      return started;
    }
    operatorConsole = started.value;
  }

  const rebuild = async (): Promise<Result<void, AppError>> => {
    const started = now();
    const lease = opened.value;
    if (config.store.kind === 'sqlite') {
      const legacy = legacyManifestPathOf(config.store.path);
      const imported = await importLegacyManifests(lease, legacy);
      if (!imported.ok) return imported;
      if (imported.value !== undefined) {
        logger.log('info', 'manifests moved into the lease store', { from: legacy, ...imported.value });
      }
    }
    const engine = await createLeaseEngine({
      store: lease,
      provider: address,
      pools: config.pools,
      family: config.family,
      quarantineMs: config.quarantineMs,
      now,
    });
    if (!engine.ok) return engine;
    const deployed = await loadManifests(lease, (key, error) =>
      logger.log('error', 'stored manifest skipped; its tenant must send it again', {
        lease: key,
        code: error.code,
        error: error.message,
      }),
    );
    if (!deployed.ok) return deployed;
    const kubernetes = config.kubernetes;
    const sync =
      kubernetes === undefined
        ? undefined
        : new ClusterSync({
            connect: () => connectKubeBackend(kubernetes, address, logger),
            engine: engine.value,
            pools: config.pools,
            logger,
            retryMaxMs: kubernetes.retryMaxMs,
            registry: metrics.registry,
          });
    cluster = sync;
    const admission =
      kubernetes?.webhook === undefined
        ? undefined
        : daemonWebhook({
            settings: kubernetes.webhook,
            connect: () => clusterGateway(kubernetes),
            provider: address,
            engine: engine.value,
            logger,
            registry: metrics.registry,
          });
    service = new ProviderService({
      provider: address,
      engine: engine.value,
      deployed: deployed.value,
      chain,
      logger,
      metrics,
      now,
      openBids: () => ledgerSync?.openBids() ?? 0,
      ...(sync === undefined
        ? {}
        : {
            committed: (ids) => {
              sync.committed(ids);
              admission?.committed(ids);
            },
          }),
      ...(ledger === undefined
        ? {
            closeOnChain: (id) => {
              registry?.remove(id);
              return Promise.resolve(ok(undefined));
            },
          }
        : {
            closeOnChain: async (id) => {
              const closed = await ledger.closeLease({ id, actor: address });
              return closed.ok ? ok(undefined) : closed;
            },
          }),
    });
    // Go's IP operator holds its barrier until the cluster is read; so does this, but it keeps retrying.
    if (sync !== undefined && !(await sync.start(background.signal, (reason) => readiness.hold(reason)))) {
      return fail(appError('NOT_READY', 'stopped before the Kubernetes cluster was synced'));
    }
    readiness.open();
    // After the sync: the apiserver can only reach the webhook through a cluster that answers us too.
    if (admission !== undefined) {
      webhook = admission;
      await admission.start();
    }
    const inventory = engine.value.inventory();
    logger.log('info', 'ready', {
      leases: service.size,
      capacity: inventory.capacity,
      inUse: inventory.inUse,
      rebuildMs: now() - started,
    });
    const ready = service;
    tasks.push(
      maintainLoop(ready, sync, admission, config.limits.maintainIntervalMs, logger, background.signal),
    );
    if (sync !== undefined && kubernetes !== undefined && kubernetes.reconcileIntervalMs > 0) {
      tasks.push(sync.checkDriftEvery(kubernetes.reconcileIntervalMs, background.signal));
    }
    if (ledger !== undefined && config.ledger !== undefined) {
      ledgerSync = new LedgerSync({
        ledger,
        provider: address,
        pubkey: Buffer.from(key.value.publicKey).toString('hex'),
        hostUri: config.hostUri ?? url,
        attributes: config.attributes,
        pricing: config.pricing,
        pollIntervalMs: config.ledger.pollIntervalMs,
        bidTimeoutMs: config.ledger.bidTimeoutMs,
        now,
        service: ready,
        logger,
        ...(gatewayCertificate === undefined
          ? {}
          : {
              afterRegister: async () => {
                const published = await publishServerCertificate(ledger, address, gatewayCertificate);
                if (published.ok && published.value === 'published') {
                  logger.log('info', 'gateway certificate published', { serial: gatewayCertificate.serial });
                }
                return published;
              },
            }),
      });
      tasks.push(ledgerSync.run(background.signal));
    }
    return ok(undefined);
  };

  const closeStore = async (): Promise<void> => {
    await service?.engine.idle();
    await webhook?.close();
    await cluster?.close();
    await store?.close();
    store = undefined;
  };

  const ready = rebuild().then(async (result) => {
    if (!result.ok) {
      if (!background.signal.aborted)
        logger.log('error', 'cannot rebuild the provider state', {
          code: result.error.code,
          error: result.error.message,
          ...(result.error.cause === undefined ? {} : { cause: result.error.cause }),
        });
      await closeStore();
    }
    return result;
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.log('info', 'stopping', {});
      readiness.close();
      background.abort();
      await operatorConsole?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await readiness.drain(config.limits.drainMs);
      server.closeAllConnections();
      await closed;
      await ready;
      await Promise.allSettled(tasks);
      await closeStore();
      logger.log('info', 'stopped', {});
    })();
    return stopping;
  };

  return ok({ url, address, ready, stop });
}

async function maintainLoop(
  service: ProviderService,
  cluster: ClusterSync | undefined,
  webhook: LeaseWebhook | undefined,
  intervalMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return;
    }
    const done = await service.maintain();
    if (!done.ok)
      logger.log('warn', 'maintenance failed', { code: done.error.code, error: done.error.message });
    await cluster?.retry();
    if (cluster !== undefined) await webhook?.tick(confirmedPorts((id) => cluster.lease(id)));
  }
}
