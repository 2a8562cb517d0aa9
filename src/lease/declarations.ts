/**
 * From a parsed manifest group to the lease engine's declarations, and the IP count of a group spec.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { Protocol } from '../ipam/index.js';
import type { GroupSpec, ManifestGroup } from '../sdl/index.js';
import { isEndpointName } from './ids.js';
import type { Declaration } from './types.js';

/** chain-sdk `Endpoint_LEASED_IP`; a literal so this module loads none of the SDL engine. */
const LEASED_IP = 2;

function isPort(value: number, allowZero: boolean): boolean {
  return Number.isInteger(value) && value >= (allowZero ? 0 : 1) && value <= 65535;
}

/** Canonical order: endpoint, external port, protocol, service, port. */
function compareDeclarations(a: Declaration, b: Declaration): number {
  if (a.endpoint !== b.endpoint) return a.endpoint < b.endpoint ? -1 : 1;
  if (a.externalPort !== b.externalPort) return a.externalPort - b.externalPort;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  return a.port - b.port;
}

function invalid(message: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('INVALID_INPUT', `manifest group: ${message}`));
}

/**
 * Every global expose with an `ip` becomes a declaration, its external port defaulting to the port.
 * Two declarations of one endpoint on the same external port and protocol are refused: they would
 * need the same port of the same address.
 */
export function declarationsOf(group: ManifestGroup): Result<readonly Declaration[]> {
  const out: Declaration[] = [];
  const seen = new Map<string, string>();
  for (const service of group.services) {
    for (const expose of service.expose) {
      if (!expose.global || expose.ip === '') continue;
      if (!isEndpointName(expose.ip)) return invalid(`endpoint name "${expose.ip}" is not valid`);
      if (service.name === '') return invalid('a service has no name');
      if (!isPort(expose.port, false))
        return invalid(`service "${service.name}" port ${expose.port} is out of range`);
      if (!isPort(expose.externalPort, true)) {
        return invalid(`service "${service.name}" external port ${expose.externalPort} is out of range`);
      }
      const protocol: Protocol | undefined =
        expose.proto === 'TCP' || expose.proto === 'UDP' ? expose.proto : undefined;
      if (protocol === undefined)
        return invalid(`service "${service.name}" protocol ${String(expose.proto)}`);
      const externalPort = expose.externalPort === 0 ? expose.port : expose.externalPort;
      const slot = `${expose.ip}/${externalPort}/${protocol}`;
      const other = seen.get(slot);
      if (other !== undefined) {
        return invalid(
          `endpoint "${expose.ip}" port ${externalPort}/${protocol} is used by both "${other}" and "${service.name}"`,
        );
      }
      seen.set(slot, service.name);
      out.push(
        Object.freeze({
          endpoint: expose.ip,
          service: service.name,
          port: expose.port,
          externalPort,
          protocol,
        }),
      );
    }
  }
  return ok(Object.freeze(out.sort(compareDeclarations)));
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
