/**
 * From a parsed manifest group to the lease engine's declarations, and the IP count of a group spec.
 */
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { Protocol } from '../ipam/index.js';
import type { GroupSpec, ManifestGroup } from '../sdl/index.js';
import { isEndpointName } from './ids.js';
import type { Declaration } from './types.js';

/** chain-sdk `Endpoint_LEASED_IP`; a literal so this module loads none of the SDL engine. */
const LEASED_IP = 2;

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Canonical order: endpoint, external port, protocol, service, port. */
function compareDeclarations(a: Declaration, b: Declaration): number {
  if (a.endpoint !== b.endpoint) return a.endpoint < b.endpoint ? -1 : 1;
  if (a.externalPort !== b.externalPort) return a.externalPort - b.externalPort;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return a.port - b.port;
}

/** A declaration as a caller hands it in, before its fields are checked. */
export interface DeclarationInput {
  readonly endpoint: string;
  readonly service: string;
  readonly port: number;
  readonly externalPort: number;
  readonly protocol: string;
}

/**
 * Checks declarations handed in directly (the IP operator reads them from the cluster) and returns them
 * frozen in canonical order. Two declarations of one endpoint on the same external port and protocol are
 * refused: they would need the same port of the same address. `where` prefixes every message.
 */
export function checkDeclarations(
  inputs: readonly DeclarationInput[],
  where = 'declarations',
): Result<readonly Declaration[]> {
  const invalid = (message: string) => fail(appError('INVALID_INPUT', `${where}: ${message}`));
  const out: Declaration[] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const { endpoint, service, port, externalPort } = input;
    if (!isEndpointName(endpoint)) return invalid(`endpoint name "${endpoint}" is not valid`);
    if (service === '') return invalid('a service has no name');
    if (!isPort(port)) return invalid(`service "${service}" port ${port} is out of range`);
    if (!isPort(externalPort)) {
      return invalid(`service "${service}" external port ${externalPort} is out of range`);
    }
    const protocol: Protocol | undefined =
      input.protocol === 'TCP' || input.protocol === 'UDP' ? input.protocol : undefined;
    if (protocol === undefined) return invalid(`service "${service}" protocol ${input.protocol}`);
    const slot = `${endpoint}/${externalPort}/${protocol}`;
    const other = seen.get(slot);
    if (other !== undefined) {
      return invalid(
        `endpoint "${endpoint}" port ${externalPort}/${protocol} is used by both "${other}" and "${service}"`,
      );
    }
    seen.set(slot, service);
    out.push(Object.freeze({ endpoint, service, port, externalPort, protocol }));
  }
  return ok(Object.freeze(out.sort(compareDeclarations)));
}

/** Every global expose with an `ip` becomes a declaration, its external port defaulting to the port. */
export function declarationsOf(group: ManifestGroup): Result<readonly Declaration[]> {
  const inputs: DeclarationInput[] = [];
  for (const service of group.services) {
    for (const expose of service.expose) {
      if (!expose.global || expose.ip === '') continue;
      inputs.push({
        endpoint: expose.ip,
        service: service.name,
        port: expose.port,
        externalPort: expose.externalPort === 0 ? expose.port : expose.externalPort,
        protocol: String(expose.proto),
      });
    }
  }
  return checkDeclarations(inputs, 'manifest group');
}

/** The distinct LEASED_IP sequence numbers of a group spec: one address each, as Go counts them. */
export function leasedIpSequences(spec: GroupSpec): ReadonlySet<number> {
  const seqs = new Set<number>();
  for (const unit of spec.resources) {
    for (const endpoint of unit.resource.endpoints) {
      if (endpoint.kind === LEASED_IP) seqs.add(endpoint.sequence_number);
    }
  }
  return seqs;
}

/** The manifest's IP endpoints must be exactly the ones the group spec leased (Go: over/under-utilized). */
export function checkAgainstSpec(group: ManifestGroup, spec: GroupSpec): Result<void> {
  const leased = leasedIpSequences(spec);
  const used = new Set<number>();
  for (const service of group.services) {
    for (const expose of service.expose) {
      if (expose.global && expose.ip !== '') used.add(expose.endpointSequenceNumber);
    }
  }
  const over = [...used].filter((seq) => !leased.has(seq));
  const under = [...leased].filter((seq) => !used.has(seq));
  if (over.length === 0 && under.length === 0) return ok(undefined);
  return fail(
    appError(
      'MANIFEST_MISMATCH',
      `group "${group.name}": the manifest uses IP endpoint sequences [${[...used].sort((a, b) => a - b).join(', ')}] ` +
        `but the group spec leases [${[...leased].sort((a, b) => a - b).join(', ')}]`,
      { overUtilized: over, underUtilized: under },
    ),
  );
}
