/**
 * Akash provider JWTs: compact JWS with `alg` ES256K or ES256KADR36 over chain-sdk claims. Pure: no I/O.
 * Tokens this module signs are byte-identical to chain-sdk's Go signer for the same claims and key.
 */
import { base64urlnopad } from '@scure/base';
import { quoteLargeIntegers } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { type ClaimsRejection, claimsJson, type JwtClaims, parseClaims } from './claims.js';
import { addressOf, isValidPrivateKey, parsePublicKey, publicKeyOf } from './keys.js';
import { JWT_ALGORITHMS, type JwtAlg, recoverSignerKey, signMessage, verifyMessage } from './signature.js';

/** Tokens longer than this are refused before any decoding (override with `maxTokenBytes`). */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;
/** Tolerated clock difference between token issuer and verifier (override with `leewaySeconds`). */
export const DEFAULT_LEEWAY_SECONDS = 5;

/** Why a token was refused; carried in `details.reason` of the `UNAUTHENTICATED` error. */
export type JwtRejection =
  | 'oversized'
  | 'malformed'
  | 'unsupported-alg'
  | ClaimsRejection
  | 'expired'
  | 'not-yet-valid'
  | 'issued-in-future'
  | 'unknown-account'
  | 'key-mismatch'
  | 'bad-signature';

/** A refused token: `UNAUTHENTICATED` (HTTP 401) with `details.reason` a {@link JwtRejection}. */
export type JwtError = AppError<'UNAUTHENTICATED'>;

/** A structurally valid token whose signature and times have not been checked yet. */
export interface DecodedJwt {
  readonly alg: JwtAlg;
  readonly claims: JwtClaims;
  /** `header.payload`, the exact text the signature covers. */
  readonly signingInput: string;
  readonly signature: Uint8Array;
}

/** A token whose signature, issuer key and validity window all checked out. */
export interface VerifiedClaims {
  readonly alg: JwtAlg;
  readonly claims: JwtClaims;
  /** The issuer's compressed public key (resolved, or recovered from the signature). */
  readonly publicKey: Uint8Array;
}

/**
 * Returns the compressed public key of an account (bytes, hex or base64), or undefined when the account is unknown
 * or has none (on Akash: an account that never signed a transaction). The devnet ledger or a chain query
 * implements it; an asynchronous lookup can run first, on `iss` from {@link decodeJwt}.
 */
export type PubkeyResolver = (address: string) => Uint8Array | string | undefined;

/** How {@link verifyJwt} checks a token. */
export interface VerifyJwtOptions {
  /** Current time in Unix seconds. */
  readonly now: number;
  /**
   * Where the issuer's public key comes from, as an Akash provider asks the chain. Without it the key is recovered
   * from the signature; both ways the key must hash to `iss`.
   */
  readonly resolvePubkey?: PubkeyResolver;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`; default {@link DEFAULT_LEEWAY_SECONDS}, 0 is Go's rule. */
  readonly leewaySeconds?: number;
  /** Longest token accepted; default {@link DEFAULT_MAX_TOKEN_BYTES}. */
  readonly maxTokenBytes?: number;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// Year 5138: anything larger is a timestamp in milliseconds.
const MAX_UNIX_SECONDS = 1e11;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Signs claims into a compact JWS. The claims are validated first and `iss` must be the key's own address, so a
 * token that no provider would accept is never produced.
 */
export function signJwt(
  claims: JwtClaims,
  privateKey: Uint8Array,
  alg: JwtAlg = 'ES256K',
): Result<string, AppError<'INVALID_INPUT'>> {
  const parsed = parseClaims(claims);
  if (!parsed.ok) return parsed;
  if (!isValidPrivateKey(privateKey)) {
    return fail(appError('INVALID_INPUT', 'the signing key is not a valid secp256k1 private key'));
  }
  const signer = addressOf(publicKeyOf(privateKey));
  if (signer !== parsed.value.iss) {
    return fail(
      appError('INVALID_INPUT', `iss ${parsed.value.iss} is not the signing key's address ${signer}`, {
        signer,
      }),
    );
  }
  const header = encodeSegment(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = encodeSegment(goJson(claimsJson(parsed.value)));
  const signingInput = `${header}.${payload}`;
  const signature = signMessage(alg, utf8.encode(signingInput), privateKey);
  return ok(`${signingInput}.${base64urlnopad.encode(signature)}`);
}

/**
 * Decodes a token and validates its header and claims, without checking the signature or the clock.
 * Useful to read `iss` before an asynchronous key lookup, and for showing a token to a human.
 */
export function decodeJwt(
  token: string,
  options: { readonly maxTokenBytes?: number } = {},
): Result<DecodedJwt, JwtError> {
  const limit = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  if (token.length > limit) return reject('oversized', `the token is longer than ${limit} bytes`);
  if (!COMPACT_JWS.test(token))
    return reject('malformed', 'a token is three base64url segments joined by dots');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = token.split('.');

  const header = decodeJsonSegment(headerPart);
  if (header === undefined || typeof header !== 'object' || header === null || Array.isArray(header)) {
    return reject('malformed', 'the token header is not a base64url JSON object');
  }
  const { alg, typ, ...rest } = header as Record<string, unknown>;
  if (!isJwtAlg(alg)) {
    return reject('unsupported-alg', `alg must be one of ${JWT_ALGORITHMS.join(', ')}`, { alg: String(alg) });
  }
  if ((typ !== undefined && typ !== 'JWT') || Object.keys(rest).length > 0) {
    return reject('malformed', 'the token header may hold only alg and typ "JWT"');
  }

  const payload = decodeJsonSegment(payloadPart);
  if (payload === undefined) return reject('malformed', 'the token payload is not base64url JSON');
  const claims = parseClaims(payload);
  if (!claims.ok) {
    const reason = (claims.error.details?.reason ?? 'invalid-claims') as ClaimsRejection;
    return reject(reason, claims.error.message);
  }

  const signature = decodeSegment(signaturePart);
  if (signature === undefined) return reject('malformed', 'the token signature is not canonical base64url');
  return ok({ alg, claims: claims.value, signingInput: `${headerPart}.${payloadPart}`, signature });
}

/**
 * Verifies a provider JWT: structure, header, claims, validity window (with leeway), issuer key and signature.
 * Cheap checks run first so that forged tokens cost no curve arithmetic.
 */
export function verifyJwt(token: string, options: VerifyJwtOptions): Result<VerifiedClaims, JwtError> {
  const { now } = options;
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  // NaN would pass every window comparison below, and milliseconds would expire every token: both are caller bugs.
  if (!Number.isFinite(now) || now < 0 || now > MAX_UNIX_SECONDS || !(leeway >= 0)) {
    throw new RangeError(
      `verifyJwt needs now in Unix seconds and a non-negative leeway (got ${now}, ${leeway})`,
    );
  }
  const decoded = decodeJwt(
    token,
    options.maxTokenBytes === undefined ? {} : { maxTokenBytes: options.maxTokenBytes },
  );
  if (!decoded.ok) return decoded;
  const { alg, claims, signingInput, signature } = decoded.value;

  if (now >= claims.exp + leeway) return reject('expired', 'the token has expired', { exp: claims.exp, now });
  if (now < claims.nbf - leeway) {
    return reject('not-yet-valid', 'the token is not valid yet', { nbf: claims.nbf, now });
  }
  if (now < claims.iat - leeway) {
    return reject('issued-in-future', 'the token was issued in the future', { iat: claims.iat, now });
  }

  const message = utf8.encode(signingInput);
  let publicKey: Uint8Array | undefined;
  if (options.resolvePubkey === undefined) {
    publicKey = recoverSignerKey(alg, message, signature, claims.iss);
    if (publicKey === undefined) return reject('bad-signature', `the signature is not from ${claims.iss}`);
  } else {
    const resolved = options.resolvePubkey(claims.iss);
    if (resolved === undefined) return reject('unknown-account', `no public key is known for ${claims.iss}`);
    const parsedKey = parsePublicKey(resolved);
    if (!parsedKey.ok || addressOf(parsedKey.value) !== claims.iss) {
      return reject('key-mismatch', `the public key on record does not belong to ${claims.iss}`);
    }
    publicKey = parsedKey.value;
    if (!verifyMessage(alg, message, signature, publicKey)) {
      return reject('bad-signature', `the signature is not from ${claims.iss}`);
    }
  }
  return ok({ alg, claims, publicKey });
}

/**
 * Extracts the token from an `Authorization` header as the Akash gateway does: no header means no token
 * (`undefined`); otherwise it must be exactly `Bearer <token>` (scheme case-insensitive).
 */
export function bearerToken(header: string | undefined): Result<string | undefined, JwtError> {
  if (header === undefined || header === '') return ok(undefined);
  const fields = header.trim().split(/\s+/);
  if (fields.length !== 2 || fields[0]?.toLowerCase() !== 'bearer') {
    return reject('malformed', 'the Authorization header must be "Bearer <token>"');
  }
  return ok(fields[1]);
}

function reject(
  reason: JwtRejection,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): { readonly ok: false; readonly error: JwtError } {
  return fail(appError('UNAUTHENTICATED', message, { reason, ...details }));
}

function isJwtAlg(value: unknown): value is JwtAlg {
  return (JWT_ALGORITHMS as readonly unknown[]).includes(value);
}

function encodeSegment(text: string): string {
  return base64urlnopad.encode(utf8.encode(text));
}

// Canonical form only: a segment whose unused trailing bits are set would let two spellings carry one signature.
function decodeSegment(segment: string): Uint8Array | undefined {
  try {
    const bytes = base64urlnopad.decode(segment);
    return base64urlnopad.encode(bytes) === segment ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function decodeJsonSegment(segment: string): unknown {
  const bytes = decodeSegment(segment);
  if (bytes === undefined) return undefined;
  try {
    // dseqs are uint64 JSON numbers: beyond 2^53 − 1 they are kept as text, or a grant would match its neighbours
    return JSON.parse(quoteLargeIntegers(strictUtf8.decode(bytes)));
  } catch {
    return undefined;
  }
}

// Go's encoding/json escapes these characters; doing the same keeps payload bytes identical to chain-sdk's.
function goJson(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
