/**
 * Tenant authentication: `Authorization: Bearer <JWT>` verified against the issuer's public key, with a
 * bounded cache of verified tokens (least recently used dropped first, each gone when it expires). A signature check costs about 2 ms of secp256k1 arithmetic, while a
 * tenant's client reuses one token for many requests; the cache keeps each token's claims until it
 * expires and re-checks the validity window on every hit.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import {
  bearerToken,
  DEFAULT_LEEWAY_SECONDS,
  decodeJwt,
  type JwtClaims,
  verifyJwt,
} from '../identity/index.js';
import { BoundedCache } from './bounded-cache.js';

/** Looks up an account's public key (hex or bytes); `undefined` when the account has none. */
export type PubkeyLookup = (address: string) => Promise<Result<Uint8Array | string | undefined, AppError>>;

export interface TokenVerifierOptions {
  readonly lookup: PubkeyLookup;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Verified tokens kept; the least recently used is dropped first, and each goes when it expires. */
  readonly cacheSize: number;
  readonly leewaySeconds?: number;
  /**
   * Longest validity a token may claim, `exp` − `nbf`, in seconds; undefined: any, as Akash's provider. A bearer token is good for whoever holds it until it expires, so a provider may insist on short ones.
   */
  readonly maxLifetimeSeconds?: number;
}

interface Cached {
  readonly claims: JwtClaims;
  readonly exp: number;
  readonly nbf: number;
}

/** Verifies bearer tokens, remembering the ones that passed. */
export class TokenVerifier {
  readonly #options: TokenVerifierOptions;
  readonly #leeway: number;
  readonly #cache: BoundedCache<string, Cached>;

  constructor(options: TokenVerifierOptions) {
    this.#options = options;
    this.#leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
    this.#cache = new BoundedCache(options.cacheSize, options.now);
  }

  /** Tokens currently remembered. */
  get size(): number {
    return this.#cache.size;
  }

  /**
   * The verified claims of a request's `Authorization` header. UNAUTHENTICATED for a missing, malformed,
   * expired or forged token; UNAVAILABLE when the issuer's key cannot be looked up right now.
   */
  async verify(header: string | undefined): Promise<Result<JwtClaims, AppError>> {
    const token = bearerToken(header);
    if (!token.ok) return token;
    if (token.value === undefined) {
      return fail(
        appError('UNAUTHENTICATED', 'this route needs an "Authorization: Bearer <JWT>" header', {
          reason: 'missing-token',
        }),
      );
    }
    return this.verifyToken(token.value);
  }

  /**
   * The claims of a header whose token was verified before and is still valid; `undefined` for anything
   * else, including every refusal, so the caller falls back to {@link verify} for the full answer.
   */
  verifyCached(header: string | undefined): JwtClaims | undefined {
    const token = bearerToken(header);
    if (!token.ok || token.value === undefined) return undefined;
    const cached = this.#cache.get(token.value);
    return cached !== undefined && this.#window(cached) === undefined ? cached.claims : undefined;
  }

  /** Why a cached token is no longer valid, or `undefined` when it is. */
  #window(cached: Cached): AppError<'UNAUTHENTICATED'> | undefined {
    const nowSeconds = this.#options.now() / 1000;
    if (nowSeconds >= cached.exp + this.#leeway) {
      return appError('UNAUTHENTICATED', 'the token has expired', { reason: 'expired' });
    }
    if (nowSeconds < cached.nbf - this.#leeway) {
      return appError('UNAUTHENTICATED', 'the token is not valid yet', { reason: 'not-yet-valid' });
    }
    return undefined;
  }

  /** Like {@link verify}, for a bare token. */
  async verifyToken(token: string): Promise<Result<JwtClaims, AppError>> {
    const cached = this.#cache.get(token);
    if (cached !== undefined) {
      const invalid = this.#window(cached);
      if (invalid === undefined) return ok(cached.claims);
      if (invalid.details?.reason === 'expired') this.#cache.delete(token);
      return fail(invalid);
    }
    // the issuer is read before the (asynchronous) key lookup; verifyJwt re-checks everything
    const decoded = decodeJwt(token);
    if (!decoded.ok) return decoded;
    const key = await this.#options.lookup(decoded.value.claims.iss);
    if (!key.ok) {
      if (key.error.code === 'ACCOUNT_NOT_FOUND' || key.error.code === 'NOT_FOUND') {
        return fail(
          appError('UNAUTHENTICATED', `no public key is known for ${decoded.value.claims.iss}`, {
            reason: 'unknown-account',
          }),
        );
      }
      return fail(appError('UNAVAILABLE', `cannot check the token issuer's key: ${key.error.message}`));
    }
    const verified = verifyJwt(token, {
      now: Math.floor(this.#options.now() / 1000),
      leewaySeconds: this.#leeway,
      resolvePubkey: () => key.value,
    });
    if (!verified.ok) return verified;
    const { claims } = verified.value;
    const longest = this.#options.maxLifetimeSeconds;
    // the window in which the token is usable: a stolen one is good for all of it
    const lifetime = claims.exp - claims.nbf;
    if (longest !== undefined && lifetime > longest) {
      return fail(
        appError(
          'TOKEN_LIFETIME',
          `the token is valid for ${lifetime} s; this provider accepts tokens valid for at most ${longest} s: ` +
            'issue a shorter one',
          { lifetimeSeconds: lifetime, maxLifetimeSeconds: longest },
        ),
      );
    }
    this.#cache.set(token, { claims, exp: claims.exp, nbf: claims.nbf }, (claims.exp + this.#leeway) * 1000);
    return ok(claims);
  }
}
