/**
 * The daemon's side of the leased-IP admission webhook: with `kubernetes.webhook` configured it hosts a
 * {@link LeaseWebhook} (src/webhook) over its engine, on its own connection to the cluster. The daemon
 * dials out to the cluster, so the apiserver reaches the webhook back at the configured URL; MetalLB's
 * confirmation comes from ClusterSync's read of the lease.
 */
import type { Registry } from 'prom-client';
import { ok, type Result } from '../errors/index.js';
import { connectionOf, createHttpsGateway, type KubeClusterConfig, type KubeGateway } from '../k8s/index.js';
import type { LeaseEngine, LeaseId } from '../lease/index.js';
import { type ConfirmationOf, LeaseWebhook } from '../webhook/index.js';
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

/** A gateway to the cluster the configuration describes; credential files are read now. */
export async function clusterGateway(cluster: KubeClusterConfig): Promise<Result<KubeGateway>> {
  const connection = await connectionOf(cluster);
  return connection.ok
    ? ok(createHttpsGateway({ ...connection.value, timeoutMs: cluster.timeoutMs }))
    : connection;
}

export function daemonWebhook(options: DaemonWebhookOptions): LeaseWebhook {
  const { settings } = options;
  return new LeaseWebhook({
    gateway: options.connect,
    provider: options.provider,
    engine: options.engine,
    logger: options.logger,
    registry: options.registry,
    rollOnFirstAddress: settings.rollOnFirstAddress,
    serve: {
      listen: settings.listen,
      endpoint: { url: settings.url },
      certificates: { ipAddresses: settings.ipAddresses, dnsNames: settings.dnsNames },
      timeoutSeconds: settings.timeoutSeconds,
    },
  });
}

/** MetalLB's word from ClusterSync's read of the lease (`ClusterSync.lease`): any port confirmed. */
export function confirmedPorts(
  lease: (id: LeaseId) => Promise<Result<{ readonly ports: readonly { readonly confirmed: boolean }[] }>>,
): ConfirmationOf {
  return async (id) => {
    const read = await lease(id);
    return read.ok ? ok(read.value.ports.some((port) => port.confirmed)) : read;
  };
}
