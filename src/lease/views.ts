/**
 * Read models built from the committed state: the lease view, lease-status's IP part and the
 * environment a backend injects into the workload.
 */
import { addressFamily, familyOfAddresses } from './family.js';
import { endpointKey, leaseKey, nameKey } from './ids.js';
import type {
  AllocationRecord,
  EndpointStatus,
  EndpointView,
  LeasedIpStatus,
  LeaseIpStatus,
  LeaseRecord,
  LeaseView,
} from './types.js';

/** What the views read: committed or draft state alike. */
export interface ViewSource {
  lease(key: string): LeaseRecord | undefined;
  allocation(key: string): AllocationRecord | undefined;
  claim(name: string): string | undefined;
}

function holderOf(source: ViewSource, lease: LeaseRecord, endpoint: string): LeaseRecord | undefined {
  const holder = source.claim(nameKey(lease.id.owner, endpoint));
  return holder === undefined || holder === leaseKey(lease.id) ? undefined : source.lease(holder);
}

/** The message a withheld endpoint carries: who holds the name and what the tenant can do. */
export function withheldReason(endpoint: string, holder: LeaseRecord | undefined): string {
  if (holder === undefined) return `endpoint "${endpoint}" is waiting for its name to be released`;
  return (
    `endpoint "${endpoint}" is held by deployment ${holder.id.dseq} (group ${holder.id.gseq}) of the same owner; ` +
    `migrate it to this deployment or use another endpoint name`
  );
}

function endpointViews(source: ViewSource, lease: LeaseRecord): EndpointView[] {
  const key = leaseKey(lease.id);
  return lease.endpoints.map((endpoint): EndpointView => {
    const family = endpoint.family ?? 'v4';
    const base = { name: endpoint.name, state: endpoint.state, since: endpoint.since, family };
    if (endpoint.state === 'active') {
      const addresses = source.allocation(endpointKey(key, endpoint.name))?.addresses ?? [];
      return Object.freeze({ ...base, family: familyOfAddresses(addresses) ?? family, addresses });
    }
    if (endpoint.state === 'pending')
      return Object.freeze({ ...base, addresses: [], reason: endpoint.reason });
    const holder = holderOf(source, lease, endpoint.name);
    const reason = withheldReason(endpoint.name, holder);
    return Object.freeze(
      holder === undefined
        ? { ...base, addresses: [], reason }
        : { ...base, addresses: [], reason, heldBy: holder.id },
    );
  });
}

/** The lease as the engine reports it. */
export function leaseView(source: ViewSource, lease: LeaseRecord): LeaseView {
  const view = {
    id: lease.id,
    key: leaseKey(lease.id),
    state: lease.state,
    group: lease.group,
    declarations: lease.declarations,
    endpoints: endpointViews(source, lease),
    createdAt: lease.createdAt,
    updatedAt: lease.updatedAt,
  };
  return Object.freeze(lease.closedAt === undefined ? view : { ...view, closedAt: lease.closedAt });
}

/** lease-status's `ips` (Go's shape, keyed by manifest service) and `ip_endpoints`. */
export function leaseIpStatus(source: ViewSource, lease: LeaseRecord): LeaseIpStatus {
  const endpoints: Record<string, EndpointStatus> = {};
  const addresses = new Map<string, readonly string[]>();
  for (const view of endpointViews(source, lease)) {
    addresses.set(view.name, view.addresses);
    const ipv4 = view.addresses.find((address) => addressFamily(address) === 'v4');
    const ipv6 = view.addresses.find((address) => addressFamily(address) === 'v6');
    const status: EndpointStatus = {
      state: view.state,
      family: view.family,
      addresses: view.addresses,
      ...(ipv4 === undefined ? {} : { ipv4 }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
    };
    endpoints[view.name] = Object.freeze(
      view.reason === undefined
        ? status
        : view.heldBy === undefined
          ? { ...status, reason: view.reason }
          : {
              ...status,
              reason: view.reason,
              held_by: { dseq: view.heldBy.dseq, gseq: view.heldBy.gseq, oseq: view.heldBy.oseq },
            },
    );
  }
  if (lease.declarations.length === 0) return Object.freeze({ ips: null, ip_endpoints: endpoints });
  const byService = new Map<string, LeasedIpStatus[]>();
  const declarations = [...lease.declarations].sort(
    (a, b) =>
      (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) ||
      a.externalPort - b.externalPort ||
      (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  );
  for (const declaration of declarations) {
    for (const ip of addresses.get(declaration.endpoint) ?? []) {
      const list = byService.get(declaration.service) ?? [];
      list.push(
        Object.freeze({
          Port: declaration.port,
          ExternalPort: declaration.externalPort,
          Protocol: declaration.protocol,
          IP: ip,
        }),
      );
      byService.set(declaration.service, list);
    }
  }
  return Object.freeze({ ips: Object.freeze(Object.fromEntries(byService)), ip_endpoints: endpoints });
}

/** `AKASH_LEASED_IP_<ENDPOINT>`: the endpoint name upper-cased, every other character than A-Z and 0-9 as `_`. */
export function envName(endpoint: string): string {
  return `AKASH_LEASED_IP_${endpoint.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** `AKASH_LEASED_IP6_<ENDPOINT>`, the IPv6 twin of a name {@link endpointEnvNames} gave. */
export function ipv6EnvName(name: string): string {
  return `AKASH_LEASED_IP6_${name.slice('AKASH_LEASED_IP_'.length)}`;
}

/**
 * One endpoint's variables, under the name {@link endpointEnvNames} gave it: that name holds its IPv4
 * address (its IPv6 one when it has no IPv4, so a workload reading only that name still finds an address),
 * and {@link ipv6EnvName} its IPv6 address when it has one. None while it holds no address.
 */
export function endpointVariables(name: string, addresses: readonly string[]): Record<string, string> {
  const ipv4 = addresses.find((address) => addressFamily(address) === 'v4');
  const ipv6 = addresses.find((address) => addressFamily(address) === 'v6');
  const first = ipv4 ?? ipv6;
  if (first === undefined) return {};
  return ipv6 === undefined ? { [name]: first } : { [name]: first, [ipv6EnvName(name)]: ipv6 };
}

/**
 * The variable name of each of one service's endpoints: {@link envName}, with names that fold to the same
 * variable (`a-b`, `a_b`) told apart by a `_2`, `_3` suffix in endpoint-name order.
 */
export function endpointEnvNames(endpoints: Iterable<string>): ReadonlyMap<string, string> {
  const names = new Map<string, string>();
  const used = new Map<string, number>();
  for (const endpoint of [...new Set(endpoints)].sort()) {
    const base = envName(endpoint);
    const seen = (used.get(base) ?? 0) + 1;
    used.set(base, seen);
    names.set(endpoint, seen === 1 ? base : `${base}_${seen}`);
  }
  return names;
}

/** Per service, the variables telling the workload its leased addresses (see {@link endpointEnvNames}). */
export function workloadEnv(
  source: ViewSource,
  lease: LeaseRecord,
): Readonly<Record<string, Record<string, string>>> {
  const addresses = new Map(endpointViews(source, lease).map((view) => [view.name, view.addresses] as const));
  const services = new Map<string, Set<string>>();
  for (const declaration of lease.declarations) {
    const set = services.get(declaration.service) ?? new Set<string>();
    set.add(declaration.endpoint);
    services.set(declaration.service, set);
  }
  const out: Record<string, Record<string, string>> = {};
  for (const service of [...services.keys()].sort()) {
    const vars: Record<string, string> = {};
    for (const [endpoint, name] of endpointEnvNames(services.get(service) ?? [])) {
      Object.assign(vars, endpointVariables(name, addresses.get(endpoint) ?? []));
    }
    out[service] = vars;
  }
  return Object.freeze(out);
}
