import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_TABLE, EXIT, exitCode, httpStatus } from './index.js';

describe('error table', () => {
  it('gives every code an HTTP error status and a non-zero exit code', () => {
    for (const [code, row] of Object.entries(ERROR_TABLE)) {
      assert.ok(row.http >= 400 && row.http <= 599, `${code} has HTTP ${row.http}`);
      assert.notEqual(row.exit, EXIT.ok, `${code} exits 0`);
    }
  });

  it('maps conflicts and lookups distinctly', () => {
    assert.equal(httpStatus('POOL_EXHAUSTED'), 409);
    assert.equal(exitCode('LEASE_NOT_FOUND'), EXIT.notFound);
    assert.equal(httpStatus('NOT_READY'), 503);
    assert.equal(exitCode('ENDPOINT_NOT_LEASED'), EXIT.notLeased);
    assert.equal(EXIT.notLeased, 7);
  });
});
