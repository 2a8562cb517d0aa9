import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAgainstSpec, declarationsOf, leasedIpSequences } from './declarations.js';
import { groupSpecOf, groupSpecWithIps, manifestGroup } from './testing.js';

describe('declarationsOf', () => {
  it('takes every global expose with an ip, defaulting the external port to the port', () => {
    const group = manifestGroup('dcloud', {
      web: [
        { port: 3000, as: 80, ip: 'web' },
        { port: 8080, ip: 'web' },
        { port: 9000, global: true },
        { port: 9100 },
      ],
      dns: [{ port: 53, proto: 'UDP', ip: 'ns' }],
    });
    const result = declarationsOf(group);
    assert.ok(result.ok);
    assert.deepEqual(result.value, [
      { endpoint: 'ns', service: 'dns', port: 53, externalPort: 53, protocol: 'UDP' },
      { endpoint: 'web', service: 'web', port: 3000, externalPort: 80, protocol: 'TCP' },
      { endpoint: 'web', service: 'web', port: 8080, externalPort: 8080, protocol: 'TCP' },
    ]);
  });

  it('ignores an ip on a non-global expose, as the manifest does', () => {
    const group = manifestGroup('dcloud', { web: [{ port: 80, ip: 'web', global: false }] });
    const result = declarationsOf(group);
    assert.ok(result.ok);
    assert.deepEqual(result.value, []);
  });

  it('refuses one external port and protocol twice on an endpoint, counting the defaulted port', () => {
    const group = manifestGroup('dcloud', {
      a: [{ port: 80, ip: 'web' }],
      b: [{ port: 3000, as: 80, ip: 'web' }],
    });
    const result = declarationsOf(group);
    assert.equal(result.ok ? 'ok' : result.error.code, 'INVALID_INPUT');
  });

  it('refuses invalid endpoint names and ports', () => {
    for (const fixture of [
      { port: 80, ip: '_web' },
      { port: 80, ip: 'ROAR' },
      { port: 0, ip: 'web' },
      { port: 70000, ip: 'web' },
      { port: 80, as: 65536, ip: 'web' },
    ]) {
      const result = declarationsOf(manifestGroup('dcloud', { web: [fixture] }));
      assert.equal(result.ok ? 'ok' : result.error.code, 'INVALID_INPUT', JSON.stringify(fixture));
    }
  });
});

describe('group specs', () => {
  it('counts distinct LEASED_IP sequence numbers', () => {
    assert.equal(leasedIpSequences(groupSpecWithIps([1, 1, 2])).size, 2);
    const shared = manifestGroup('dcloud', {
      web: [{ port: 80, ip: 'meow' }],
      anotherweb: [{ port: 81, ip: 'meow' }],
      db: [{ port: 5432, ip: 'kittens' }],
    });
    assert.deepEqual([...leasedIpSequences(groupSpecOf(shared))].sort(), [1, 2]);
  });

  it('finds over- and under-used IP endpoints', () => {
    const group = manifestGroup('dcloud', { web: [{ port: 80, ip: 'web' }] });
    assert.ok(checkAgainstSpec(group, groupSpecOf(group)).ok);
    const over = checkAgainstSpec(group, groupSpecWithIps([]));
    assert.deepEqual(over.ok ? 'ok' : over.error.details, { overUtilized: [1], underUtilized: [] });
    const under = checkAgainstSpec(group, groupSpecWithIps([1, 2]));
    assert.deepEqual(under.ok ? 'ok' : under.error.details, { overUtilized: [], underUtilized: [2] });
  });
});
