/**
 * The operator's input: `ProviderLeasedIP` objects exactly as the Go provider's `DeclareIP` writes them,
 * parsed into frozen port declarations of one lease. The endpoint is recovered from the sharing key
 * (`<owner>-ip-<name or hash>`): the object carries no endpoint name, and the key is what Go shares an
 * address by, so it is the endpoint's identity here.
 */
import { z } from 'zod';
import { DSEQ_RULE, isDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress } from '../identity/index.js';
import { describeIssues } from '../k8s/index.js';
import { type DeclarationInput, type LeaseId, leaseKey } from '../lease/index.js';

/** Group, version and plural of the Go provider's CRD (the CRD belongs to the provider's chart). */
export const LEASED_IP_API = '/apis/akash.network/v2beta2';

export function leasedIpCollection(namespace: string): string {
  return `${LEASED_IP_API}/namespaces/${namespace}/providerleasedips`;
}

/** One object: one (endpoint, external port, protocol) of one lease. */
export interface DeclaredPort {
  /** The object's name (unique in the manifest namespace). */
  readonly name: string;
  readonly lease: LeaseId;
  readonly leaseKey: string;
  readonly sharingKey: string;
  readonly declaration: DeclarationInput & { readonly protocol: 'TCP' | 'UDP' };
}

const ENDPOINT_NAME = /^[a-z]+[a-z0-9_-]+$/;
const UINT32_MAX = 4294967295;
const sequence = z.number().int().min(1).max(UINT32_MAX);
const account = (field: string) =>
  z.string().refine((text) => isAddress(text), `${field} is not an akash1 bech32 address`);
const port = z.number().int().min(1).max(65535);

const leasedIpSchema = z.object({
  metadata: z.object({ name: z.string().min(1) }),
  spec: z.object({
    lease_id: z.object({
      owner: account('lease_id.owner'),
      dseq: z.string().refine(isDseq, `lease_id.dseq ${DSEQ_RULE}`),
      gseq: sequence,
      oseq: sequence,
      provider: account('lease_id.provider'),
    }),
    service_name: z.string().min(1),
    port,
    external_port: port,
    // Go parses the protocol case-insensitively and writes it upper case.
    protocol: z
      .string()
      .transform((text) => text.toUpperCase())
      .pipe(z.enum(['TCP', 'UDP'], { error: 'protocol is neither TCP nor UDP' })),
    sharing_key: z.string().min(1),
  }),
});

/**
 * The engine's endpoint name for a sharing-key suffix: the suffix itself when it is a valid Akash endpoint
 * name, else `h_<suffix>`. Go hashes every name holding `_`, so no real name maps to an `h_…` form.
 */
export function endpointOfSuffix(suffix: string): string {
  return ENDPOINT_NAME.test(suffix) ? suffix : `h_${suffix}`;
}

/** The sharing-key suffix of an engine endpoint: the inverse of {@link endpointOfSuffix}. */
export function suffixOfEndpoint(endpoint: string): string {
  return endpoint.startsWith('h_') ? endpoint.slice(2) : endpoint;
}

/** The sharing key of an endpoint of `owner`. */
export function sharingKeyOf(owner: string, endpoint: string): string {
  return `${owner}-ip-${suffixOfEndpoint(endpoint)}`;
}

/** Parses one raw object; a refusal says why, and the object is then listed, never acted on. */
export function parseLeasedIp(raw: unknown): Result<DeclaredPort, AppError> {
  const parsed = leasedIpSchema.safeParse(raw);
  if (!parsed.success) {
    return fail(appError('K8S_MALFORMED', `ProviderLeasedIP: ${describeIssues(parsed.error.issues)}`));
  }
  const { metadata, spec } = parsed.data;
  const lease: LeaseId = Object.freeze({ ...spec.lease_id });
  const prefix = `${lease.owner}-ip-`;
  const suffix = spec.sharing_key.startsWith(prefix) ? spec.sharing_key.slice(prefix.length) : '';
  if (!/^[a-z0-9-]+$/.test(suffix)) {
    return fail(
      appError(
        'K8S_MALFORMED',
        `ProviderLeasedIP: sharing_key "${spec.sharing_key}" is not "${prefix}<endpoint>" (Go's MakeIPSharingKey)`,
      ),
    );
  }
  return ok(
    Object.freeze({
      name: metadata.name,
      lease,
      leaseKey: leaseKey(lease),
      sharingKey: spec.sharing_key,
      declaration: Object.freeze({
        endpoint: endpointOfSuffix(suffix),
        service: spec.service_name,
        port: spec.port,
        externalPort: spec.external_port,
        protocol: spec.protocol,
      }),
    }),
  );
}
