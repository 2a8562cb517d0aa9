/**
 * Who may do what on a provider, decided from verified JWT claims. Pure: no I/O.
 * Mirrors chain-sdk's `Authorize*ForPermissionScope` with two deliberate differences: every action needs a
 * scope, `ip-migrate` included (the Go gateway checks none for endpoint migration), and `close` needs full access.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { JwtClaims, PermissionScope } from './claims.js';

/** Actions a provider gates: every chain-sdk scope, plus `close`, which only full access may perform. */
export type ProviderAction = PermissionScope | 'close';

/**
 * One access to check. `owner` is the owner of the lease or deployment touched (from the store, never from the
 * token). Pass `dseq` for deployment actions, and `gseq`/`oseq` too for lease actions.
 */
export interface AccessRequest {
  readonly owner: string;
  readonly provider: string;
  readonly action: ProviderAction;
  /** Canonical decimal, as the lease store holds it. */
  readonly dseq?: string;
  readonly gseq?: number;
  readonly oseq?: number;
}

/** What was granted. `services` is set when a granular grant names them; absent means every service. */
export interface Grant {
  readonly services?: readonly string[];
}

/** Why access was refused; carried in `details.reason` of the `FORBIDDEN` error. */
export type AccessRejection = 'not-owner' | 'wrong-provider' | 'missing-scope' | 'outside-grant';

/** A refused access: `FORBIDDEN` (HTTP 403) with `details.reason` an {@link AccessRejection}. */
export type AccessError = AppError<'FORBIDDEN'>;

/**
 * Decides whether verified claims allow `request`. An issuer only ever reaches its own leases, whatever the
 * access level, so one owner can never read or change another owner's leases.
 */
export function authorize(claims: JwtClaims, request: AccessRequest): Result<Grant, AccessError> {
  const { action } = request;
  if (claims.iss !== request.owner) {
    return deny('not-owner', action, `${claims.iss} does not own this lease`);
  }
  const scope = action === 'close' ? undefined : action;
  const { leases } = claims;
  if (leases.access === 'full') return ok({});
  if (leases.access === 'scoped') {
    return hasScope(leases.scope, scope)
      ? ok({})
      : deny('missing-scope', action, `the token lacks scope ${action}`);
  }

  const permission = leases.permissions.find((p) => p.provider === request.provider);
  if (permission === undefined) {
    return deny('wrong-provider', action, `the token grants nothing on provider ${request.provider}`);
  }
  if (permission.access === 'full') return ok({});
  if (permission.access === 'scoped') {
    return hasScope(permission.scope, scope)
      ? ok({})
      : deny('missing-scope', action, `the token lacks scope ${action} on this provider`);
  }

  const { dseq, gseq, oseq } = request;
  const matching = permission.deployments.filter(
    (d) =>
      dseq !== undefined &&
      d.dseq === dseq &&
      (d.gseq === undefined || gseq === undefined || d.gseq === gseq) &&
      (d.oseq === undefined || oseq === undefined || d.oseq === oseq) &&
      hasScope(d.scope, scope),
  );
  if (matching.length === 0) {
    return deny('outside-grant', action, `the token grants no ${action} on this deployment`);
  }
  return ok({ services: [...new Set(matching.flatMap((d) => d.services))] });
}

function hasScope(granted: readonly PermissionScope[], wanted: PermissionScope | undefined): boolean {
  return wanted !== undefined && granted.includes(wanted);
}

function deny(
  reason: AccessRejection,
  action: ProviderAction,
  message: string,
): { readonly ok: false; readonly error: AccessError } {
  return fail(appError('FORBIDDEN', message, { reason, action }));
}
