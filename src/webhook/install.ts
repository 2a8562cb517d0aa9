/**
 * The `MutatingWebhookConfiguration` that sends tenant pod creations to the webhook, and its writing
 * through the KubeGateway. Scoped as narrowly as the apiserver allows: namespaces labelled by the Akash
 * provider as this provider's lease namespaces, pods carrying the manifest-service label, CREATE only.
 * `failurePolicy: Ignore` and a short timeout: an absent or slow webhook costs a pod its variables, never
 * its creation.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type KubeClient, LABEL, MANAGED_BY, metadataSchema } from '../k8s/index.js';
import { MANIFEST_SERVICE_LABEL } from './review.js';
import { MUTATE_PATH } from './server.js';

export const CONFIGURATION_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
/** The webhook's name inside the configuration (a qualified name, as the API requires). */
export const WEBHOOK_NAME = 'leased-ips.akash-ip.akash.network';
export const DEFAULT_CONFIGURATION_NAME = 'akash-ip-leased-ips';

/** How the apiserver reaches the webhook: a URL (out of cluster, the daemon) or a Service (in cluster, the chart). */
export type WebhookEndpoint =
  | { readonly url: string }
  | { readonly service: { readonly namespace: string; readonly name: string; readonly port?: number } };

/**
 * The host of an `https://host[:port]/path` URL (brackets off an IPv6 literal), or `undefined` when the text
 * is no such URL. `{port}` (the port bound at start) may stand for the port.
 */
export function webhookUrlHost(text: string): string | undefined {
  if (!/^https:\/\/[^\s/]+\/\S*$/.test(text)) return undefined;
  try {
    const host = new URL(text.replace('{port}', '1')).hostname;
    return host.startsWith('[') ? host.slice(1, -1) : host;
  } catch {
    return undefined;
  }
}

/**
 * The names the serving certificate needs so the apiserver accepts it: the URL's host (an IP or a DNS
 * name), or the Service's DNS name `<name>.<namespace>.svc`, which is what the apiserver dials.
 */
export function endpointCertificateNames(endpoint: WebhookEndpoint): {
  readonly ipAddresses: readonly string[];
  readonly dnsNames: readonly string[];
} {
  if ('service' in endpoint) {
    return { ipAddresses: [], dnsNames: [`${endpoint.service.name}.${endpoint.service.namespace}.svc`] };
  }
  const host = webhookUrlHost(endpoint.url) ?? '';
  return isIP(host) !== 0 ? { ipAddresses: [host], dnsNames: [] } : { ipAddresses: [], dnsNames: [host] };
}

export interface WebhookConfigurationSpec {
  /** This provider's account address: only its lease namespaces are selected. */
  readonly provider: string;
  readonly endpoint: WebhookEndpoint;
  /** PEM of every CA the apiserver should trust for the webhook (two during a CA rotation). */
  readonly caBundle: string;
  /** Default {@link DEFAULT_CONFIGURATION_NAME}. */
  readonly name?: string;
  /** Default 3; the API allows 1 to 30. */
  readonly timeoutSeconds?: number;
}

/** The configuration object. */
export function webhookConfiguration(spec: WebhookConfigurationSpec): Record<string, unknown> {
  const clientConfig =
    'url' in spec.endpoint
      ? { url: spec.endpoint.url }
      : {
          service: {
            namespace: spec.endpoint.service.namespace,
            name: spec.endpoint.service.name,
            port: spec.endpoint.service.port ?? 443,
            path: MUTATE_PATH,
          },
        };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: spec.name ?? DEFAULT_CONFIGURATION_NAME, labels: { [LABEL.managedBy]: MANAGED_BY } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        timeoutSeconds: spec.timeoutSeconds ?? 3,
        matchPolicy: 'Equivalent',
        // A later webhook adding a container gets it patched too; the patch is idempotent.
        reinvocationPolicy: 'IfNeeded',
        clientConfig: { ...clientConfig, caBundle: Buffer.from(spec.caBundle).toString('base64') },
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ],
        // The Go provider labels each lease namespace `akash.network=true` plus the five lease labels.
        namespaceSelector: {
          matchLabels: { [LABEL.akash]: 'true', [LABEL.provider]: spec.provider },
          matchExpressions: [{ key: LABEL.owner, operator: 'Exists' }],
        },
        objectSelector: { matchExpressions: [{ key: MANIFEST_SERVICE_LABEL, operator: 'Exists' }] },
      },
    ],
  };
}

const configurationSchema = z.object({ metadata: metadataSchema });

/**
 * Creates the configuration, or updates it when it is ours (a merge patch replaces the `webhooks` list
 * whole). One with the same name that is not ours is left alone: `K8S_REJECTED` (409).
 */
export async function applyWebhookConfiguration(
  client: KubeClient,
  spec: WebhookConfigurationSpec,
): Promise<Result<void, AppError>> {
  const desired = webhookConfiguration(spec);
  const name = spec.name ?? DEFAULT_CONFIGURATION_NAME;
  const path = `${CONFIGURATION_PATH}/${name}`;
  const current = await client.get(configurationSchema, path);
  if (!current.ok) return current;
  if (current.value === undefined) {
    const created = await client.create(configurationSchema, CONFIGURATION_PATH, desired);
    return created.ok ? ok(undefined) : created;
  }
  if (current.value.metadata.labels?.[LABEL.managedBy] !== MANAGED_BY) {
    return fail(
      appError('K8S_REJECTED', `MutatingWebhookConfiguration ${name} exists and is not managed by akash-ip`, {
        status: 409,
        reason: 'AlreadyExists',
      }),
    );
  }
  const patched = await client.patch(configurationSchema, path, desired);
  return patched.ok ? ok(undefined) : patched;
}
