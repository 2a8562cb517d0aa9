/**
 * The backend's own configuration: where the cluster is, how to prove who we are, and the namespaces it
 * works in. Faces (the daemon's config file, the operator's flags) parse their input into it; credentials
 * given as files are read at each connection attempt, so rotated tokens and certificates are picked up.
 */
import { readFile } from 'node:fs/promises';
import { appError, fail, ok, type Result } from '../errors/index.js';
import { KubeBackend } from './backend.js';
import { createHttpsGateway } from './gateway.js';
import type { InformerLogger } from './informer.js';
import { type KubeconfigConnection, loadKubeconfig } from './kubeconfig.js';

/** A value given inline or read from a file. */
export type Secret = { readonly value: string } | { readonly file: string };

export interface DirectConnection {
  /** `https://host:port` of the kube-apiserver. */
  readonly server: string;
  /** Bearer token. */
  readonly token: Secret;
  /** PEM of the CA that signed the server's certificate. */
  readonly ca: Secret;
}

/** The cluster and our credentials, as a kubeconfig file's context says. */
export interface KubeconfigReference {
  readonly kubeconfig: string;
  /** Default: the file's `current-context`. */
  readonly context?: string;
}

export interface KubeSettings {
  /** Namespace of the `ProviderLeasedIP` objects (Go's `--k8s-manifest-ns`). */
  readonly namespace: string;
  /** Namespace MetalLB reads its `IPAddressPool`s from. */
  readonly metallbNamespace: string;
  /** Per request to the apiserver. */
  readonly timeoutMs: number;
}

export type KubeClusterConfig = (DirectConnection | KubeconfigReference) & KubeSettings;

/** A backend ready to use, and how to let go of its connections. */
export interface KubeBackendConnection {
  readonly backend: KubeBackend;
  /** Stops the backend's watch and drops its connections. */
  close(): Promise<void>;
}

async function reveal(secret: Secret, what: string): Promise<Result<string>> {
  if ('value' in secret) return ok(secret.value);
  try {
    return ok((await readFile(secret.file, 'utf8')).trim());
  } catch (error) {
    return fail(
      appError('INVALID_INPUT', `cannot read the ${what} file ${secret.file}: ${(error as Error).message}`),
    );
  }
}

/** The connection the configuration describes; files are read now. */
export async function connectionOf(
  config: DirectConnection | KubeconfigReference,
): Promise<Result<KubeconfigConnection>> {
  if ('kubeconfig' in config) return loadKubeconfig(config.kubeconfig, config.context);
  const token = await reveal(config.token, 'token');
  if (!token.ok) return token;
  const ca = await reveal(config.ca, 'CA');
  if (!ca.ok) return ca;
  return ok({ server: config.server, token: token.value, ca: ca.value });
}

/** Opens the backend the configuration describes for `provider`'s leases, started (see KubeBackend.start). */
export async function connectKubeBackend(
  config: KubeClusterConfig,
  provider: string,
  logger?: InformerLogger,
): Promise<Result<KubeBackendConnection>> {
  const connection = await connectionOf(config);
  if (!connection.ok) return connection;
  const gateway = createHttpsGateway({ ...connection.value, timeoutMs: config.timeoutMs });
  const backend = new KubeBackend({
    gateway,
    provider,
    namespace: config.namespace,
    metallbNamespace: config.metallbNamespace,
    ...(logger === undefined ? {} : { logger }),
  });
  backend.start();
  return ok({
    backend,
    async close() {
      const stopped = backend.stop();
      // Dropping the sockets fails a list still in flight at once, so the watch's loop need not wait it out.
      gateway.close();
      await stopped;
    },
  });
}
