import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureLimiter } from './failure-limit.js';

describe('failure limiter', () => {
  it('lets a source fail `burst` times, then makes it wait until it has earned one back', () => {
    let now = 0;
    const limiter = new FailureLimiter({ burst: 3, perMinute: 6 }, () => now);
    for (let n = 0; n < 3; n++) {
      assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 0);
      limiter.failed('198.51.100.7');
    }
    assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 10, 'six a minute: one every 10 s');
    assert.equal(limiter.retryAfterSeconds('198.51.100.8'), 0, 'other sources are not affected');
    now = 4000;
    assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 6);
    now = 10_000;
    assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 0);
    limiter.failed('198.51.100.7');
    assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 10);
  });

  it('is off with perMinute 0', () => {
    const limiter = new FailureLimiter({ burst: 1, perMinute: 0 }, () => 0);
    for (let n = 0; n < 100; n++) limiter.failed('198.51.100.7');
    assert.equal(limiter.retryAfterSeconds('198.51.100.7'), 0);
  });

  it('tracks a bounded number of sources, forgetting the least recently failing', () => {
    const limiter = new FailureLimiter({ burst: 1, perMinute: 1 }, () => 0, 100);
    for (let n = 0; n < 10_000; n++) limiter.failed(`10.0.${n >> 8}.${n & 255}`);
    assert.equal(limiter.retryAfterSeconds('10.0.0.0'), 0, 'forgotten');
    assert.equal(limiter.retryAfterSeconds('10.0.39.15'), 60, 'the latest is remembered');
  });
});
