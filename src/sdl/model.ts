/**
 * The decoded SDL, field for field what the Go reference holds after yaml.v3 has decoded it
 * (chain-sdk `sdl.v2` / `sdl.v2_1`): zero values for absent fields, `null` where Go keeps a nil
 * slice (that difference reaches the manifest JSON and so the version hash).
 */
import type { Attribute } from './manifest-types.js';

/** `2.0` (one resource unit per service) or `2.1` (services sharing a profile share a unit). */
export type SdlDialect = '2.0' | '2.1';

export interface HttpOptionsInput {
  readonly maxBodySize: number;
  readonly proxyBufferSize: number;
  readonly readTimeout: number;
  readonly sendTimeout: number;
  readonly nextTries: number;
  readonly nextTimeout: number;
  readonly nextCases: readonly string[] | null;
}

export interface ExposeToInput {
  readonly service: string;
  readonly global: boolean;
  readonly ip: string;
}

export interface ExposeInput {
  readonly port: number;
  /** 0 when omitted. */
  readonly as: number;
  /** As written; parsed case-insensitively when the groups are built. */
  readonly proto: string;
  readonly to: readonly ExposeToInput[];
  readonly accept: readonly string[] | null;
  readonly httpOptions: HttpOptionsInput;
}

export interface StorageParamsInput {
  readonly mount: string;
  readonly readOnly: boolean;
}

export interface ServiceParamsInput {
  readonly storage: ReadonlyMap<string, StorageParamsInput>;
  readonly permissions: { readonly read: readonly string[] | null } | undefined;
  readonly tee: string;
}

export interface CredentialsInput {
  readonly host: string;
  readonly email: string;
  readonly username: string;
  readonly password: string;
}

export interface ServiceInput {
  readonly image: string;
  readonly command: readonly string[] | null;
  readonly args: readonly string[] | null;
  readonly env: readonly string[] | null;
  readonly expose: readonly ExposeInput[];
  readonly params: ServiceParamsInput | undefined;
  readonly credentials: CredentialsInput | undefined;
}

export interface StorageVolumeInput {
  /** Position in the SDL's `storage` list, or -1 when `storage` is a single mapping. */
  readonly index: number;
  readonly name: string;
  readonly size: bigint;
  readonly attributes: readonly Attribute[] | null;
}

export interface ComputeResourcesInput {
  readonly cpu: { readonly units: number; readonly attributes: readonly Attribute[] | null } | undefined;
  readonly gpu: { readonly units: bigint; readonly attributes: readonly Attribute[] | null } | undefined;
  readonly memory: { readonly size: bigint } | undefined;
  readonly storage: readonly StorageVolumeInput[] | null;
}

export interface CoinInput {
  readonly denom: string;
  /** Scaled by 10^18 (cosmos LegacyDec). */
  readonly amount: bigint;
}

export interface PlacementInput {
  readonly attributes: readonly Attribute[] | null;
  readonly signedBy: { readonly allOf: readonly string[] | null; readonly anyOf: readonly string[] | null };
  /** A null entry is a pricing key whose value was empty: present, but no usable coin. */
  readonly pricing: ReadonlyMap<string, CoinInput | null>;
}

export interface ServiceDeploymentInput {
  readonly profile: string;
  readonly count: number;
}

export interface SdlInput {
  readonly dialect: SdlDialect;
  readonly services: ReadonlyMap<string, ServiceInput>;
  readonly compute: ReadonlyMap<string, { readonly resources: ComputeResourcesInput | undefined }>;
  readonly placement: ReadonlyMap<string, PlacementInput>;
  /** service → placement → profile and count. */
  readonly deployment: ReadonlyMap<string, ReadonlyMap<string, ServiceDeploymentInput>>;
  readonly endpoints: ReadonlyMap<string, { readonly kind: string }>;
  /** `undefined` when the SDL has no `reclamation` key. */
  readonly reclamation: { readonly minWindow: string } | undefined;
}
