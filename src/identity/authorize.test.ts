import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccessRequest, authorize, type ProviderAction } from './authorize.js';
import { type JwtClaims, type Leases, newClaims, PERMISSION_SCOPES } from './claims.js';
import { signJwt, verifyJwt } from './jwt.js';
import { testAccount } from './testing.js';

const NOW = 1_700_000_000;
const ownerA = testAccount('owner-a');
const ownerB = testAccount('owner-b');
const provider = testAccount('provider').address;
const otherProvider = testAccount('other-provider').address;
const ACTIONS: readonly ProviderAction[] = [...PERMISSION_SCOPES, 'close'];

const claimsOf = (leases: Leases, iss: string = ownerA.address): JwtClaims =>
  newClaims(iss, { now: NOW, leases });
const lease = (action: ProviderAction, over: Partial<AccessRequest> = {}): AccessRequest => ({
  owner: ownerA.address,
  provider,
  action,
  dseq: '42',
  gseq: 1,
  oseq: 1,
  ...over,
});

/** A request for an action on a deployment (endpoint migration names the destination's dseq and gseq). */
const onDeployment = (action: ProviderAction, dseq: string, gseq?: number): AccessRequest => ({
  owner: ownerA.address,
  provider,
  action,
  dseq,
  ...(gseq === undefined ? {} : { gseq }),
});

function reason(claims: JwtClaims, request: AccessRequest): string | undefined {
  const result = authorize(claims, request);
  if (result.ok) return undefined;
  assert.equal(result.error.code, 'FORBIDDEN');
  return String(result.error.details?.reason);
}

describe('authorize: owner isolation', () => {
  it("refuses owner A's full-access token on owner B's lease, end to end from a signed token", () => {
    const token = signJwt(claimsOf({ access: 'full' }), ownerA.privateKey, 'ES256KADR36');
    assert.ok(token.ok);
    const verified = verifyJwt(token.value, { now: NOW });
    assert.ok(verified.ok);
    for (const action of ACTIONS) {
      assert.equal(reason(verified.value.claims, lease(action, { owner: ownerB.address })), 'not-owner');
      assert.equal(reason(verified.value.claims, lease(action)), undefined);
    }
  });

  it('refuses every access level on a lease of another owner', () => {
    const levels: Leases[] = [
      { access: 'full' },
      { access: 'scoped', scope: [...PERMISSION_SCOPES] },
      { access: 'granular', permissions: [{ provider, access: 'full' }] },
      {
        access: 'granular',
        permissions: [
          {
            provider,
            access: 'granular',
            deployments: [{ scope: ['status'], dseq: '42', services: ['web'] }],
          },
        ],
      },
    ];
    for (const leases of levels) {
      assert.equal(reason(claimsOf(leases), lease('status', { owner: ownerB.address })), 'not-owner');
    }
  });
});

describe('authorize: scope matrix', () => {
  it('full access allows every action, close included, on any provider', () => {
    for (const action of ACTIONS) {
      assert.deepEqual(authorize(claimsOf({ access: 'full' }), lease(action, { provider: otherProvider })), {
        ok: true,
        value: {},
      });
    }
  });

  it('scoped access allows exactly its scopes and never close', () => {
    const claims = claimsOf({ access: 'scoped', scope: ['status', 'send-manifest'] });
    for (const action of ACTIONS) {
      const expected = action === 'status' || action === 'send-manifest' ? undefined : 'missing-scope';
      assert.equal(reason(claims, lease(action)), expected, action);
    }
  });

  it('ip-migrate needs its own scope, unlike the Go gateway', () => {
    const withoutMigrate = claimsOf({
      access: 'scoped',
      scope: ['status', 'send-manifest', 'hostname-migrate'],
    });
    assert.equal(reason(withoutMigrate, onDeployment('ip-migrate', '42', 1)), 'missing-scope');
    const withMigrate = claimsOf({ access: 'scoped', scope: ['ip-migrate'] });
    assert.equal(reason(withMigrate, onDeployment('ip-migrate', '42', 1)), undefined);
    assert.equal(reason(withMigrate, lease('status')), 'missing-scope');
  });

  it('granular access is per provider: full, scoped, or nothing for providers it does not name', () => {
    const claims = claimsOf({
      access: 'granular',
      permissions: [
        { provider, access: 'scoped', scope: ['status'] },
        { provider: otherProvider, access: 'full' },
      ],
    });
    assert.equal(reason(claims, lease('status')), undefined);
    assert.equal(reason(claims, lease('ip-migrate')), 'missing-scope');
    assert.equal(reason(claims, lease('close')), 'missing-scope');
    assert.equal(reason(claims, lease('ip-migrate', { provider: otherProvider })), undefined);
    assert.equal(reason(claims, lease('close', { provider: otherProvider })), undefined);
    assert.equal(
      reason(claims, lease('status', { provider: testAccount('third').address })),
      'wrong-provider',
    );
  });

  it('granular deployment grants match dseq, and gseq/oseq when the grant names them', () => {
    const claims = claimsOf({
      access: 'granular',
      permissions: [
        {
          provider,
          access: 'granular',
          deployments: [
            { scope: ['status', 'logs'], dseq: '42', services: ['web'] },
            { scope: ['shell'], dseq: '42', gseq: 2, oseq: 3, services: ['db'] },
            { scope: ['send-manifest', 'ip-migrate'], dseq: '7', gseq: 1, services: ['api'] },
          ],
        },
      ],
    });
    assert.deepEqual(authorize(claims, lease('status')), { ok: true, value: { services: ['web'] } });
    assert.equal(reason(claims, lease('status', { dseq: '43' })), 'outside-grant');
    assert.equal(reason(claims, lease('status', { provider: otherProvider })), 'wrong-provider');
    assert.equal(reason(claims, lease('shell', { gseq: 2, oseq: 3 })), undefined);
    assert.equal(reason(claims, lease('shell', { gseq: 2, oseq: 4 })), 'outside-grant');
    assert.equal(reason(claims, lease('shell', { gseq: 1, oseq: 3 })), 'outside-grant');
    assert.equal(reason(claims, lease('events')), 'outside-grant');
    assert.equal(reason(claims, lease('close')), 'outside-grant');
    // A deployment-level action (no gseq/oseq) matches on dseq, as Go's AuthorizeDeploymentIDForPermissionScope.
    assert.deepEqual(authorize(claims, onDeployment('send-manifest', '7')), {
      ok: true,
      value: { services: ['api'] },
    });
    assert.equal(reason(claims, onDeployment('ip-migrate', '7', 1)), undefined);
    assert.equal(reason(claims, onDeployment('ip-migrate', '7', 2)), 'outside-grant');
    assert.equal(reason(claims, { owner: ownerA.address, provider, action: 'status' }), 'outside-grant');
  });

  it('unions the services of every matching deployment grant', () => {
    const claims = claimsOf({
      access: 'granular',
      permissions: [
        {
          provider,
          access: 'granular',
          deployments: [
            { scope: ['logs'], dseq: '42', services: ['web', 'db'] },
            { scope: ['logs'], dseq: '42', gseq: 1, services: ['db', 'cache'] },
          ],
        },
      ],
    });
    assert.deepEqual(authorize(claims, lease('logs')), {
      ok: true,
      value: { services: ['web', 'db', 'cache'] },
    });
  });

  it('names the refused action in the error', () => {
    const result = authorize(claimsOf({ access: 'scoped', scope: ['status'] }), lease('shell'));
    assert.ok(!result.ok);
    assert.deepEqual(result.error.details, { reason: 'missing-scope', action: 'shell' });
  });
});

describe('authorize: dseqs beyond 2^53', () => {
  /** A signed granular token for `dseq`, verified again as a provider would. */
  function verifiedGrant(dseq: string): { readonly token: string; readonly claims: JwtClaims } {
    const leases: Leases = {
      access: 'granular',
      permissions: [
        { provider, access: 'granular', deployments: [{ scope: ['status'], dseq, services: ['web'] }] },
      ],
    };
    const token = signJwt(claimsOf(leases), ownerA.privateKey);
    assert.ok(token.ok);
    const verified = verifyJwt(token.value, { now: NOW });
    assert.ok(verified.ok);
    return { token: token.value, claims: verified.value.claims };
  }

  it('grants exactly the dseq of the token, not its neighbours that share a float64', () => {
    const max = verifiedGrant('18446744073709551615').claims;
    assert.equal(reason(max, onDeployment('status', '18446744073709551615')), undefined);
    assert.equal(reason(max, onDeployment('status', '18446744073709551614')), 'outside-grant');
    assert.equal(reason(max, onDeployment('status', '18446744073709552000')), 'outside-grant');
    const past = verifiedGrant('9007199254740993').claims;
    assert.equal(reason(past, onDeployment('status', '9007199254740993')), undefined);
    assert.equal(reason(past, onDeployment('status', '9007199254740992')), 'outside-grant');
    assert.equal(reason(past, onDeployment('status', '9007199254740994')), 'outside-grant');
  });

  it('writes the dseq into the payload as a JSON number, digit for digit, and reads it back unchanged', () => {
    for (const dseq of ['1', '9007199254740991', '9007199254740993', '18446744073709551615']) {
      const { token, claims } = verifiedGrant(dseq);
      const payload = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
      assert.ok(payload.includes(`"dseq":${dseq},`), payload);
      const [perm] = claims.leases.access === 'granular' ? claims.leases.permissions : [];
      assert.equal(perm?.access === 'granular' ? perm.deployments[0]?.dseq : undefined, dseq);
    }
  });
});
