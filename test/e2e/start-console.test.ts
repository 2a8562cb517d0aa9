/**
 * `akash-ip start` (what `npm start` runs) serves the web console beside its devnet and prints its URL with the
 * run's token; the console answers for the devnet's tenant and stops with the devnet on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useSandbox } from './harness.js';

const CONSOLE = /^console\s+(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32})$/m;

describe('akash-ip start with the console', () => {
  const boxOf = useSandbox();

  it('prints the console URL after the leased IP and serves the devnet tenant there', async () => {
    const box = boxOf();
    const running = await box.spawn(['start', '--block-ms', '200'], (out) => CONSOLE.test(out));
    const url = new URL(CONSOLE.exec(running.stdout)?.[1] ?? '');
    assert.ok(running.stdout.indexOf('leased IP:') < running.stdout.search(CONSOLE));
    const token = url.searchParams.get('token') ?? '';
    assert.equal((await fetch(`${url.origin}/api/session`)).status, 403);
    const session = await fetch(`${url.origin}/api/session`, { headers: { 'x-akash-ip-token': token } });
    assert.equal(session.status, 200);
    const devnet = await box.devnetFile();
    assert.equal(
      ((await session.json()) as { tenant?: { address: string } }).tenant?.address,
      devnet.tenant.address,
    );
    assert.equal(await running.stop('SIGINT'), 0);
    await assert.rejects(fetch(`${url.origin}/api/session`), 'the console stops with the devnet');
  });
});
