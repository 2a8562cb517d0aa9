/**
 * The manifest and group-spec shapes, exactly as Go's encoding/json prints them
 * (chain-sdk `manifest/v2beta3` and `node/deployment/v1beta4`). Field order in these
 * interfaces is Go's struct-field order, which is the order our serialiser writes.
 */

/** Endpoint kinds on chain: SHARED_HTTP=0 (omitted in JSON), RANDOM_PORT=1, LEASED_IP=2. */
export const ENDPOINT_KIND = { SHARED_HTTP: 0, RANDOM_PORT: 1, LEASED_IP: 2 } as const;
export type EndpointKind = (typeof ENDPOINT_KIND)[keyof typeof ENDPOINT_KIND];

/** A resource endpoint; `kind` is absent when it is SHARED_HTTP (Go `omitempty`). */
export interface ResourceEndpoint {
  readonly kind?: 1 | 2;
  readonly sequence_number: number;
}

export interface Attribute {
  readonly key: string;
  readonly value: string;
}

export interface ResourceValue {
  readonly val: string;
}

export interface CpuResource {
  readonly units: ResourceValue;
  readonly attributes?: readonly Attribute[];
}

export interface MemoryResource {
  readonly size: ResourceValue;
  readonly attributes?: readonly Attribute[];
}

export interface StorageResource {
  readonly name: string;
  readonly size: ResourceValue;
  readonly attributes?: readonly Attribute[];
}

export interface GpuResource {
  readonly units: ResourceValue;
  readonly attributes?: readonly Attribute[];
}

export interface Resources {
  readonly id: number;
  readonly cpu: CpuResource;
  readonly memory: MemoryResource;
  readonly storage: readonly StorageResource[];
  readonly gpu: GpuResource;
  readonly endpoints: readonly ResourceEndpoint[];
}

export interface HttpOptions {
  readonly maxBodySize: number;
  readonly readTimeout: number;
  readonly sendTimeout: number;
  readonly nextTries: number;
  readonly nextTimeout: number;
  readonly nextCases?: readonly string[];
  readonly proxyBufferSize?: number;
}

export type ManifestProtocol = 'TCP' | 'UDP';

/** One manifest expose entry: one per `to` of an SDL expose. */
export interface ServiceExpose {
  readonly port: number;
  /** The SDL `as`, or 0 when omitted (Go does not default it). */
  readonly externalPort: number;
  readonly proto: ManifestProtocol;
  readonly service: string;
  readonly global: boolean;
  readonly hosts: readonly string[] | null;
  readonly httpOptions: HttpOptions;
  /** The endpoint name for an IP lease, or "". */
  readonly ip: string;
  readonly endpointSequenceNumber: number;
}

export interface StorageParams {
  readonly name: string;
  readonly mount: string;
  readonly readOnly: boolean;
}

export interface ServiceParams {
  readonly storage: readonly StorageParams[] | null;
  readonly permissions?: { readonly read?: readonly string[] };
  readonly tee?: { readonly type: string; readonly attestation: boolean };
}

export interface Credentials {
  readonly host: string;
  readonly email: string;
  readonly username: string;
  readonly password: string;
}

export interface ManifestService {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[] | null;
  readonly args: readonly string[] | null;
  readonly env: readonly string[] | null;
  readonly resources: Resources;
  readonly count: number;
  readonly expose: readonly ServiceExpose[];
  readonly params?: ServiceParams;
  readonly credentials: Credentials | null;
}

/** One manifest group: the services of one placement. */
export interface ManifestGroup {
  readonly name: string;
  readonly services: readonly ManifestService[];
}

/** The manifest a tenant sends to a provider. */
export type Manifest = readonly ManifestGroup[];

export interface DecCoin {
  readonly denom: string;
  readonly amount: string;
}

export interface ResourceUnit {
  readonly resource: Resources;
  readonly count: number;
  readonly price: DecCoin;
}

export interface GroupSpec {
  readonly name: string;
  readonly requirements: {
    readonly signed_by: {
      readonly all_of: readonly string[] | null;
      readonly any_of: readonly string[] | null;
    };
    readonly attributes: readonly Attribute[] | null;
  };
  readonly resources: readonly ResourceUnit[];
}
