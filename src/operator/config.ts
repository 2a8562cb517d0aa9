/**
 * The IP operator's configuration: the Go operator's flags with its `AP_*` environment names (viper's
 * `AP_` prefix, dashes as underscores), a flag winning over its variable, plus our own `--state`,
 * `--metallb-namespace` and `--quarantine`. Parsed once, at the boundary, into a frozen value.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress } from '../identity/index.js';
import type { KubeConnection } from '../k8s/index.js';

/** Where a pod finds its service account: token, CA and namespace (Kubernetes mounts them here). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

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
} as const satisfies Record<keyof OperatorFlags, string>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

const namespace = (flag: string) =>
  z.string().regex(DNS_LABEL, `--${flag} must be a Kubernetes namespace name (a DNS label)`);

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
  });
  if (!parsed.success) {
    return fail(appError('USAGE', parsed.error.issues.map((issue) => issue.message).join('; ')));
  }
  const kube = kubeSource(flags, env, serviceAccountDir);
  if (!kube.ok) return kube;
  const stateFile = pick(flags, env, 'state');
  return ok(
    Object.freeze({
      ...parsed.data,
      pools: Object.freeze(parsed.data.pools),
      kube: kube.value,
      ...(stateFile === undefined ? {} : { stateFile }),
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
