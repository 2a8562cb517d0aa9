/**
 * The operator's HTTP face, byte-compatible with what the Go provider's IP client reads:
 *
 * | route | answers |
 * |---|---|
 * | `GET /health` | 200 `OK` once the first sync is done, and from then on (an apiserver blink never closes it); 503 empty before |
 * | `GET /version` | 200 JSON |
 * | `GET /usage` | 200 `{"Available":n,"InUse":m}` with `Cache-Control: no-cache, max-age=0` and `Last-Modified`; 204 before the first sync; counted in the default family (`--ip-family`) |
 * | `GET /usage/families` | ours, which Go never reads: `{"default","IPv4":{"Available","InUse"},"IPv6":{…}}` |
 * | `GET /ip-lease-status/{owner}/{dseq}/{gseq}/{oseq}` | 200 `[{"Port","ExternalPort","ServiceName","IP","Protocol"}]` (confirmed ports only, one entry per address: a dual-stack port twice) · 204 none · 404 empty for bad ids · 500 `{"Error","Code"}` |
 * | `GET /state` · `GET /ignored-leases` | 200 JSON: what we act on and why not (with the webhook, `ip_env`: do the pods carry the addresses) |
 * | `GET /metrics` · `/healthz` · `/readyz` | Prometheus · liveness · readiness (synced and apiserver reachable, else 503 with why) |
 */
import { type Context, Hono } from 'hono';
import { routePath } from 'hono/route';
import type { Registry } from 'prom-client';
import { type IpLeaseStatusEntry, type Logger, parseLeasePath } from '../daemon/index.js';
import { isAddress } from '../identity/index.js';
import { type LeaseId, leaseKey } from '../lease/index.js';
import type { IpEnvStatus } from '../webhook/index.js';
import { familyFlagName } from './families.js';
import { jsonCount, type PoolPicture } from './pools.js';
import type { Ignored, IpOperator, LeaseState } from './reconciler.js';

export interface OperatorAppDeps {
  readonly operator: Pick<
    IpOperator,
    | 'isSynced'
    | 'usage'
    | 'familyUsage'
    | 'defaultFamily'
    | 'confirmedPorts'
    | 'state'
    | 'ignored'
    | 'problems'
    | 'syncProblems'
    | 'summary'
    | 'pools'
  >;
  readonly provider: string;
  /** Whether the apiserver answers right now (readiness). */
  readonly reachable: () => Promise<string | undefined>;
  readonly registry: Registry;
  readonly version: string;
  /** With the admission webhook: per lease key, whether its pods carry its addresses (`/state` `ip_env`). */
  readonly ipEnv?: (leases: readonly LeaseId[]) => Promise<ReadonlyMap<string, IpEnvStatus>>;
  /** Observes each request's duration (seconds). */
  readonly observe?: (method: string, route: string, status: number, seconds: number) => void;
  readonly now?: () => number;
  readonly logger: Logger;
}

/** Go's json.Encoder ends each document with a newline; its clients do not care, byte-compatibility does. */
function goJson(c: Context, value: unknown, status: 200 | 500 = 200): Response {
  return c.body(`${JSON.stringify(value)}\n`, status, { 'content-type': 'application/json' });
}

/** Go's `{"Error","Code"}` body, with the Content-Type Go forgets (F9), so the provider's client decodes it. */
function goError(c: Context, message: string, code = -1): Response {
  return goJson(c, { Error: message, Code: code }, 500);
}

function iso(at: number | undefined): string | undefined {
  return at === undefined ? undefined : new Date(at).toISOString();
}

/**
 * Go's `/state` (lease key → ports) plus keys of ours, which no lease key can be (they hold slashes):
 * `pools`, each named pool's size, foreign-held addresses and, when it cannot be leased from, why; and,
 * with the webhook, `ip_env`: per lease key, whether the lease's pods carry its current addresses.
 */
function stateJson(
  leases: readonly LeaseState[],
  pools: PoolPicture | undefined,
  ipEnv: ReadonlyMap<string, IpEnvStatus> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    pools: (pools?.pools ?? []).map((pool) => ({
      name: pool.name,
      addresses: pool.addresses,
      size: jsonCount(pool.size),
      ipv4: jsonCount(pool.sizes.v4),
      ipv6: jsonCount(pool.sizes.v6),
      foreign: pool.foreign,
      problem: pool.problem,
    })),
  };
  for (const lease of leases) {
    const { owner, dseq, gseq, oseq, provider } = lease.lease;
    // Go's per-port keys first, then ours: protocol, endpoint, Service name, address, confirmation.
    out[leaseKey(lease.lease)] = lease.ports.map((port) => ({
      'last-event-time': iso(lease.lastEventAt),
      'lease-id': { owner, dseq, gseq, oseq, provider },
      namespace: lease.namespace,
      port: port.port,
      'external-port': port.externalPort,
      'service-name': port.serviceName,
      'sharing-key': port.sharingKey,
      protocol: port.protocol,
      endpoint: port.endpoint,
      service: port.service,
      'go-service-name': port.goName,
      address: port.address,
      state: port.state,
      reason: port.reason,
    }));
  }
  if (ipEnv !== undefined) out.ip_env = Object.fromEntries(ipEnv);
  return out;
}

function ignoredJson(entries: readonly Ignored[]): Record<string, unknown> {
  const out: Record<string, { objects: string[]; [key: string]: unknown }> = {};
  for (const entry of entries) {
    const before = out[entry.key];
    if (before !== undefined) {
      before.objects.push(...entry.objects);
      continue;
    }
    out[entry.key] = {
      objects: [...entry.objects],
      'last-error': entry.reason,
      'last-error-type': entry.kind,
      'failed-at': iso(entry.at),
    };
  }
  return out;
}

export function createOperatorApp(deps: OperatorAppDeps): Hono {
  const { operator } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono();
  let usageText = '';
  let usageSince = now();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.observe?.(c.req.method, routePath(c), c.res.status, (performance.now() - started) / 1000);
  });

  app.onError((error, c) => {
    deps.logger.log('error', 'request failed', { path: c.req.path, error: error.message });
    return goError(c, 'internal error');
  });

  // Go's barrier answers 503 with an empty body on every route until the first sync.
  const synced = (handler: (c: Context) => Response | Promise<Response>) => (c: Context) =>
    operator.isSynced() ? handler(c) : c.body(null, 503);

  app.get(
    '/health',
    synced((c) => c.text('OK')),
  );

  app.get('/version', (c) =>
    goJson(c, { name: 'akash-ip', server_name: 'akash-ip operator', version: deps.version }),
  );

  app.get('/usage', (c) => {
    const usage = operator.usage();
    if (usage === undefined) return c.body(null, 204);
    // Huge IPv6 pools: the Go client decodes into uint64, JSON readers into doubles; stay exact for both.
    const text = `{"Available":${jsonCount(usage.available)},"InUse":${jsonCount(usage.inUse)}}\n`;
    if (text !== usageText) {
      usageText = text;
      usageSince = now();
    }
    return c.body(text, 200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, max-age=0',
      'last-modified': new Date(usageSince).toUTCString(),
    });
  });

  app.get(
    '/usage/families',
    synced((c) => {
      const count = (family: 'v4' | 'v6') => {
        const usage = operator.familyUsage(family);
        return usage === undefined
          ? undefined
          : { Available: jsonCount(usage.available), InUse: jsonCount(usage.inUse) };
      };
      return goJson(c, {
        default: familyFlagName(operator.defaultFamily()),
        IPv4: count('v4'),
        IPv6: count('v6'),
      });
    }),
  );

  app.get(
    '/ip-lease-status/:owner/:dseq/:gseq/:oseq',
    synced((c) => {
      const param = (name: string): string => c.req.param(name) ?? '';
      const owner = param('owner');
      const at = parseLeasePath(param('dseq'), param('gseq'), param('oseq'));
      if (!isAddress(owner) || !at.ok) return c.body(null, 404);
      const confirmed = operator.confirmedPorts({ owner, ...at.value, provider: deps.provider });
      if (confirmed.length === 0) return c.body(null, 204);
      const entries: IpLeaseStatusEntry[] = [...confirmed]
        .sort((a, b) => (a.service.port.service < b.service.port.service ? -1 : 1))
        .map(({ service, address }) => ({
          Port: service.port.declaration.port,
          ExternalPort: service.port.declaration.externalPort,
          ServiceName: service.port.declaration.service,
          IP: address,
          Protocol: service.port.declaration.protocol,
        }));
      return goJson(c, entries);
    }),
  );

  app.get(
    '/state',
    synced(async (c) => {
      const leases = operator.state();
      const ipEnv = await deps.ipEnv?.(leases.map((lease) => lease.lease));
      return goJson(c, stateJson(leases, operator.pools(), ipEnv));
    }),
  );
  app.get(
    '/ignored-leases',
    synced((c) => goJson(c, ignoredJson(operator.ignored()))),
  );

  app.get('/healthz', (c) => c.text('ok'));
  // Not ready: not synced yet, or the apiserver does not answer now. A pool problem is a warning: the
  // operator still serves its leases, and the provider must still reach /usage to see 0 available.
  app.get('/readyz', async (c) => {
    const reasons = [...operator.syncProblems()];
    const unreachable = await deps.reachable();
    if (unreachable !== undefined) reasons.push(unreachable);
    const warnings = operator.problems();
    const body = { ready: reasons.length === 0, reasons, warnings, ...operator.summary() };
    return c.json(body, reasons.length === 0 ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType }),
  );
  app.notFound((c) => c.body(null, 404));
  return app;
}
