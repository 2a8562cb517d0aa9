/**
 * The provider daemon's configuration file (YAML or JSON): parsed once at the boundary into a frozen
 * {@link ProviderConfig}. Every refusal names the file, line and column of the offending value.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { located, positionOf } from '../config-file/index.js';
import { appError, fail, ok, type Result } from '../errors/index.js';
import { deepFreeze } from '../frozen/index.js';
import { isAddress, parsePublicKey } from '../identity/index.js';
import { type Family, type PoolSpec, parsePoolSpec, parsePools } from '../ipam/index.js';
import {
  type DirectConnection,
  isObjectName,
  type KubeClusterConfig,
  type KubeconfigReference,
  type Secret,
} from '../k8s/index.js';
import {
  DEFAULT_QUARANTINE_MS,
  familyOfAttribute,
  ipLeaseAttributes,
  offeredFamilies,
} from '../lease/index.js';
import {
  DEFAULT_BID_TIMEOUT_MS,
  DEFAULT_PRICING,
  type PricingConfig,
  validateAttributes,
} from '../market/index.js';
import type { Attribute } from '../sdl/index.js';
import { endpointCertificateNames, webhookUrlHost } from '../webhook/index.js';

/** Largest configuration file read. */
const MAX_CONFIG_BYTES = 1 << 20;

/** The daemon's settings, with defaults applied and relative paths resolved against the file's folder. */
export interface ProviderConfig {
  /** The provider's account key in a file keyring. */
  readonly identity: { readonly keyring: string; readonly key: string };
  /** `tls` absent: plain HTTP (`listen.tls: false`, for local tests); otherwise HTTPS as Akash's gateway. */
  readonly listen: { readonly host: string; readonly port: number; readonly tls?: TlsConfig };
  /** The URL registered on the ledger; default: the listening URL. */
  readonly hostUri?: string;
  readonly store: { readonly kind: 'memory' } | { readonly kind: 'sqlite'; readonly path: string };
  /** Each pool holds IPv4, IPv6 or both; a dual-stack endpoint takes both addresses from one pool. */
  readonly pools: readonly PoolSpec[];
  /** The family of endpoints whose group's placement asks for none (no `ip-lease-ipv6[-only]`). */
  readonly family: Family;
  readonly quarantineMs: number;
  readonly attributes: readonly Attribute[];
  readonly pricing: PricingConfig;
  /** Devnet mode: register on this ledger, bid on its orders and follow its events. */
  readonly ledger?: {
    readonly url: string;
    readonly timeoutMs: number;
    readonly pollIntervalMs: number;
    /**
     * How long a bid of ours waits for its lease before we close it and release what it holds (Akash's
     * `--bid-timeout`, 5 minutes).
     */
    readonly bidTimeoutMs: number;
    /** Lets the daemon record its own public key through the faucet when the ledger has none yet. */
    readonly adminToken?: string;
  };
  /** Standalone mode: the tenants whose JWTs are accepted, with their public keys. */
  readonly tenants: readonly { readonly address: string; readonly pubkey: string }[];
  /** Opens the provider-internal routes to callers that are not on loopback. */
  readonly adminToken?: string;
  /** The Kubernetes + MetalLB backend; without it the engine's state stays in the store alone. */
  readonly kubernetes?: KubernetesConfig;
  /** The operator's web console (the provider view); off unless configured or asked for with `--console-port`. */
  readonly console?: ConsoleConfig;
  readonly limits: {
    readonly maxBodyBytes: number;
    /** Verified tokens kept, and accounts' keys (known and unknown) kept. */
    readonly tokenCacheSize: number;
    readonly drainMs: number;
    readonly maintainIntervalMs: number;
    /** Longest validity a tenant's token may claim (exp − nbf), in seconds; undefined: any (as Akash). */
    readonly maxTokenLifetimeSeconds?: number;
    /** Failed authentications a source address may have in a row before it gets 429. */
    readonly authFailureBurst: number;
    /** How fast a source earns failures back; 0: no limit. */
    readonly authFailuresPerMinute: number;
  };
}

/**
 * The provider view of the web console, served for the provider's operator on 127.0.0.1 only (never on the
 * gateway's address, which tenants reach), behind a per-run token.
 */
export interface ConsoleConfig {
  /** 0: any free port. */
  readonly port: number;
  /** How often the pools are sampled for the chart. */
  readonly sampleMs: number;
  /** Where the console's URL, token included, is written (0600) at start and removed at stop. */
  readonly urlFile: string;
}

const CONSOLE_DEFAULTS = { port: 0, sampleMs: 3000 };

/** The gateway's HTTPS: its certificate files (created on first start when missing) and the mTLS cache. */
export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** How long a ledger answer about a client certificate is trusted (a revocation is seen within it). */
  readonly clientCertCacheMs: number;
}

const TLS_DEFAULTS = {
  certFile: 'provider-cert.pem',
  keyFile: 'provider-key.pem',
  clientCertCacheMs: 10_000,
};

/** The cluster the daemon realizes its leases in, and how its sync paces itself. */
export type KubernetesConfig = KubeClusterConfig & KubernetesSyncSettings;

export interface KubernetesSyncSettings {
  /** Longest wait between two attempts to reach a cluster that did not answer; waits double up to it. */
  readonly retryMaxMs: number;
  /** Between two drift checks (the whole cluster compared with the engine, differences repaired); 0: none. */
  readonly reconcileIntervalMs: number;
  /** The leased-IP admission webhook (src/webhook); off unless configured. */
  readonly webhook?: WebhookSettings;
}

/** Where the daemon serves the admission webhook, and how the apiserver reaches it back. */
export interface WebhookSettings {
  readonly listen: { readonly host: string; readonly port: number };
  /** What the apiserver dials, e.g. `https://10.0.0.5:8443/mutate`; `{port}` is the port actually bound. */
  readonly url: string;
  /** The serving certificate's names: by default the URL's host. */
  readonly ipAddresses: readonly string[];
  readonly dnsNames: readonly string[];
  readonly timeoutSeconds: number;
  /** Roll a lease's workloads once when its first address is confirmed; never without this opt-in. */
  readonly rollOnFirstAddress: boolean;
}

/** What a pool needs to serve each family. */
const FAMILY_POOLS = {
  v4: 'IPv4 addresses',
  v6: 'IPv6 addresses',
  dual: 'both families (a dual-stack endpoint takes both addresses from one pool)',
} as const;

function advertisedFamilies(attributes: readonly Attribute[], fallback: Family) {
  return attributes.flatMap((attribute) => {
    const family = familyOfAttribute(attribute, fallback);
    return family === undefined ? [] : [family];
  });
}

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();

const pricingSchema = z.strictObject({
  aktUsd: positive.exactOptional(),
  blockSeconds: positive.exactOptional(),
  monthDays: positive.exactOptional(),
  usdPerMonth: z
    .strictObject({
      cpu: nonNegative.exactOptional(),
      memory: nonNegative.exactOptional(),
      storage: z.record(z.string(), nonNegative).exactOptional(),
      endpoint: nonNegative.exactOptional(),
      ip: nonNegative.exactOptional(),
    })
    .exactOptional(),
});

const poolSchema = z.strictObject({
  name: z.string().min(1),
  addresses: z.array(z.string()).min(1),
  autoAssign: z.boolean().exactOptional(),
  avoidBuggyIPs: z.boolean().exactOptional(),
  exclude: z.array(z.string()).exactOptional(),
});

const httpUrl = z
  .string()
  .refine((text) => /^https?:\/\/[^\s/]+(\/.*)?$/.test(text), 'must be an http(s) URL');

const objectName = z.string().refine((text) => isObjectName(text), 'must be a Kubernetes object name');

const webhookSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.int().min(0).max(65535).default(8443),
      })
      // Absent: every field takes its own default.
      .prefault({}),
    url: z
      .string()
      .refine(
        (text) => webhookUrlHost(text) !== undefined,
        'must be an https URL with a path, e.g. https://10.0.0.5:8443/mutate',
      ),
    ipAddresses: z
      .array(z.string().refine((text) => isIP(text) !== 0, 'must be an IP address'))
      .exactOptional(),
    dnsNames: z
      .array(z.string().regex(/^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$/i, 'must be a DNS name'))
      .exactOptional(),
    timeoutSeconds: z.int().min(1).max(30).default(3),
    rollOnFirstAddress: z.boolean().default(false),
  })
  .superRefine((value, context) => {
    const host = webhookUrlHost(value.url);
    if (host === undefined || (value.ipAddresses === undefined && value.dnsNames === undefined)) return;
    // The apiserver verifies the certificate against the URL's host: a certificate without it never serves.
    const names = [...(value.ipAddresses ?? []), ...(value.dnsNames ?? [])].map((name) => name.toLowerCase());
    if (!names.includes(host.toLowerCase())) {
      context.addIssue({
        code: 'custom',
        path: [value.ipAddresses === undefined ? 'dnsNames' : 'ipAddresses'],
        message: `must include the url's host ${host}: the apiserver checks the certificate against it`,
      });
    }
  });

const kubernetesSchema = z
  .strictObject({
    kubeconfig: z.string().min(1).exactOptional(),
    context: z.string().min(1).exactOptional(),
    server: z
      .string()
      .refine((text) => /^https:\/\/[^\s/]+\/?$/.test(text), 'must be an https URL without a path')
      .exactOptional(),
    token: z.string().min(1).exactOptional(),
    tokenFile: z.string().min(1).exactOptional(),
    ca: z.string().min(1).exactOptional(),
    caFile: z.string().min(1).exactOptional(),
    namespace: objectName.default('lease'),
    metallbNamespace: objectName.default('metallb-system'),
    timeoutMs: z.int().min(100).max(120_000).default(15_000),
    retryMaxMs: z.int().min(100).max(600_000).default(30_000),
    reconcileIntervalMs: z
      .int()
      .min(0)
      .max(86_400_000)
      .refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (no drift checks) or at least 1000')
      .default(60_000),
    webhook: webhookSchema.exactOptional(),
  })
  .superRefine((value, context) => {
    if (value.kubeconfig !== undefined) {
      const direct = (['server', 'token', 'tokenFile', 'ca', 'caFile'] as const).find(
        (key) => value[key] !== undefined,
      );
      if (direct !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [direct],
          message: `give either kubeconfig or ${direct}: the kubeconfig names the server and credentials`,
        });
      }
      return;
    }
    if (value.context !== undefined) {
      context.addIssue({ code: 'custom', path: ['context'], message: 'context needs kubeconfig' });
    }
    if (value.server === undefined) {
      context.addIssue({
        code: 'custom',
        path: [],
        message: 'give server (with token and ca) or kubeconfig',
      });
      return;
    }
    for (const [inline, file] of [
      ['token', 'tokenFile'],
      ['ca', 'caFile'],
    ] as const) {
      const given = [value[inline], value[file]].filter((part) => part !== undefined).length;
      if (given !== 1) {
        context.addIssue({
          code: 'custom',
          path: given === 0 ? [] : [file],
          message: `give exactly one of ${inline} and ${file}`,
        });
      }
    }
  });

const configSchema = z.strictObject({
  provider: z.strictObject({
    keyring: z.string().min(1).exactOptional(),
    key: z.string().min(1),
  }),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(0),
      tls: z
        .union([
          z.boolean(),
          z.strictObject({
            certFile: z.string().min(1).default(TLS_DEFAULTS.certFile),
            keyFile: z.string().min(1).default(TLS_DEFAULTS.keyFile),
            clientCertCacheMs: z.int().min(0).max(3_600_000).default(TLS_DEFAULTS.clientCertCacheMs),
          }),
        ])
        .default(true),
    })
    .prefault({}),
  hostUri: httpUrl.exactOptional(),
  store: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('memory') }),
      z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1) }),
    ])
    .default({ kind: 'memory' }),
  pools: z.array(poolSchema).default([]),
  family: z.enum(['v4', 'v6']).default('v4'),
  quarantineMs: z.int().min(0).default(DEFAULT_QUARANTINE_MS),
  attributes: z.array(z.strictObject({ key: z.string(), value: z.string() })).exactOptional(),
  pricing: pricingSchema.exactOptional(),
  ledger: z
    .strictObject({
      url: httpUrl,
      timeoutMs: z.int().min(100).max(120_000).default(5000),
      pollIntervalMs: z.int().min(10).max(60_000).default(1000),
      bidTimeoutMs: z.int().min(100).max(86_400_000).default(DEFAULT_BID_TIMEOUT_MS),
      adminToken: z.string().min(1).exactOptional(),
    })
    .exactOptional(),
  tenants: z
    .array(
      z.strictObject({
        address: z.string().refine((text) => isAddress(text), 'must be an akash1 account address'),
        pubkey: z
          .string()
          .refine((text) => parsePublicKey(text).ok, 'must be a compressed secp256k1 key (hex)'),
      }),
    )
    .default([]),
  adminToken: z.string().min(16, 'must be at least 16 characters').exactOptional(),
  kubernetes: kubernetesSchema.exactOptional(),
  console: z
    .strictObject({
      port: z.int().min(0).max(65535).default(CONSOLE_DEFAULTS.port),
      sampleMs: z.int().min(100).max(600_000).default(CONSOLE_DEFAULTS.sampleMs),
      urlFile: z.string().min(1).exactOptional(),
    })
    .exactOptional(),
  limits: z
    .strictObject({
      maxBodyBytes: z
        .int()
        .min(1024)
        .max(64 << 20)
        .default(1 << 20),
      tokenCacheSize: z.int().min(1).max(1_000_000).default(10_000),
      drainMs: z.int().min(0).max(600_000).default(10_000),
      maintainIntervalMs: z.int().min(100).max(3_600_000).default(30_000),
      maxTokenLifetimeSeconds: z.int().min(1).max(31_536_000).exactOptional(),
      authFailureBurst: z.int().min(1).max(1_000_000).default(20),
      authFailuresPerMinute: z.int().min(0).max(1_000_000).default(30),
    })
    .prefault({}),
});

type RawConfig = z.infer<typeof configSchema>;

function mergePricing(raw: RawConfig['pricing']): PricingConfig {
  if (raw === undefined) return DEFAULT_PRICING;
  const base = DEFAULT_PRICING.usdPerMonth;
  const usd = raw.usdPerMonth ?? {};
  return Object.freeze({
    aktUsd: raw.aktUsd ?? DEFAULT_PRICING.aktUsd,
    blockSeconds: raw.blockSeconds ?? DEFAULT_PRICING.blockSeconds,
    monthDays: raw.monthDays ?? DEFAULT_PRICING.monthDays,
    usdPerMonth: Object.freeze({
      cpu: usd.cpu ?? base.cpu,
      memory: usd.memory ?? base.memory,
      storage: Object.freeze({ ...base.storage, ...usd.storage }),
      endpoint: usd.endpoint ?? base.endpoint,
      ip: usd.ip ?? base.ip,
    }),
  });
}

function webhookOf(raw: z.infer<typeof webhookSchema>): WebhookSettings {
  const named = raw.ipAddresses !== undefined || raw.dnsNames !== undefined;
  const byUrl = endpointCertificateNames({ url: raw.url });
  return {
    listen: raw.listen,
    url: raw.url,
    ipAddresses: named ? (raw.ipAddresses ?? []) : byUrl.ipAddresses,
    dnsNames: named ? (raw.dnsNames ?? []) : byUrl.dnsNames,
    timeoutSeconds: raw.timeoutSeconds,
    rollOnFirstAddress: raw.rollOnFirstAddress,
  };
}

function listenOf(raw: RawConfig['listen'], base: string): ProviderConfig['listen'] {
  const { host, port, tls } = raw;
  if (tls === false) return { host, port };
  const files = tls === true ? TLS_DEFAULTS : tls;
  return {
    host,
    port,
    tls: {
      certFile: resolve(base, files.certFile),
      keyFile: resolve(base, files.keyFile),
      clientCertCacheMs: files.clientCertCacheMs,
    },
  };
}

function kubernetesOf(raw: NonNullable<RawConfig['kubernetes']>, base: string): KubernetesConfig {
  const secret = (value: string | undefined, file: string | undefined): Secret =>
    value === undefined ? { file: resolve(base, file ?? '') } : { value };
  const connection: DirectConnection | KubeconfigReference =
    raw.kubeconfig === undefined
      ? {
          server: (raw.server ?? '').replace(/\/+$/, ''),
          token: secret(raw.token, raw.tokenFile),
          ca: secret(raw.ca, raw.caFile),
        }
      : {
          kubeconfig: resolve(base, raw.kubeconfig),
          ...(raw.context === undefined ? {} : { context: raw.context }),
        };
  return {
    ...connection,
    namespace: raw.namespace,
    metallbNamespace: raw.metallbNamespace,
    timeoutMs: raw.timeoutMs,
    retryMaxMs: raw.retryMaxMs,
    reconcileIntervalMs: raw.reconcileIntervalMs,
    ...(raw.webhook === undefined ? {} : { webhook: webhookOf(raw.webhook) }),
  };
}

/**
 * The console's settings, when the file or `--console-port` asks for it. Its URL file goes next to the store
 * (a folder the daemon writes anyway), or beside the configuration with a memory store.
 */
function consoleOf(
  raw: RawConfig['console'],
  port: number | undefined,
  store: ProviderConfig['store'],
  file: string,
): ConsoleConfig | undefined {
  if (raw === undefined && port === undefined) return undefined;
  const base = dirname(resolve(file));
  const settings = raw ?? CONSOLE_DEFAULTS;
  return {
    port: port ?? settings.port,
    sampleMs: settings.sampleMs,
    urlFile:
      raw?.urlFile === undefined
        ? `${store.kind === 'sqlite' ? store.path : resolve(file)}.console-url`
        : resolve(base, raw.urlFile),
  };
}

/** How `parseConfig` reads a file: the keyring when it names none, and command-line overrides. */
export interface ConfigOptions {
  readonly defaultKeyring: string;
  /** `--console-port`: serve the operator's console on this port of 127.0.0.1 (0: any free port). */
  readonly consolePort?: number;
}

/**
 * Parses configuration text. `file` names it in messages and anchors relative paths; `defaultKeyring` is
 * used when the file names no keyring folder.
 */
export function parseConfig(text: string, file: string, options: ConfigOptions): Result<ProviderConfig> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    return located(file, lines.linePos(syntax.pos[0]), [], syntax.message.split('\n')[0] ?? 'invalid YAML');
  }
  const parsed = configSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // an unknown key is reported on its parent object; point at the key itself
    const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const path = unknownKey === undefined ? (issue?.path ?? []) : [...(issue?.path ?? []), unknownKey];
    const position = positionOf(doc.contents, path, lines, unknownKey !== undefined);
    return located(file, position, path, issue?.message ?? 'invalid');
  }
  const raw = parsed.data;
  const at = (path: readonly PropertyKey[]) => positionOf(doc.contents, path, lines);

  for (const [index, pool] of raw.pools.entries()) {
    const plan = parsePoolSpec(pool);
    if (!plan.ok) return located(file, at(['pools', index]), ['pools', index], plan.error.message);
  }
  const pools = parsePools(raw.pools);
  if (!pools.ok) return located(file, at(['pools']), ['pools'], pools.error.message);

  if (raw.kubernetes !== undefined) {
    // Each pool becomes a MetalLB IPAddressPool of the same name.
    const index = raw.pools.findIndex((pool) => !isObjectName(pool.name));
    if (index >= 0) {
      const path = ['pools', index, 'name'];
      return located(file, at(path), path, 'must be a Kubernetes object name when kubernetes is configured');
    }
  }

  const offer = offeredFamilies(raw.pools);
  const attributes = raw.attributes ?? ipLeaseAttributes(offer, raw.family);
  const checked = validateAttributes(attributes, false);
  if (!checked.ok) return located(file, at(['attributes']), ['attributes'], checked.error.message);
  // An advertised family the pools cannot serve would win orders the provider then cannot bid on.
  const unserved = advertisedFamilies(attributes, raw.family).find((family) => !offer[family]);
  if (unserved !== undefined) {
    const key = attributes.find((attribute) => familyOfAttribute(attribute, raw.family) === unserved)?.key;
    return located(
      file,
      at(['attributes']),
      ['attributes'],
      raw.pools.length === 0
        ? `the provider advertises ${key} "true" but configures no address pool`
        : `the provider advertises ${key} "true" but no auto-assign pool serves ${FAMILY_POOLS[unserved]}`,
    );
  }

  const base = dirname(resolve(file));
  const store: ProviderConfig['store'] =
    raw.store.kind === 'sqlite' ? { kind: 'sqlite', path: resolve(base, raw.store.path) } : raw.store;
  const consoleConfig = consoleOf(raw.console, options.consolePort, store, file);
  const config: ProviderConfig = {
    identity: {
      keyring: resolve(base, raw.provider.keyring ?? options.defaultKeyring),
      key: raw.provider.key,
    },
    listen: listenOf(raw.listen, base),
    ...(raw.hostUri === undefined ? {} : { hostUri: raw.hostUri.replace(/\/+$/, '') }),
    store,
    pools: raw.pools,
    family: raw.family,
    quarantineMs: raw.quarantineMs,
    attributes,
    pricing: mergePricing(raw.pricing),
    ...(raw.ledger === undefined ? {} : { ledger: raw.ledger }),
    tenants: raw.tenants,
    ...(raw.adminToken === undefined ? {} : { adminToken: raw.adminToken }),
    ...(raw.kubernetes === undefined ? {} : { kubernetes: kubernetesOf(raw.kubernetes, base) }),
    ...(consoleConfig === undefined ? {} : { console: consoleConfig }),
    limits: raw.limits,
  };
  return ok(deepFreeze(config));
}

/** Reads and parses a configuration file. */
export async function loadConfig(path: string, options: ConfigOptions): Promise<Result<ProviderConfig>> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_CONFIG_BYTES) {
      return fail(appError('INVALID_INPUT', `${path}: a configuration file is at most 1 MiB`));
    }
    text = bytes.toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return fail(appError('INVALID_INPUT', `cannot read configuration ${path}: ${reason}`, { file: path }));
  }
  return parseConfig(text, path, options);
}
