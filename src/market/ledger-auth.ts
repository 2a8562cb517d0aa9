/**
 * Signed ledger requests: a write that acts for an account (owner or provider) carries that
 * account's secp256k1 signature (ES256K, as on Akash) over the method, path, a timestamp and the
 * body's sha256. The ledger checks it against the public key on record for the account, refuses
 * stale timestamps and replays. A chain would check a signed transaction the same way.
 *
 * Not a JWT on purpose: a tenant hands provider JWTs to providers, so accepting them here would let
 * any provider replay a tenant's token against the ledger.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad, hex } from '@scure/base';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { addressOf, publicKeyOf, signMessage, verifyMessage } from '../identity/index.js';

/** Request headers of a signed ledger write. */
export const SIGNATURE_HEADERS = {
  signer: 'x-akash-signer',
  timestamp: 'x-akash-timestamp',
  signature: 'x-akash-signature',
} as const;

/** How far a request's timestamp may be from the ledger's clock. */
export const DEFAULT_MAX_SKEW_MS = 60_000;

const DOMAIN = 'akash-ip-ledger/v1';
const utf8 = new TextEncoder();

/** The exact bytes signed for one request: domain, method, path with query, timestamp, sha256(body). */
function signingBytes(method: string, pathWithQuery: string, timestamp: string, body: string): Uint8Array {
  const digest = hex.encode(sha256(utf8.encode(body)));
  return utf8.encode([DOMAIN, method.toUpperCase(), pathWithQuery, timestamp, digest].join('\n'));
}

/** Signs a request with `privateKey`; returns the headers to send. */
export function signRequest(
  request: { readonly method: string; readonly pathWithQuery: string; readonly body: string },
  privateKey: Uint8Array,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const signature = signMessage(
    'ES256K',
    signingBytes(request.method, request.pathWithQuery, timestamp, request.body),
    privateKey,
  );
  return {
    [SIGNATURE_HEADERS.signer]: addressOf(publicKeyOf(privateKey)),
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.signature]: base64urlnopad.encode(signature),
  };
}

export interface VerifyRequestOptions {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The public key on record for an account. */
  readonly publicKeyOf: (address: string) => Uint8Array | undefined;
  readonly replays: ReplayGuard;
  readonly maxSkewMs?: number;
}

/**
 * Checks that a request is signed by `actor`. UNAUTHENTICATED when the signature is missing, stale,
 * replayed or wrong; FORBIDDEN when it is valid but by another account.
 */
export function verifyRequest(
  request: {
    readonly method: string;
    readonly pathWithQuery: string;
    readonly body: string;
    readonly header: (name: string) => string | undefined;
  },
  actor: string,
  options: VerifyRequestOptions,
): Result<void, AppError> {
  const signer = request.header(SIGNATURE_HEADERS.signer);
  const timestamp = request.header(SIGNATURE_HEADERS.timestamp);
  const signatureText = request.header(SIGNATURE_HEADERS.signature);
  if (signer === undefined || timestamp === undefined || signatureText === undefined) {
    return fail(
      appError('UNAUTHENTICATED', `this request acts for ${actor} and must be signed by that account`),
    );
  }
  if (signer !== actor)
    return fail(appError('FORBIDDEN', `signed by ${signer}, but the request acts for ${actor}`));
  const skew = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const at = /^[0-9]{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!(Math.abs(options.now - at) <= skew)) {
    return fail(
      appError('UNAUTHENTICATED', 'the request timestamp is missing or too far from the ledger clock'),
    );
  }
  const publicKey = options.publicKeyOf(signer);
  if (publicKey === undefined) {
    return fail(
      appError('UNAUTHENTICATED', `no public key is on record for ${signer}; register it through the faucet`),
    );
  }
  let signature: Uint8Array;
  try {
    signature = base64urlnopad.decode(signatureText);
  } catch {
    return fail(appError('UNAUTHENTICATED', 'the request signature is not base64url'));
  }
  const message = signingBytes(request.method, request.pathWithQuery, timestamp, request.body);
  if (!verifyMessage('ES256K', message, signature, publicKey)) {
    return fail(appError('UNAUTHENTICATED', `the request signature is not from ${signer}`));
  }
  // keyed on the decoded bytes: two spellings of one signature are one request
  if (!options.replays.admit(hex.encode(signature), at + skew, options.now)) {
    return fail(appError('UNAUTHENTICATED', 'this signed request was already used'));
  }
  return ok(undefined);
}

/** Remembers signatures until their timestamp can no longer pass, so each signed request works once. */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();
  readonly #capacity: number;

  /** `capacity` bounds memory; when full, new requests are refused until old ones expire. */
  constructor(capacity = 100_000) {
    this.#capacity = capacity;
  }

  /** True the first time `signature` is seen before `expiresAt`; false for a replay or when full. */
  admit(signature: string, expiresAt: number, now: number): boolean {
    for (const [seen, until] of this.#seen) {
      // insertion order is close to expiry order, so the sweep stops at the first live entry
      if (until > now) break;
      this.#seen.delete(seen);
    }
    if (this.#seen.has(signature) || this.#seen.size >= this.#capacity) return false;
    this.#seen.set(signature, expiresAt);
    return true;
  }
}
