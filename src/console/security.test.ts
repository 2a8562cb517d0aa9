import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostAllowed, newToken, originAllowed, readCookie, tokenMatches } from './security.js';

describe('console security checks', () => {
  it('makes a different URL-safe token each run', () => {
    const a = newToken();
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a, newToken());
  });

  it('matches the token exactly', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    assert.equal(tokenMatches('abd', 'abc'), false);
    assert.equal(tokenMatches('ab', 'abc'), false);
    assert.equal(tokenMatches(undefined, 'abc'), false);
  });

  it('answers only to its own host and port (no DNS rebinding)', () => {
    assert.equal(hostAllowed('127.0.0.1:4000', 4000), true);
    assert.equal(hostAllowed('localhost:4000', 4000), true);
    assert.equal(hostAllowed('LOCALHOST:4000', 4000), true);
    assert.equal(hostAllowed('evil.example:4000', 4000), false);
    assert.equal(hostAllowed('127.0.0.1:4001', 4000), false);
    assert.equal(hostAllowed('127.0.0.1', 4000), false);
    assert.equal(hostAllowed(undefined, 4000), false);
  });

  it('takes state changes only from its own origin', () => {
    assert.equal(originAllowed('http://127.0.0.1:4000', 4000), true);
    assert.equal(originAllowed('http://localhost:4000', 4000), true);
    assert.equal(originAllowed('https://127.0.0.1:4000', 4000), false);
    assert.equal(originAllowed('http://evil.example', 4000), false);
    assert.equal(originAllowed('null', 4000), false);
    assert.equal(originAllowed(undefined, 4000), false);
  });

  it('reads one cookie among several', () => {
    assert.equal(readCookie('a=1; akash_ip_console_4000=tok; b=2', 'akash_ip_console_4000'), 'tok');
    assert.equal(readCookie('akash_ip_console_4001=tok', 'akash_ip_console_4000'), undefined);
    assert.equal(readCookie(undefined, 'x'), undefined);
  });
});
