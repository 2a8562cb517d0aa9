/** Audit-query limits shared by the store adapters. */
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { AuditQuery } from '../lease/index.js';

/** Rows a query returns when it sets no limit. */
export const DEFAULT_AUDIT_LIMIT = 1000;
/** The most rows one query may ask for; page with `afterId` beyond it. */
export const MAX_AUDIT_LIMIT = 10_000;

/** The query's page: `afterId` and `limit` checked and defaulted. */
export function auditPage(query: AuditQuery): Result<{ readonly afterId: number; readonly limit: number }> {
  const afterId = query.afterId ?? 0;
  const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
  if (!Number.isSafeInteger(afterId) || afterId < 0) {
    return fail(appError('INVALID_INPUT', `audit afterId ${afterId} is not a non-negative integer`));
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    return fail(appError('INVALID_INPUT', `audit limit ${limit} is not between 1 and ${MAX_AUDIT_LIMIT}`));
  }
  return ok({ afterId, limit });
}
