/**
 * The Akash provider JWT claims (chain-sdk `specs/jwt-schema.json` and `go/util/jwt/jwt.go`), parsed at the
 * boundary into frozen values. Pure: no I/O.
 */
import { z } from 'zod';
import { DSEQ_RULE, isDseq, stringifyUint64s } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { isAddress } from './keys.js';

/** Every permission scope chain-sdk recognises, in its declaration order. */
export const PERMISSION_SCOPES = [
  'send-manifest',
  'get-manifest',
  'logs',
  'shell',
  'events',
  'status',
  'restart',
  'hostname-migrate',
  'ip-migrate',
  'attestation',
] as const;
/** One of {@link PERMISSION_SCOPES}. */
export type PermissionScope = (typeof PERMISSION_SCOPES)[number];

/** The only claims version providers accept. */
export const JWT_VERSION = 'v1';

/** Deployment-level grant inside a granular provider permission. `gseq`/`oseq` absent means "any". */
export interface DeploymentPermission {
  readonly scope: readonly PermissionScope[];
  /** Canonical decimal (a uint64: JSON numbers above 2^53 − 1 would lose digits); tokens carry it as a number. */
  readonly dseq: string;
  readonly gseq?: number;
  readonly oseq?: number;
  /** Services the grant names; chain-sdk requires at least one but providers do not enforce it. */
  readonly services: readonly string[];
}

/** What a granular token allows on one provider. */
export type ProviderPermission =
  | { readonly provider: string; readonly access: 'full' }
  | { readonly provider: string; readonly access: 'scoped'; readonly scope: readonly PermissionScope[] }
  | {
      readonly provider: string;
      readonly access: 'granular';
      readonly deployments: readonly DeploymentPermission[];
    };

/** The `leases` claim: all actions everywhere, some actions everywhere, or per-provider permissions. */
export type Leases =
  | { readonly access: 'full' }
  | { readonly access: 'scoped'; readonly scope: readonly PermissionScope[] }
  | { readonly access: 'granular'; readonly permissions: readonly ProviderPermission[] };

/** The claims of an Akash provider JWT. Times are Unix seconds. */
export interface JwtClaims {
  /** The owner's account address; every lease the token reaches must belong to it. */
  readonly iss: string;
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
  readonly jti?: string;
  readonly version: typeof JWT_VERSION;
  readonly leases: Leases;
}

/** Why a claims object was refused; verification reports the same words. */
export type ClaimsRejection = 'unsupported-version' | 'invalid-claims';

/** A claims failure: `INVALID_INPUT` with `details.reason` a {@link ClaimsRejection}. */
export type ClaimsError = AppError<'INVALID_INPUT'>;

const unique = (values: readonly string[]): boolean => new Set(values).size === values.length;

const scopeList = z.array(z.enum(PERMISSION_SCOPES)).min(1).refine(unique, 'scopes must not repeat');
const accountAddress = z
  .string()
  .refine((text) => isAddress(text), 'must be a lowercase akash1 account address');
const unixSeconds = z.int().min(0);
const uint32 = z.int().min(0).max(0xffff_ffff);
// A JSON number while it is exact; larger ones arrive quoted by quoteLargeIntegers, and callers hold dseqs as text.
const dseq = z
  .custom<number | string>(
    (value) =>
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) ||
      (typeof value === 'string' && isDseq(value)),
    DSEQ_RULE,
  )
  .transform(String);

const deploymentSchema = z
  .strictObject({
    scope: scopeList,
    dseq,
    gseq: uint32.optional(),
    oseq: uint32.optional(),
    services: z.array(z.string().min(1)).min(1).refine(unique, 'services must not repeat'),
  })
  // A zero sequence means "any", as in Go where 0 is the omitted value.
  .refine((d) => !d.oseq || !!d.gseq, { message: 'oseq needs a non-zero gseq', path: ['oseq'] });

const providerPermissionSchema = z.discriminatedUnion('access', [
  z.strictObject({ provider: accountAddress, access: z.literal('full') }),
  z.strictObject({ provider: accountAddress, access: z.literal('scoped'), scope: scopeList }),
  z.strictObject({
    provider: accountAddress,
    access: z.literal('granular'),
    deployments: z.array(deploymentSchema).min(1),
  }),
]);

const leasesSchema = z.discriminatedUnion('access', [
  z.strictObject({ access: z.literal('full') }),
  z.strictObject({ access: z.literal('scoped'), scope: scopeList }),
  z.strictObject({
    access: z.literal('granular'),
    permissions: z
      .array(providerPermissionSchema)
      .min(1)
      .refine((perms) => unique(perms.map((p) => p.provider)), 'a provider may appear only once'),
  }),
]);

const claimsSchema = z.strictObject({
  iss: accountAddress,
  iat: unixSeconds,
  nbf: unixSeconds,
  exp: unixSeconds,
  jti: z.string().min(1).optional(),
  version: z.literal(JWT_VERSION),
  leases: leasesSchema,
});

type ParsedClaims = z.infer<typeof claimsSchema>;
type ParsedLeases = ParsedClaims['leases'];
type ParsedPermission = z.infer<typeof providerPermissionSchema>;
type ParsedDeployment = z.infer<typeof deploymentSchema>;

/**
 * Validates untrusted claims (decoded JSON or a caller's object) with chain-sdk's rules: the JSON schema plus the
 * Go validator's checks (unique providers, scopes and services; non-zero dseq; oseq only with gseq).
 * The result is frozen and its keys follow Go's field order, so {@link claimsJson} of it is what Go would emit.
 */
export function parseClaims(input: unknown): Result<JwtClaims, ClaimsError> {
  const isRecord = typeof input === 'object' && input !== null && !Array.isArray(input);
  if (isRecord && (input as { version?: unknown }).version !== JWT_VERSION) {
    return fail(
      appError('INVALID_INPUT', `claims version must be "${JWT_VERSION}"`, { reason: 'unsupported-version' }),
    );
  }
  const parsed = claimsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'claims' : issue.path.join('.');
    return fail(
      appError('INVALID_INPUT', `invalid JWT claims at ${where}: ${issue?.message ?? 'rejected'}`, {
        reason: 'invalid-claims',
      }),
    );
  }
  return ok(canonicalClaims(parsed.data));
}

/** The JSON text of parsed claims as Go's encoding/json writes them: dseqs as JSON numbers, digit for digit. */
export function claimsJson(claims: JwtClaims): string {
  return stringifyUint64s(claims, ['dseq']);
}

/** Claims for a fresh token: valid from `now` for `ttlSeconds` (default 15 minutes, as the Go provider client). */
export function newClaims(
  iss: string,
  options: {
    readonly now: number;
    readonly ttlSeconds?: number;
    readonly leases?: Leases;
    readonly jti?: string;
  },
): JwtClaims {
  const now = Math.floor(options.now);
  const claims: JwtClaims = {
    iss,
    exp: now + (options.ttlSeconds ?? 900),
    nbf: now,
    iat: now,
    version: JWT_VERSION,
    leases: options.leases ?? { access: 'full' },
  };
  return options.jti === undefined ? claims : { ...claims, jti: options.jti };
}

// Key order below is Go's struct field order (RegisteredClaims first), so tokens match chain-sdk byte for byte.
function canonicalClaims(c: ParsedClaims): JwtClaims {
  return Object.freeze({
    iss: c.iss,
    exp: c.exp,
    nbf: c.nbf,
    iat: c.iat,
    ...(c.jti === undefined ? {} : { jti: c.jti }),
    version: c.version,
    leases: canonicalLeases(c.leases),
  });
}

function canonicalLeases(l: ParsedLeases): Leases {
  switch (l.access) {
    case 'full':
      return Object.freeze({ access: l.access });
    case 'scoped':
      return Object.freeze({ access: l.access, scope: Object.freeze([...l.scope]) });
    case 'granular':
      return Object.freeze({
        access: l.access,
        permissions: Object.freeze(l.permissions.map(canonicalPermission)),
      });
  }
}

function canonicalPermission(p: ParsedPermission): ProviderPermission {
  switch (p.access) {
    case 'full':
      return Object.freeze({ provider: p.provider, access: p.access });
    case 'scoped':
      return Object.freeze({ provider: p.provider, access: p.access, scope: Object.freeze([...p.scope]) });
    case 'granular':
      return Object.freeze({
        provider: p.provider,
        access: p.access,
        deployments: Object.freeze(p.deployments.map(canonicalDeployment)),
      });
  }
}

function canonicalDeployment(d: ParsedDeployment): DeploymentPermission {
  return Object.freeze({
    scope: Object.freeze([...d.scope]),
    dseq: d.dseq,
    ...(d.gseq ? { gseq: d.gseq } : {}),
    ...(d.oseq ? { oseq: d.oseq } : {}),
    services: Object.freeze([...d.services]),
  });
}
