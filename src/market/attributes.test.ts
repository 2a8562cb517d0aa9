import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  attributesSubsetOf,
  globMatch,
  matchRequirements,
  matchResourcesRequirements,
} from './attributes.js';
import { groupSpec, IP_LEASE } from './testing.js';

describe('globMatch (Go filepath.Match)', () => {
  const cases: readonly [string, string, boolean][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'a', false],
    ['*x', 'xxx', true],
    // malformed patterns never match
    ['[]a]', ']', false],
    ['[-]', '-', false],
    ['[x-]', 'x', false],
    ['[-x]', 'x', false],
    ['\\', 'a', false],
    ['[a-b-c]', 'a', false],
    ['[', 'a', false],
    ['[^bc', 'a', false],
    ['a[', 'a', false],
    ['a[', 'ab', false],
    ['*[', 'ab', false],
    ['a/b[', 'x', false],
  ];
  for (const [pattern, name, want] of cases) {
    it(`${pattern} vs ${name} → ${want}`, () => assert.equal(globMatch(pattern, name), want));
  }

  it('a pattern without metacharacters matches exactly itself', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9/._-]{0,20}$/),
        fc.stringMatching(/^[a-z0-9/._-]{0,20}$/),
        (a, b) => {
          assert.equal(globMatch(a, b), a === b);
        },
      ),
    );
  });

  it('a trailing * matches any suffix without a separator', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z/]{0,10}$/),
        fc.stringMatching(/^[a-z/]{0,10}$/),
        (prefix, rest) => {
          assert.equal(globMatch(`${prefix.replaceAll('*', '')}*`, prefix + rest), !rest.includes('/'));
        },
      ),
    );
  });
});

describe('attribute requirements', () => {
  const region = { key: 'region', value: 'us-west' };

  it('needs every required attribute, same key and same value', () => {
    assert.equal(attributesSubsetOf([region], [region, IP_LEASE]), true);
    assert.equal(attributesSubsetOf([region, IP_LEASE], [region]), false);
    assert.equal(attributesSubsetOf([region], [{ key: 'region', value: 'us-east' }]), false);
    assert.equal(attributesSubsetOf(null, []), true);
    assert.equal(attributesSubsetOf([], null), true);
  });

  it('reads a required key as a glob over the provider key', () => {
    const offered = [{ key: 'capabilities/storage/1/class', value: 'beta2' }];
    assert.equal(
      attributesSubsetOf([{ key: 'capabilities/storage/*/class', value: 'beta2' }], offered),
      true,
    );
    assert.equal(attributesSubsetOf([{ key: 'capabilities/storage/*', value: 'beta2' }], offered), false);
    assert.equal(
      attributesSubsetOf([{ key: 'capabilities/storage/1/class', value: 'beta*' }], offered),
      false,
    );
  });

  it('ip-lease: true keeps out a provider that does not advertise it', () => {
    const spec = groupSpec({ attributes: [IP_LEASE] });
    assert.equal(matchRequirements(spec, []), false);
    assert.equal(matchRequirements(spec, [{ key: 'ip-lease', value: 'false' }]), false);
    assert.equal(matchRequirements(spec, [region, IP_LEASE]), true);
    assert.equal(matchRequirements(groupSpec(), []), true);
  });

  it('ignores signed_by without an audit module, and applies it with one', () => {
    const auditor = 'akash1auditor';
    const spec = groupSpec({ attributes: [region], signedBy: { anyOf: [auditor] } });
    assert.equal(matchRequirements(spec, [region]), true);
    assert.equal(matchRequirements(spec, [region], new Map()), false);
    assert.equal(matchRequirements(spec, [], new Map([[auditor, [region]]])), true);
    const both = groupSpec({ attributes: [region], signedBy: { allOf: [auditor, 'akash1other'] } });
    assert.equal(matchRequirements(both, [region], new Map([[auditor, [region]]])), false);
    assert.equal(
      matchRequirements(
        both,
        [],
        new Map([
          [auditor, [region]],
          ['akash1other', [region]],
        ]),
      ),
      true,
    );
  });
});

describe('resource capability requirements', () => {
  const persistent = [
    { key: 'persistent', value: 'true' },
    { key: 'class', value: 'beta2' },
  ];

  it('storage attributes must all be offered by one storage capability group', () => {
    const spec = groupSpec({ units: [{ storage: [{ size: 2 ** 30, attributes: persistent }] }] });
    const beta2 = [
      { key: 'capabilities/storage/1/persistent', value: 'true' },
      { key: 'capabilities/storage/1/class', value: 'beta2' },
    ];
    const split = [
      { key: 'capabilities/storage/1/persistent', value: 'true' },
      { key: 'capabilities/storage/2/class', value: 'beta2' },
    ];
    assert.equal(matchResourcesRequirements(spec, beta2), true);
    assert.equal(matchResourcesRequirements(spec, split), false);
    assert.equal(matchResourcesRequirements(spec, []), false);
    assert.equal(matchResourcesRequirements(groupSpec(), []), true);
  });

  it('gpu attributes need any one match, wildcards allowed', () => {
    const spec = groupSpec({
      units: [{ gpu: { units: 1, attributes: [{ key: 'vendor/nvidia/model/*', value: 'true' }] } }],
    });
    assert.equal(
      matchResourcesRequirements(spec, [{ key: 'capabilities/gpu/vendor/nvidia/model/a100', value: 'true' }]),
      true,
    );
    assert.equal(
      matchResourcesRequirements(spec, [{ key: 'capabilities/gpu/vendor/amd/model/mi100', value: 'true' }]),
      false,
    );
  });
});
