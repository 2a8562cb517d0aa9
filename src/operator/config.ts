/**
 * The IP operator's configuration: the Go operator's flags with its `AP_*` environment names (viper's
 * `AP_` prefix, dashes as underscores), a flag winning over its variable, plus our own `--state`,
 * `--metallb-namespace`, `--quarantine`, the lease families' `--ip-family` and `--akash-rest`, and the
 * admission webhook's `--webhook-*`. Parsed once, at the boundary, into a frozen value.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress } from '../identity/index.js';
import type { FamilyRequest } from '../ipam/index.js';
import type { KubeConnection } from '../k8s/index.js';
import { endpointCertificateNames, type WebhookEndpoint, webhookUrlHost } from '../webhook/index.js';
import { IP_FAMILY } from './families.js';

/** Where a pod finds its service account: token, CA and namespace (Kubernetes mounts them here). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The leased-IP admission webhook (src/webhook), served when `--webhook-port` is given. */
export interface OperatorWebhookConfig {
  /** Listened on at `--rest-address`; 0: any free port. */
  readonly port: number;
  /** How the apiserver calls it: the chart's Service, or a URL (tests, an operator outside the cluster). */
  readonly endpoint: WebhookEndpoint;
  /** The serving certificate's names: the Service's DNS name, or the URL's host. */
  readonly ipAddresses: readonly string[];
  readonly dnsNames: readonly string[];
  /** The MutatingWebhookConfiguration's name (the chart's RBAC allows only its own). */
  readonly configurationName?: string;
  readonly timeoutSeconds: number;
  /** Roll a lease's workloads once when its first address is confirmed; never without this opt-in. */
  readonly rollOnFirstAddress: boolean;
}

/** How to reach the API server: a kubeconfig file, or the pod's own service account. */
export type KubeSource =
  | { readonly kind: 'kubeconfig'; readonly file: string; readonly context?: string }
  | { readonly kind: 'in-cluster'; readonly server: string; readonly serviceAccountDir: string };

export interface OperatorConfig {
  /** Our provider's bech32 address: objects of any other provider are ignored (and reported). */
  readonly provider: string;
  /** Where the Go provider writes the `ProviderLeasedIP` objects. */
  readonly manifestNamespace: string;
  readonly metallbNamespace: string;
  /** MetalLB `IPAddressPool` names whose addresses we lease. */
  readonly pools: readonly string[];
  readonly restAddress: string;
  readonly restPort: number;
  readonly kube: KubeSource;
  /** SQLite file of the lease engine; none: memory only, rebuilt from the cluster at start. */
  readonly stateFile?: string;
  /** Cool-down of a released address before another tenant may get it. */
  readonly quarantineMs: number;
  /** The family of a lease whose order asks for none (`--ip-family`); IPv4 as the Go operator. */
  readonly family: FamilyRequest;
  /** The Akash REST API each new lease's order is read from (its placement attributes); none: `family` for all. */
  readonly akashRest?: string;
  readonly webhook?: OperatorWebhookConfig;
}

/** The command line as commander hands it over: every value a string, the pool flag repeatable. */
export interface OperatorFlags {
  readonly provider?: string;
  readonly k8sManifestNs?: string;
  readonly metallbNamespace?: string;
  readonly metalLbPool?: readonly string[];
  readonly restAddress?: string;
  readonly restPort?: string;
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
  readonly state?: string;
  readonly quarantine?: string;
  readonly ipFamily?: string;
  readonly akashRest?: string;
  readonly webhookPort?: string;
  readonly webhookUrl?: string;
  readonly webhookServiceName?: string;
  readonly webhookServiceNamespace?: string;
  readonly webhookServicePort?: string;
  readonly webhookConfigurationName?: string;
  readonly webhookTimeoutSeconds?: string;
  readonly rollOnFirstAddress?: string;
}

/** Flag → environment variable; the Go operator's names where it has the flag, the same scheme for ours. */
export const ENVIRONMENT = {
  provider: 'AP_PROVIDER',
  k8sManifestNs: 'AP_K8S_MANIFEST_NS',
  metallbNamespace: 'AP_METALLB_NAMESPACE',
  metalLbPool: 'AP_METAL_LB_POOL',
  restAddress: 'AP_REST_ADDRESS',
  restPort: 'AP_REST_PORT',
  kubeconfig: 'AP_KUBECONFIG',
  kubeContext: 'AP_KUBE_CONTEXT',
  state: 'AP_STATE',
  quarantine: 'AP_QUARANTINE',
  ipFamily: 'AP_IP_FAMILY',
  akashRest: 'AP_AKASH_REST',
  webhookPort: 'AP_WEBHOOK_PORT',
  webhookUrl: 'AP_WEBHOOK_URL',
  webhookServiceName: 'AP_WEBHOOK_SERVICE_NAME',
  webhookServiceNamespace: 'AP_WEBHOOK_SERVICE_NAMESPACE',
  webhookServicePort: 'AP_WEBHOOK_SERVICE_PORT',
  webhookConfigurationName: 'AP_WEBHOOK_CONFIGURATION_NAME',
  webhookTimeoutSeconds: 'AP_WEBHOOK_TIMEOUT_SECONDS',
  rollOnFirstAddress: 'AP_ROLL_ON_FIRST_ADDRESS',
} as const satisfies Record<keyof OperatorFlags, string>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

const namespace = (flag: string) =>
  z.string().regex(DNS_LABEL, `--${flag} must be a Kubernetes namespace name (a DNS label)`);

const portNumber = (flag: string, least: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/, `--${flag} must be a port number`)
    .transform(Number)
    .refine((port) => port >= least && port <= 65535, `--${flag} must be between ${least} and 65535`);

const webhookSchema = z
  .object({
    port: portNumber('webhook-port', 0),
    url: z
      .string()
      .refine(
        (text) => webhookUrlHost(text) !== undefined,
        '--webhook-url must be an https URL with a path, e.g. https://10.0.0.5:8443/mutate',
      )
      .optional(),
    serviceName: z.string().regex(DNS_LABEL, '--webhook-service-name must be a Service name').optional(),
    serviceNamespace: namespace('webhook-service-namespace').optional(),
    servicePort: portNumber('webhook-service-port', 1),
    configurationName: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, '--webhook-configuration-name must be an object name')
      .optional(),
    timeoutSeconds: z
      .string()
      .regex(/^\d+$/, '--webhook-timeout-seconds must be a whole number of seconds')
      .transform(Number)
      .refine(
        (seconds) => seconds >= 1 && seconds <= 30,
        '--webhook-timeout-seconds must be between 1 and 30',
      ),
    rollOnFirstAddress: z.enum(['true', 'false'], { error: '--roll-on-first-address must be true or false' }),
  })
  .transform((raw, context): OperatorWebhookConfig => {
    const service = raw.serviceName !== undefined || raw.serviceNamespace !== undefined;
    let endpoint: WebhookEndpoint | undefined;
    if (raw.url !== undefined && !service) endpoint = { url: raw.url };
    else if (raw.url === undefined && raw.serviceName !== undefined && raw.serviceNamespace !== undefined) {
      endpoint = {
        service: { name: raw.serviceName, namespace: raw.serviceNamespace, port: raw.servicePort },
      };
    }
    if (endpoint === undefined) {
      context.addIssue({
        code: 'custom',
        message:
          '--webhook-port needs how the apiserver reaches it: --webhook-service-name and --webhook-service-namespace (in cluster), or --webhook-url, not both',
      });
      return z.NEVER;
    }
    return {
      port: raw.port,
      endpoint,
      ...endpointCertificateNames(endpoint),
      ...(raw.configurationName === undefined ? {} : { configurationName: raw.configurationName }),
      timeoutSeconds: raw.timeoutSeconds,
      rollOnFirstAddress: raw.rollOnFirstAddress === 'true',
    };
  });

const WEBHOOK_FLAGS = [
  'webhookUrl',
  'webhookServiceName',
  'webhookServiceNamespace',
  'webhookServicePort',
  'webhookConfigurationName',
  'webhookTimeoutSeconds',
] as const;

/** The webhook's settings; none without `--webhook-port`, and then no other webhook flag, nor the roll. */
function webhookOf(
  flags: OperatorFlags,
  env: Readonly<Record<string, string | undefined>>,
): Result<OperatorWebhookConfig | undefined> {
  const value = (key: Exclude<keyof OperatorFlags, 'metalLbPool'>) => pick(flags, env, key);
  const port = value('webhookPort');
  if (port === undefined) {
    const stray = WEBHOOK_FLAGS.find((key) => value(key) !== undefined);
    if (stray !== undefined) {
      return fail(
        appError(
          'USAGE',
          `${ENVIRONMENT[stray]} is set but the webhook is off: set --webhook-port (AP_WEBHOOK_PORT)`,
        ),
      );
    }
    if (value('rollOnFirstAddress') === 'true') {
      return fail(
        appError(
          'USAGE',
          '--roll-on-first-address needs the webhook (--webhook-port): the rolled pods would not get their addresses',
        ),
      );
    }
    return ok(undefined);
  }
  const parsed = webhookSchema.safeParse({
    port,
    url: value('webhookUrl'),
    serviceName: value('webhookServiceName'),
    serviceNamespace: value('webhookServiceNamespace'),
    servicePort: value('webhookServicePort') ?? '443',
    configurationName: value('webhookConfigurationName'),
    timeoutSeconds: value('webhookTimeoutSeconds') ?? '3',
    rollOnFirstAddress: value('rollOnFirstAddress') ?? 'false',
  });
  if (!parsed.success) {
    return fail(appError('USAGE', parsed.error.issues.map((issue) => issue.message).join('; ')));
  }
  return ok(Object.freeze(parsed.data));
}

const schema = z.object({
  provider: z
    .string({ error: '--provider (AP_PROVIDER) is required: the provider address in bech32' })
    .refine((text) => isAddress(text), '--provider must be an akash1 bech32 account address'),
  manifestNamespace: namespace('k8s-manifest-ns'),
  metallbNamespace: namespace('metallb-namespace'),
  pools: z
    .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, '--metal-lb-pool names must be object names'))
    .min(1),
  restAddress: z.string().min(1),
  restPort: z
    .string()
    .regex(/^\d{1,5}$/, '--rest-port must be a port number')
    .transform(Number)
    .refine((port) => port <= 65535, '--rest-port must be between 0 (any free port) and 65535'),
  quarantineMs: z
    .string()
    .regex(DURATION, '--quarantine must be a duration such as 90s, 30m or 1h')
    .transform((text) => {
      const [, amount, unit] = DURATION.exec(text) as unknown as [string, string, keyof typeof UNIT_MS];
      return Number(amount) * UNIT_MS[unit];
    }),
  family: z
    .enum(Object.keys(IP_FAMILY) as [keyof typeof IP_FAMILY], {
      error: '--ip-family must be ipv4, ipv6 or dual',
    })
    .transform((name) => IP_FAMILY[name]),
  akashRest: z
    .string()
    .refine((text) => {
      try {
        const url = new URL(text);
        return (
          (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === ''
        );
      } catch {
        return false;
      }
    }, '--akash-rest must be the http(s) base URL of an Akash REST API, e.g. https://api.akashnet.net')
    .optional(),
});

function pick(
  flags: OperatorFlags,
  env: Readonly<Record<string, string | undefined>>,
  key: Exclude<keyof OperatorFlags, 'metalLbPool'>,
): string | undefined {
  const value = flags[key] ?? env[ENVIRONMENT[key]];
  return value === '' ? undefined : value;
}

/** `a,b` and repeated flags both name several pools (Go takes one; a list of one is its form). */
function poolNames(flags: OperatorFlags, env: Readonly<Record<string, string | undefined>>): string[] {
  const given = flags.metalLbPool?.length ? flags.metalLbPool : [env[ENVIRONMENT.metalLbPool] ?? ''];
  const names = given.flatMap((entry) => entry.split(',').map((name) => name.trim()));
  const present = [...new Set(names.filter((name) => name !== ''))];
  return present.length === 0 ? ['default'] : present;
}

function kubeSource(
  flags: OperatorFlags,
  env: Readonly<Record<string, string | undefined>>,
  serviceAccountDir: string,
): Result<KubeSource> {
  const file = pick(flags, env, 'kubeconfig') ?? (env.KUBECONFIG || undefined);
  const context = pick(flags, env, 'kubeContext');
  if (file !== undefined) {
    return ok({ kind: 'kubeconfig', file, ...(context === undefined ? {} : { context }) });
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '') {
    return fail(
      appError(
        'USAGE',
        'no Kubernetes connection: give --kubeconfig (AP_KUBECONFIG or KUBECONFIG), or run in a pod (KUBERNETES_SERVICE_HOST/PORT)',
      ),
    );
  }
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return ok({ kind: 'in-cluster', server, serviceAccountDir });
}

/**
 * Flags and environment → the configuration; every refusal is `USAGE` (exit 2) with the flag named.
 * `serviceAccountDir` is injectable so tests can stand in for a pod's mounted secrets.
 */
export function parseOperatorConfig(
  flags: OperatorFlags,
  env: Readonly<Record<string, string | undefined>>,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): Result<OperatorConfig> {
  const parsed = schema.safeParse({
    provider: pick(flags, env, 'provider'),
    manifestNamespace: pick(flags, env, 'k8sManifestNs') ?? 'lease',
    metallbNamespace: pick(flags, env, 'metallbNamespace') ?? 'metallb-system',
    pools: poolNames(flags, env),
    restAddress: pick(flags, env, 'restAddress') ?? '0.0.0.0',
    restPort: pick(flags, env, 'restPort') ?? '8080',
    quarantineMs: pick(flags, env, 'quarantine') ?? '1h',
    family: pick(flags, env, 'ipFamily') ?? 'ipv4',
    akashRest: pick(flags, env, 'akashRest'),
  });
  if (!parsed.success) {
    return fail(appError('USAGE', parsed.error.issues.map((issue) => issue.message).join('; ')));
  }
  const kube = kubeSource(flags, env, serviceAccountDir);
  if (!kube.ok) return kube;
  const webhook = webhookOf(flags, env);
  if (!webhook.ok) return webhook;
  const stateFile = pick(flags, env, 'state');
  const { akashRest, ...data } = parsed.data;
  return ok(
    Object.freeze({
      ...data,
      ...(akashRest === undefined ? {} : { akashRest }),
      pools: Object.freeze(parsed.data.pools),
      kube: kube.value,
      ...(stateFile === undefined ? {} : { stateFile }),
      ...(webhook.value === undefined ? {} : { webhook: webhook.value }),
    }),
  );
}

async function readText(file: string, what: string): Promise<Result<string>> {
  try {
    return ok(await readFile(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return fail(appError('INVALID_INPUT', `${what} ${file}: ${reason}`));
  }
}

/**
 * The pod's service-account connection: its token and CA, read at every call so a rotated token is
 * picked up when the operator reconnects.
 */
export async function inClusterConnection(
  source: Extract<KubeSource, { kind: 'in-cluster' }>,
): Promise<Result<Omit<KubeConnection, 'timeoutMs'>>> {
  const token = await readText(join(source.serviceAccountDir, 'token'), 'service-account token');
  if (!token.ok) return token;
  const ca = await readText(join(source.serviceAccountDir, 'ca.crt'), 'service-account CA');
  if (!ca.ok) return ca;
  return ok({ server: source.server, token: token.value.trim(), ca: ca.value });
}
