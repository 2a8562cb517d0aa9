/**
 * The variables a tenant's container gets: per endpoint, the engine's own (`AKASH_LEASED_IP_<ENDPOINT>`, its
 * IPv4 address or else its IPv6 one, and `AKASH_LEASED_IP6_<ENDPOINT>`, its IPv6 address), plus
 * `AKASH_LEASED_IPS` listing every address of every endpoint as `endpoint=address`, comma-separated.
 */
import { endpointEnvNames, endpointVariables } from '../lease/index.js';

/** The variable that lists every endpoint's addresses. */
export const LIST_VARIABLE = 'AKASH_LEASED_IPS';
/** What every variable of ours starts with. */
export const VARIABLE_PREFIX = 'AKASH_LEASED_IP';

/** One endpoint of a service and its addresses (none while pending or withheld). */
export interface EndpointAddresses {
  readonly name: string;
  readonly addresses: readonly string[];
}

/** Variable name → value, in the order they are added to a container. */
export type LeasedIpVariables = Readonly<Record<string, string>>;

/**
 * The variables of one service. Endpoints without an address get no variable; a service whose endpoints
 * have none yet gets an empty record. Endpoint names (`[a-z][a-z0-9_-]+`) hold no `=` or `,`, so the list
 * splits unambiguously, IPv6 colons included.
 */
export function leasedIpVariables(endpoints: readonly EndpointAddresses[]): LeasedIpVariables {
  const byName = new Map(endpoints.map((endpoint) => [endpoint.name, endpoint.addresses] as const));
  const out: Record<string, string> = {};
  const list: string[] = [];
  for (const [endpoint, name] of endpointEnvNames(byName.keys())) {
    const addresses = byName.get(endpoint) ?? [];
    Object.assign(out, endpointVariables(name, addresses));
    for (const address of addresses) list.push(`${endpoint}=${address}`);
  }
  if (list.length > 0) out[LIST_VARIABLE] = list.join(',');
  return Object.freeze(out);
}
