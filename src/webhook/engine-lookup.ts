/**
 * The daemon's {@link LeasedIpLookup}: the lease engine's state, found by tenant namespace. A lease's
 * namespace is a hash of its ID (`leaseNamespace`), so a map from namespace to lease is kept: the host
 * process tells it about each lease it deploys ({@link EngineLookup.remember}), and a namespace not in the
 * map triggers a scan of `engine.leases()` for leases not seen yet, at most once per `rescanEveryMs`:
 * every lease namespace of the provider is sent to the webhook, most of them leases without IP endpoints
 * that the engine never records, and a scan per pod would cost O(leases) each (84 ms at 10 000 leases).
 * The addresses are read fresh from the engine at each review, so a migration or a new address shows in
 * the next pod.
 */
import { leaseNamespace } from '../k8s/index.js';
import { type LeaseEngine, type LeaseId, leaseKey } from '../lease/index.js';
import type { LeasedIpLookup } from './review.js';
import { type LeasedIpVariables, leasedIpVariables } from './variables.js';

export interface EngineLookupOptions {
  /** The least time between two scans for an unknown namespace; default 1 000. */
  readonly rescanEveryMs?: number;
  readonly now?: () => number;
  /**
   * The name a workload knows an engine endpoint by, when the mode's engine names differ (the operator's
   * `h_<hash>` for a name Go hashed); default the engine's name.
   */
  readonly endpointName?: (engineName: string) => string;
}

export interface EngineLookup {
  /** A {@link LeasedIpLookup}, answering at once from the engine's memory. */
  lookup(namespace: string, service: string): LeasedIpVariables | undefined;
  /** The lease whose tenant namespace this is, among the leases the engine knows. */
  leaseOf(namespace: string): LeaseId | undefined;
  /** Makes a lease known at once (call it after a deploy or a migration commits). */
  remember(id: LeaseId): void;
}

export function engineLookup(
  engine: Pick<LeaseEngine, 'lease' | 'leases'>,
  options: EngineLookupOptions = {},
): EngineLookup {
  const rescanEveryMs = options.rescanEveryMs ?? 1_000;
  const now = options.now ?? Date.now;
  const byNamespace = new Map<string, LeaseId>();
  const known = new Set<string>();
  let lastScan = Number.NEGATIVE_INFINITY;

  function remember(id: LeaseId): void {
    const key = leaseKey(id);
    if (known.has(key)) return;
    known.add(key);
    byNamespace.set(leaseNamespace(id), id);
  }

  function leaseOf(namespace: string): LeaseId | undefined {
    const cached = byNamespace.get(namespace);
    if (cached !== undefined || now() - lastScan < rescanEveryMs) return cached;
    lastScan = now();
    for (const view of engine.leases({ state: 'active' })) if (!known.has(view.key)) remember(view.id);
    return byNamespace.get(namespace);
  }

  function lookup(namespace: string, service: string): LeasedIpVariables | undefined {
    const id = leaseOf(namespace);
    const view = id === undefined ? undefined : engine.lease(id);
    if (view === undefined || view.state !== 'active') return undefined;
    const endpoints = new Set(
      view.declarations.filter((declaration) => declaration.service === service).map((d) => d.endpoint),
    );
    if (endpoints.size === 0) return undefined;
    const named = options.endpointName;
    return leasedIpVariables(
      view.endpoints
        .filter((endpoint) => endpoints.has(endpoint.name))
        .map((endpoint) => (named === undefined ? endpoint : { ...endpoint, name: named(endpoint.name) })),
    );
  }

  return { lookup, leaseOf, remember };
}
