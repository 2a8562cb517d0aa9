/**
 * The daemon's {@link LeasedIpLookup}: the lease engine's state, found by tenant namespace. The namespace
 * of a lease is a hash of its ID (`leaseNamespace`), so a map from namespace to lease is kept and filled
 * from `engine.leases()` when a namespace is not in it yet; the addresses are read fresh from the engine at
 * each review, so a migration or a new address shows in the next pod.
 */
import { leaseNamespace } from '../k8s/index.js';
import type { LeaseEngine, LeaseId } from '../lease/index.js';
import type { LeasedIpLookup } from './review.js';
import { type LeasedIpVariables, leasedIpVariables } from './variables.js';

export interface EngineLookup {
  /** A {@link LeasedIpLookup}, answering at once from the engine's memory. */
  lookup(namespace: string, service: string): LeasedIpVariables | undefined;
  /** The lease whose tenant namespace this is, among the leases the engine knows. */
  leaseOf(namespace: string): LeaseId | undefined;
}

export function engineLookup(engine: Pick<LeaseEngine, 'lease' | 'leases'>): EngineLookup {
  const byNamespace = new Map<string, LeaseId>();
  const known = new Set<string>();

  function leaseOf(namespace: string): LeaseId | undefined {
    const cached = byNamespace.get(namespace);
    if (cached !== undefined) return cached;
    // Hash only the leases not seen before: a miss costs one pass over the views, not a hash per lease.
    for (const view of engine.leases({ state: 'active' })) {
      if (known.has(view.key)) continue;
      known.add(view.key);
      byNamespace.set(leaseNamespace(view.id), view.id);
    }
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
    return leasedIpVariables(view.endpoints.filter((endpoint) => endpoints.has(endpoint.name)));
  }

  return { lookup, leaseOf };
}
