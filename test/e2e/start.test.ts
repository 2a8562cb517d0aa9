/**
 * `akash-ip start` (what `npm start` runs): devnet plus the example deployment, the leased IP printed, Ctrl-C
 * stops everything, and a restart on the same folder resumes the same deployment with the same IP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useSandbox } from './harness.js';

const LEASED = /leased IP: (\S+)/;

describe('akash-ip start', () => {
  const boxOf = useSandbox();

  it('deploys the example, prints its IP, stops on Ctrl-C and resumes on restart', async () => {
    const box = boxOf();
    const first = await box.spawn(['start', '--block-ms', '200'], (out) => LEASED.test(out));
    const ip = LEASED.exec(first.stdout)?.[1];
    assert.match(ip ?? '', /^(203\.0\.113|198\.51\.100)\.\d+$/);
    assert.match(first.stdout, /devnet ready/);
    assert.match(first.stdout, /myendpoint\s+active/);
    assert.equal(await first.stop('SIGINT'), 0, first.stderr);
    assert.equal((await box.devnetFile()).pid, null);

    const second = await box.spawn(['start', '--block-ms', '200'], (out) => LEASED.test(out));
    assert.match(second.stderr, /from an earlier run/);
    assert.equal(LEASED.exec(second.stdout)?.[1], ip);
    assert.equal(await second.stop('SIGTERM'), 0, second.stderr);
  });
});
