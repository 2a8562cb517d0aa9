/**
 * Test fixtures: manifest groups and group specs written as small literals, numbered the way the
 * SDL engine numbers IP endpoints (distinct names sorted, 1..n), without depending on it.
 */
import type { Protocol } from '../ipam/index.js';
import type { GroupSpec, ManifestGroup, ResourceEndpoint, Resources, ServiceExpose } from '../sdl/index.js';
import type { LeaseId } from './types.js';

/** The provider every fixture lease belongs to. */
export const PROVIDER = 'akash1provider';

/** One expose of a fixture service; `ip` makes it a global IP expose. */
export interface ExposeFixture {
  readonly port: number;
  readonly as?: number;
  readonly proto?: Protocol;
  readonly ip?: string;
  readonly global?: boolean;
}

/** A lease of {@link PROVIDER}. */
export function leaseOf(owner: string, dseq: number | string, gseq = 1, oseq = 1): LeaseId {
  return { owner, dseq: String(dseq), gseq, oseq, provider: PROVIDER };
}

const HTTP_OPTIONS = {
  maxBodySize: 1048576,
  readTimeout: 60000,
  sendTimeout: 60000,
  nextTries: 3,
  nextTimeout: 0,
  nextCases: ['error', 'timeout'],
};

function resources(endpoints: readonly ResourceEndpoint[]): Resources {
  return {
    id: 1,
    cpu: { units: { val: '100' } },
    memory: { size: { val: '134217728' } },
    storage: [{ name: 'default', size: { val: '536870912' } }],
    gpu: { units: { val: '0' } },
    endpoints,
  };
}

/** A manifest group: service name → its exposes. */
export function manifestGroup(
  name: string,
  services: Readonly<Record<string, readonly ExposeFixture[]>>,
): ManifestGroup {
  const names = [
    ...new Set(
      Object.values(services).flatMap((exposes) =>
        exposes.flatMap((expose) => (expose.ip ? [expose.ip] : [])),
      ),
    ),
  ].sort();
  const sequence = new Map(names.map((ip, index) => [ip, index + 1]));
  return {
    name,
    services: Object.entries(services).map(([service, exposes]) => {
      const expose: ServiceExpose[] = exposes.map((fixture) => ({
        port: fixture.port,
        externalPort: fixture.as ?? 0,
        proto: fixture.proto ?? 'TCP',
        service: '',
        global: fixture.global ?? fixture.ip !== undefined,
        hosts: null,
        httpOptions: HTTP_OPTIONS,
        ip: fixture.ip ?? '',
        endpointSequenceNumber: fixture.ip === undefined ? 0 : (sequence.get(fixture.ip) ?? 0),
      }));
      const endpoints: ResourceEndpoint[] = expose.flatMap((entry) =>
        entry.global && entry.ip !== ''
          ? [
              { kind: 2, sequence_number: entry.endpointSequenceNumber },
              { kind: 1, sequence_number: 0 },
            ]
          : [],
      );
      return {
        name: service,
        image: 'nginx',
        command: null,
        args: null,
        env: null,
        resources: resources(endpoints),
        count: 1,
        expose,
        credentials: null,
      };
    }),
  };
}

/** The group spec a manifest group was ordered with (its LEASED_IP endpoints, one unit per service). */
export function groupSpecOf(group: ManifestGroup): GroupSpec {
  return {
    name: group.name,
    requirements: { signed_by: { all_of: null, any_of: null }, attributes: null },
    resources: group.services.map((service) => ({
      resource: service.resources,
      count: service.count,
      price: { denom: 'uakt', amount: '1000' },
    })),
  };
}

/** A group spec with exactly these LEASED_IP sequence numbers, in one resource unit. */
export function groupSpecWithIps(sequences: readonly number[]): GroupSpec {
  return {
    name: 'dcloud',
    requirements: { signed_by: { all_of: null, any_of: null }, attributes: null },
    resources: [
      {
        resource: resources(sequences.map((sequence_number) => ({ kind: 2, sequence_number }))),
        count: 1,
        price: { denom: 'uakt', amount: '1000' },
      },
    ],
  };
}

/** The same group spec, requiring these placement attributes (`ip-lease-ipv6: "true"`, say). */
export function requiring(spec: GroupSpec, attributes: Readonly<Record<string, string>>): GroupSpec {
  return {
    ...spec,
    requirements: {
      ...spec.requirements,
      attributes: Object.entries(attributes).map(([key, value]) => ({ key, value })),
    },
  };
}
