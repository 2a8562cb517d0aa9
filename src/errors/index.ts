/**
 * Errors are values: every failure the system expects carries a stable `code`.
 * This module is the one table that maps each code to an HTTP status and a CLI exit code;
 * adding a code anywhere means adding its row here, and the compiler enforces it.
 */

/** CLI exit codes, grouped by what the caller should do next. */
export const EXIT = {
  ok: 0,
  invalidInput: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  unavailable: 6,
  /** The deployment runs, but an IP endpoint ended without an address (withheld or pending). */
  notLeased: 7,
  internal: 70,
} as const;

interface Row {
  readonly http: number;
  readonly exit: number;
}

const invalid: Row = { http: 400, exit: EXIT.invalidInput };
const notFound: Row = { http: 404, exit: EXIT.notFound };
const conflict: Row = { http: 409, exit: EXIT.conflict };
const unprocessable: Row = { http: 422, exit: EXIT.invalidInput };

/** The single code → (HTTP status, exit code) table. */
export const ERROR_TABLE = {
  // generic
  INVALID_INPUT: invalid,
  USAGE: { http: 400, exit: EXIT.usage },
  NOT_FOUND: notFound,
  UNAUTHENTICATED: { http: 401, exit: EXIT.denied },
  FORBIDDEN: { http: 403, exit: EXIT.denied },
  CONFIRMATION_REQUIRED: { http: 428, exit: EXIT.usage },
  // a token whose exp is further from its nbf (or iat) than this provider accepts
  TOKEN_LIFETIME: { http: 401, exit: EXIT.denied },
  RATE_LIMITED: { http: 429, exit: EXIT.unavailable },
  NOT_READY: { http: 503, exit: EXIT.unavailable },
  UNAVAILABLE: { http: 503, exit: EXIT.unavailable },
  PAYLOAD_TOO_LARGE: { http: 413, exit: EXIT.invalidInput },
  INPUT_TOO_DEEP: invalid,
  INTERNAL: { http: 500, exit: EXIT.internal },
  // the client went away before its request was read (nginx's 499), or was too slow sending it
  CLIENT_CLOSED: { http: 499, exit: EXIT.unavailable },
  REQUEST_TIMEOUT: { http: 408, exit: EXIT.unavailable },

  // SDL engine (src/sdl)
  SDL_IO: invalid,
  SDL_TOO_LARGE: invalid,
  SDL_BINARY: invalid,
  SDL_YAML: invalid,
  SDL_DUPLICATE_KEY: invalid,
  SDL_ALIAS_LIMIT: invalid,
  SDL_SCHEMA: invalid,
  SDL_VERSION: invalid,
  SDL_UNKNOWN_FIELD: invalid,
  SDL_INVALID: invalid,
  SDL_ENDPOINT_NAME: invalid,
  SDL_ENDPOINT_KIND: invalid,
  SDL_ENDPOINT_UNDECLARED: invalid,
  SDL_ENDPOINT_UNUSED: invalid,
  SDL_IP_NOT_GLOBAL: invalid,
  SDL_ENDPOINT_PORT_IN_USE: invalid,
  SDL_PORT_RANGE: invalid,
  SDL_PROTOCOL: invalid,
  SDL_MANIFEST: invalid,
  SDL_PROFILE: invalid,
  SDL_RESOURCES: invalid,
  SDL_STORAGE: invalid,
  SDL_GPU: invalid,
  SDL_PRICE: invalid,
  SDL_HTTP_OPTIONS: invalid,
  SDL_HOSTNAME: invalid,
  SDL_CREDENTIALS: invalid,
  SDL_TEE: invalid,
  SDL_RECLAMATION: invalid,

  // IPAM (src/ipam)
  POOL_EXHAUSTED: conflict,
  IP_IN_USE: conflict,
  PORT_IN_USE: conflict,
  NOT_IN_POOL: unprocessable,
  FAMILY_MISMATCH: unprocessable,
  INVALID_ADDRESS: invalid,
  POOL_OVERLAP: conflict,
  QUARANTINED: conflict,
  POOL_NOT_FOUND: notFound,

  // lease engine (src/lease)
  LEASE_NOT_FOUND: notFound,
  LEASE_CLOSED: { http: 410, exit: EXIT.conflict },
  INSUFFICIENT_IPS: conflict,
  NO_IP_SUPPORT: conflict,
  ENDPOINT_NOT_FOUND: notFound,
  MIGRATION_INVALID: unprocessable,
  MANIFEST_MISMATCH: unprocessable,
  ENDPOINT_NOT_LEASED: { http: 409, exit: EXIT.notLeased },
  SERVICE_NOT_FOUND: notFound,
  STORE_CORRUPT: { http: 500, exit: EXIT.internal },
  STORE_LOCKED: conflict,

  // devnet marketplace (src/market)
  ACCOUNT_NOT_FOUND: notFound,
  INSUFFICIENT_FUNDS: { http: 402, exit: EXIT.conflict },
  DEPLOYMENT_NOT_FOUND: notFound,
  DEPLOYMENT_EXISTS: conflict,
  DEPLOYMENT_CLOSED: conflict,
  ORDER_NOT_FOUND: notFound,
  ORDER_NOT_OPEN: conflict,
  PROVIDER_NOT_FOUND: notFound,
  BID_NOT_FOUND: notFound,
  BID_EXISTS: conflict,
  BID_NOT_OPEN: conflict,
  BID_OVER_ORDER: unprocessable,
  ATTRIBUTE_MISMATCH: unprocessable,
  PRICING_INVALID: unprocessable,

  // Kubernetes backend (src/k8s)
  K8S_UNAVAILABLE: { http: 503, exit: EXIT.unavailable },
  K8S_REJECTED: { http: 502, exit: EXIT.internal },
  K8S_MALFORMED: { http: 502, exit: EXIT.internal },

  // account certificates (src/x509, the ledger's cert module, the tenant's provider client)
  CERTIFICATE_INVALID: invalid,
  CERTIFICATE_NOT_FOUND: notFound,
  CERTIFICATE_EXISTS: conflict,
  // the provider's server certificate is not the one its address published (or pinned): nothing was sent to it
  PROVIDER_UNTRUSTED: { http: 502, exit: EXIT.denied },

  // identity: keys and keyring (src/identity)
  KEY_EXISTS: conflict,
  KEYRING_INVALID: { http: 500, exit: EXIT.invalidInput },
} as const satisfies Record<string, Row>;

/** Every stable error code the system can return. */
export type ErrorCode = keyof typeof ERROR_TABLE;

/** An expected failure: a stable code, a human message that says what to do, and optional details. */
export interface AppError<C extends ErrorCode = ErrorCode> {
  readonly code: C;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /**
   * What failed underneath, in someone else's words (a database's constraint text, an exception's message): for
   * the operator's log, never part of a reply, whose `message` is ours.
   */
  readonly cause?: string;
}

/** A success or an expected failure; exceptions are kept for bugs. */
export type Result<T, E = AppError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** Wraps a success value. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** Wraps an expected failure. */
export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** Builds a frozen {@link AppError}. */
export function appError<C extends ErrorCode>(
  code: C,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): AppError<C> {
  return Object.freeze(details === undefined ? { code, message } : { code, message, details });
}

/** `error` with `cause` (an exception, or a library's text) recorded for the log; see {@link AppError.cause}. */
export function withCause<E extends AppError>(error: E, cause: unknown): E {
  return Object.freeze({ ...error, cause: cause instanceof Error ? cause.message : String(cause) });
}

/** The HTTP status for a code. */
export function httpStatus(code: ErrorCode): number {
  return ERROR_TABLE[code].http;
}

/** The CLI exit code for a code. */
export function exitCode(code: ErrorCode): number {
  return ERROR_TABLE[code].exit;
}
