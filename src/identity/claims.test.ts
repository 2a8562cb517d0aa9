import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimsJson, type JwtClaims, newClaims, PERMISSION_SCOPES, parseClaims } from './claims.js';
import { testAccount } from './testing.js';

const ISS = testAccount('owner').address;
const PROVIDER = testAccount('provider').address;
const TIMES = { iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_086_400 };

function claims(leases: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, ...TIMES, version: 'v1', leases, ...extra };
}

function reasonOf(input: unknown): unknown {
  const parsed = parseClaims(input);
  assert.ok(!parsed.ok, `expected ${JSON.stringify(input)} to be refused`);
  assert.equal(parsed.error.code, 'INVALID_INPUT');
  return parsed.error.details?.reason;
}

describe('parseClaims: chain-sdk conformance table', () => {
  // Ported from chain-sdk testdata/jwt/cases_jwt.json.tmpl; time-window cases live in jwt.test.ts.
  const permission = (p: Record<string, unknown>) => ({
    access: 'granular',
    permissions: [{ provider: PROVIDER, ...p }],
  });
  const deployment = (d: Record<string, unknown>) => permission({ access: 'granular', deployments: [d] });
  const cases: readonly (readonly [string, unknown, boolean])[] = [
    ['invalid issuer (no claims)', {}, false],
    ['empty iat', { iss: ISS }, false],
    ['missing exp', { iss: ISS, iat: TIMES.iat }, false],
    ['missing nbf', { iss: ISS, iat: TIMES.iat, exp: TIMES.exp }, false],
    ['missing version', { iss: ISS, ...TIMES }, false],
    ['missing access type', { iss: ISS, ...TIMES, version: 'v1' }, false],
    ['unknown access type', claims({ access: 'unknown' }), false],
    ['full access', claims({ access: 'full' }), true],
    ['granular without permissions', claims({ access: 'granular' }), false],
    ['provider permission without access', claims(permission({})), false],
    ['provider full access', claims(permission({ access: 'full' })), true],
    ['provider scoped without scope', claims(permission({ access: 'scoped' })), false],
    ['provider scoped access', claims(permission({ access: 'scoped', scope: ['send-manifest'] })), true],
    [
      'provider scoped duplicate scope',
      claims(permission({ access: 'scoped', scope: ['send-manifest', 'send-manifest'] })),
      false,
    ],
    [
      'provider granular with scope',
      claims(permission({ access: 'granular', scope: ['send-manifest'] })),
      false,
    ],
    [
      'duplicate provider',
      claims({
        access: 'granular',
        permissions: [
          { provider: PROVIDER, access: 'scoped', scope: ['send-manifest'] },
          { provider: PROVIDER, access: 'scoped', scope: ['send-manifest'] },
        ],
      }),
      false,
    ],
    ['provider unknown scope', claims(permission({ access: 'scoped', scope: ['unknown'] })), false],
    ['deployment missing scope', claims(deployment({ services: ['web'] })), false],
    ['deployment duplicate scope', claims(deployment({ scope: ['send-manifest', 'send-manifest'] })), false],
    ['deployment invalid scope', claims(deployment({ scope: ['unknown'] })), false],
    ['deployment missing dseq', claims(deployment({ scope: ['send-manifest'] })), false],
    ['deployment no services', claims(deployment({ scope: ['send-manifest'], dseq: 1 })), false],
    ['deployment', claims(deployment({ scope: ['send-manifest'], dseq: 1, services: ['web'] })), true],
    [
      'deployment duplicate service',
      claims(deployment({ scope: ['send-manifest'], dseq: 1, services: ['web', 'web'] })),
      false,
    ],
    [
      'deployment oseq without gseq',
      claims(deployment({ scope: ['send-manifest'], dseq: 1, oseq: 1, services: ['web'] })),
      false,
    ],
    ['scoped top level', claims({ access: 'scoped', scope: ['send-manifest'] }), true],
    ['scoped attestation', claims({ access: 'scoped', scope: ['attestation'] }), true],
    ['provider scoped attestation', claims(permission({ access: 'scoped', scope: ['attestation'] })), true],
  ];
  for (const [name, input, valid] of cases) {
    it(`${valid ? 'accepts' : 'refuses'}: ${name}`, () => {
      assert.equal(parseClaims(input).ok, valid);
    });
  }
});

describe('parseClaims: stricter edges', () => {
  it('reports a missing or old version distinctly', () => {
    assert.equal(reasonOf({ iss: ISS, ...TIMES, leases: { access: 'full' } }), 'unsupported-version');
    assert.equal(reasonOf(claims({ access: 'full' }, { version: 'v0' })), 'unsupported-version');
    assert.equal(reasonOf(claims({ access: 'full' }, { version: 1 })), 'unsupported-version');
    assert.equal(reasonOf(claims({ access: 'none' })), 'invalid-claims');
  });

  it('refuses claims outside the published schema', () => {
    const refused = [
      null,
      [],
      'claims',
      claims({ access: 'full' }, { aud: 'provider' }),
      claims({ access: 'full', scope: ['status'] }),
      claims({ access: 'scoped', scope: [] }),
      claims({ access: 'scoped', scope: ['status'], permissions: [] }),
      claims({ access: 'granular', permissions: [] }),
      claims({ access: 'full' }, { iss: 'cosmos1hsk6jryyqjfhp5dhc55tc9jtckygx0eph6dd02' }),
      claims({ access: 'full' }, { iss: ISS.toUpperCase() }),
      claims({ access: 'full' }, { exp: 1.5 }),
      claims({ access: 'full' }, { exp: -1 }),
      claims({ access: 'full' }, { exp: '1700086400' }),
      claims({ access: 'full' }, { jti: '' }),
      claims({ access: 'granular', permissions: [{ provider: 'akash1nope', access: 'full' }] }),
      claims({
        access: 'granular',
        permissions: [
          {
            provider: PROVIDER,
            access: 'granular',
            deployments: [{ scope: ['status'], dseq: 0, services: ['web'] }],
          },
        ],
      }),
      claims({
        access: 'granular',
        permissions: [
          {
            provider: PROVIDER,
            access: 'granular',
            deployments: [{ scope: ['status'], dseq: 1, gseq: 2 ** 32, services: ['web'] }],
          },
        ],
      }),
    ];
    for (const input of refused) assert.equal(reasonOf(input), 'invalid-claims', JSON.stringify(input));
  });

  it('knows exactly the ten chain-sdk scopes', () => {
    assert.deepEqual([...PERMISSION_SCOPES].sort(), [
      'attestation',
      'events',
      'get-manifest',
      'hostname-migrate',
      'ip-migrate',
      'logs',
      'restart',
      'send-manifest',
      'shell',
      'status',
    ]);
    for (const scope of PERMISSION_SCOPES)
      assert.ok(parseClaims(claims({ access: 'scoped', scope: [scope] })).ok);
  });
});

describe('parseClaims: canonical form', () => {
  it("orders keys as Go's structs and drops zero sequences, as omitempty does", () => {
    const parsed = parseClaims({
      leases: {
        permissions: [
          {
            deployments: [{ services: ['web'], oseq: 0, gseq: 0, dseq: 7, scope: ['status'] }],
            access: 'granular',
            provider: PROVIDER,
          },
        ],
        access: 'granular',
      },
      version: 'v1',
      jti: 'one',
      iat: 3,
      nbf: 2,
      exp: 4,
      iss: ISS,
    });
    assert.ok(parsed.ok);
    assert.equal(
      claimsJson(parsed.value),
      `{"iss":"${ISS}","exp":4,"nbf":2,"iat":3,"jti":"one","version":"v1","leases":{"access":"granular",` +
        `"permissions":[{"provider":"${PROVIDER}","access":"granular","deployments":[{"scope":["status"],` +
        `"dseq":7,"services":["web"]}]}]}}`,
    );
    assert.ok(Object.isFrozen(parsed.value) && Object.isFrozen(parsed.value.leases));
  });

  it('keeps non-zero gseq and oseq', () => {
    const parsed = parseClaims(
      claims({
        access: 'granular',
        permissions: [
          {
            provider: PROVIDER,
            access: 'granular',
            deployments: [{ scope: ['status'], dseq: 7, gseq: 1, oseq: 2, services: ['web'] }],
          },
        ],
      }),
    );
    assert.ok(parsed.ok && parsed.value.leases.access === 'granular');
    const [perm] = parsed.value.leases.permissions;
    assert.ok(perm?.access === 'granular');
    assert.deepEqual(perm.deployments[0], {
      scope: ['status'],
      dseq: '7',
      gseq: 1,
      oseq: 2,
      services: ['web'],
    });
  });
});

describe('parseClaims: granular dseq', () => {
  const withDseq = (dseq: unknown) =>
    claims({
      access: 'granular',
      permissions: [
        {
          provider: PROVIDER,
          access: 'granular',
          deployments: [{ scope: ['status'], dseq, services: ['web'] }],
        },
      ],
    });
  const dseqOf = (input: unknown): string | undefined => {
    const parsed = parseClaims(input);
    if (!parsed.ok || parsed.value.leases.access !== 'granular') return undefined;
    const [perm] = parsed.value.leases.permissions;
    return perm?.access === 'granular' ? perm.deployments[0]?.dseq : undefined;
  };

  it('reads an exact JSON number or canonical decimal text as canonical text, up to 2^64 − 1', () => {
    assert.equal(dseqOf(withDseq(1)), '1');
    assert.equal(dseqOf(withDseq(Number.MAX_SAFE_INTEGER)), '9007199254740991');
    assert.equal(dseqOf(withDseq('9007199254740993')), '9007199254740993');
    assert.equal(dseqOf(withDseq('18446744073709551615')), '18446744073709551615');
  });

  it('refuses numbers that lost digits and text that is not a canonical uint64 above 0', () => {
    for (const dseq of [2 ** 53, 1.5, 0, -1, '0', '007', '-1', ' 7', '18446744073709551616', null]) {
      const parsed = parseClaims(withDseq(dseq));
      assert.deepEqual(
        parsed.ok ? undefined : parsed.error,
        {
          code: 'INVALID_INPUT',
          message:
            'invalid JWT claims at leases.permissions.0.deployments.0.dseq: must be a uint64 above 0 in decimal',
          details: { reason: 'invalid-claims' },
        },
        String(dseq),
      );
    }
  });

  it('writes the dseq as a JSON number, digit for digit', () => {
    const parsed = parseClaims(withDseq('18446744073709551615'));
    assert.ok(parsed.ok);
    assert.match(
      claimsJson(parsed.value),
      /"deployments":\[\{"scope":\["status"\],"dseq":18446744073709551615,"services"/,
    );
  });
});

describe('newClaims', () => {
  it('builds full-access claims valid for 15 minutes from now by default', () => {
    const built: JwtClaims = newClaims(ISS, { now: 1_700_000_000.7 });
    assert.deepEqual(built, {
      iss: ISS,
      exp: 1_700_000_900,
      nbf: 1_700_000_000,
      iat: 1_700_000_000,
      version: 'v1',
      leases: { access: 'full' },
    });
    assert.ok(parseClaims(built).ok);
  });

  it('takes a lifetime, leases and a jti', () => {
    const built = newClaims(ISS, {
      now: 10,
      ttlSeconds: 60,
      leases: { access: 'scoped', scope: ['status'] },
      jti: 'x',
    });
    assert.equal(built.exp, 70);
    assert.equal(built.jti, 'x');
    assert.deepEqual(built.leases, { access: 'scoped', scope: ['status'] });
  });
});
