/**
 * The webhook as a host process runs it (the daemon with a `kubernetes` section, the operator): make a
 * CA and serving certificate, listen, write the MutatingWebhookConfiguration with the CA bundle, and run
 * a rotation step on a timer. One call to start, one to stop.
 */
import type { AddressInfo } from 'node:net';
import { type AppError, ok, type Result } from '../errors/index.js';
import type { KubeClient } from '../k8s/index.js';
import { type RotationStep, type WebhookCertificateOptions, WebhookCertificates } from './certificates.js';
import { applyWebhookConfiguration, type WebhookEndpoint } from './install.js';
import type { LeasedIpLookup } from './review.js';
import { createWebhookServer, type ReviewObserver } from './server.js';

export interface WebhookRunOptions {
  readonly client: KubeClient;
  /** This provider's account address (the configuration selects its lease namespaces only). */
  readonly provider: string;
  readonly lookup: LeasedIpLookup;
  /** Where to listen; default 127.0.0.1 and a free port. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** How the apiserver reaches us; a URL may name `{port}`, replaced by the port actually bound. */
  readonly endpoint: WebhookEndpoint;
  /** The names in the serving certificate (the Service's DNS names, or 127.0.0.1), and rotation timing. */
  readonly certificates: WebhookCertificateOptions;
  readonly configurationName?: string;
  /** The configuration's `timeoutSeconds`; default 3. */
  readonly timeoutSeconds?: number;
  /** Between rotation steps; default 1 hour. */
  readonly rotateEveryMs?: number;
  /** Default a second under `timeoutSeconds` (at least 500 ms). */
  readonly handlerTimeoutMs?: number;
  readonly onReview?: ReviewObserver;
  /** A rotation step that failed (it is tried again on the next tick). */
  readonly onRotationError?: (error: AppError) => void;
}

export interface RunningWebhook {
  readonly address: AddressInfo;
  /** One rotation step now; `force` renews the CA or the certificate regardless of expiry. */
  rotate(force?: 'ca' | 'certificate'): Promise<Result<RotationStep>>;
  /** Stops the timer and the server; the configuration stays (failurePolicy Ignore makes it harmless). */
  close(): Promise<void>;
}

export async function startWebhook(options: WebhookRunOptions): Promise<Result<RunningWebhook>> {
  const certs = WebhookCertificates.create(options.certificates);
  if (!certs.ok) return certs;
  const server = createWebhookServer({
    certificate: certs.value.serving(),
    lookup: options.lookup,
    // Answer a second before the apiserver gives up, so a slow lookup still yields "allowed" from us.
    handlerTimeoutMs: options.handlerTimeoutMs ?? Math.max(500, (options.timeoutSeconds ?? 3) * 1000 - 1000),
    ...(options.onReview === undefined ? {} : { onReview: options.onReview }),
  });
  const address = await server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1');
  const endpoint: WebhookEndpoint =
    'url' in options.endpoint
      ? { url: options.endpoint.url.replace('{port}', String(address.port)) }
      : options.endpoint;
  const spec = {
    provider: options.provider,
    endpoint,
    ...(options.configurationName === undefined ? {} : { name: options.configurationName }),
    ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
  };
  const installed = await applyWebhookConfiguration(options.client, {
    ...spec,
    caBundle: certs.value.caBundle(),
  });
  if (!installed.ok) {
    await server.close();
    return installed;
  }
  const targets = {
    publish: (caBundle: string) => applyWebhookConfiguration(options.client, { ...spec, caBundle }),
    serve: server.setCertificate,
  };
  // Steps run one at a time: a timer tick and a forced step must not both publish.
  let queue: Promise<unknown> = Promise.resolve();
  const rotate = (force?: 'ca' | 'certificate'): Promise<Result<RotationStep>> => {
    const step = queue.then(() => certs.value.rotate(targets, force));
    queue = step;
    return step;
  };
  const timer = setInterval(() => {
    void rotate().then((step) => {
      if (!step.ok) options.onRotationError?.(step.error);
    });
  }, options.rotateEveryMs ?? 3_600_000);
  timer.unref();
  return ok({
    address,
    rotate,
    async close() {
      clearInterval(timer);
      await server.close();
    },
  });
}
