import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type AppError, httpStatus } from '../errors/index.js';

/** The JSON body of every error response: Akash's `{error, code}` plus optional details. */
export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Sends an {@link AppError} as JSON with the status from the one error table (Go F9 sent no Content-Type): how the
 * ledger and the provider daemon answer every failure.
 */
export function errorResponse(c: Context, error: AppError): Response {
  const body: ErrorBody =
    error.details === undefined
      ? { error: error.message, code: error.code }
      : { error: error.message, code: error.code, details: error.details };
  return c.json(body, httpStatus(error.code) as ContentfulStatusCode);
}
