/// <reference lib="dom" />
// (functions passed to waitForFunction and evaluate run in the page)
/**
 * The provider daemon's own console in a real browser: `akash-ip provider run --console-port 0` from the built
 * CLI serves the provider view for its operator on 127.0.0.1 behind a per-run token (its URL in a 0600 file
 * beside the store), refuses tenants and other sites, and charts its pool filling up as tenants' manifests take
 * its addresses through the gateway.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { account, ipSdl, leaseRegistration, tokenOf } from '../../src/daemon/fixtures.js';
import { type Running, Sandbox } from '../e2e/harness.js';
import { assertBrowserReady, type ConsolePage, openConsolePage } from './browser.js';

const alice = account(0xa11ce);

/** A log line of the daemon (one JSON object per stdout line) with message `msg`. */
function logLine(stdout: string, msg: string): Record<string, unknown> | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed.msg === msg) return parsed;
  }
  return undefined;
}

describe("the provider daemon's console in Chromium", () => {
  let box: Sandbox;
  let daemon: Running;
  let gateway = '';
  let provider = '';
  let consoleUrl = '';
  let urlFile = '';
  let browser: ConsolePage | undefined;

  before(async () => {
    await assertBrowserReady();
    box = await Sandbox.create();
    const key = await box.run('keys', 'add', 'operator');
    assert.equal(key.code, 0, key.stderr);
    const config = await box.file(
      'provider.yaml',
      [
        'provider: {key: operator}',
        'listen: {host: 127.0.0.1, port: 0, tls: false}',
        'store: {kind: sqlite, path: data/provider.db}',
        'pools: [{name: edge, addresses: [198.51.100.0/30]}]',
        `tenants: [{address: ${alice.address}, pubkey: "${alice.pubkey}"}]`,
        'console: {sampleMs: 300}',
      ].join('\n'),
    );
    daemon = await box.spawn(['provider', 'run', '--config', config, '--console-port', '0'], (out) =>
      out.includes('"msg":"ready"'),
    );
    const listening = logLine(daemon.stdout, 'listening');
    gateway = String(listening?.url);
    provider = String(listening?.provider);
    urlFile = String(logLine(daemon.stdout, 'console')?.urlFile);
    assert.equal(urlFile, join(box.home, 'data/provider.db.console-url'));
    consoleUrl = (await readFile(urlFile, 'utf8')).trim();
  });
  after(async () => {
    const errors = [...(browser?.pageErrors ?? [])];
    await browser?.close();
    await daemon?.stop('SIGTERM');
    await box?.dispose();
    assert.deepEqual(errors, [], 'the page threw');
  });

  it('writes its URL for the operator alone, and logs no token', async () => {
    assert.match(consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
    assert.equal((await stat(urlFile)).mode & 0o777, 0o600);
    const token = new URL(consoleUrl).searchParams.get('token') ?? '';
    assert.equal(daemon.stdout.includes(token), false, 'the token is not in the log');
    assert.equal(daemon.stderr.includes(token), false, 'the token is not on stderr');
  });

  it('opens nothing to tenants or other sites', async () => {
    const base = new URL(consoleUrl).origin;
    const token = new URL(consoleUrl).searchParams.get('token') ?? '';
    const jwt = tokenOf(alice, Date.now());
    const bare = await fetch(`${base}/api/providers`);
    assert.equal(bare.status, 403);
    assert.equal(((await bare.json()) as { code: string }).code, 'FORBIDDEN');
    const tenant = await fetch(`${base}/api/providers`, { headers: { authorization: `Bearer ${jwt}` } });
    assert.equal(tenant.status, 403, "a tenant's JWT opens nothing");
    const crossSite = await fetch(`${base}/api/providers`, {
      headers: { 'x-akash-ip-token': token, origin: 'http://attacker.example' },
    });
    assert.equal(crossSite.status, 403);
    const owned = await fetch(`${base}/api/providers`, { headers: { 'x-akash-ip-token': token } });
    assert.equal(owned.status, 200);
    // the gateway tenants reach has no console route, for a tenant's JWT either
    const viaGateway = await fetch(`${gateway}/api/providers`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    assert.equal(viaGateway.status, 404);
  });

  it('shows the provider view alone and charts its pool filling up', async () => {
    browser = await openConsolePage(consoleUrl);
    const { page } = browser;
    await page.waitForSelector('main[data-ready="provider"]');
    assert.deepEqual(await page.locator('a[data-view]').allTextContents(), ['Provider']);
    assert.match((await page.locator('#who').textContent()) ?? '', new RegExp(provider));
    const card = page.locator(`article[data-provider="${provider}"]`);
    const summary = card.locator('.summary');
    await summary.waitFor();
    assert.equal(await summary.getAttribute('data-capacity'), '4');
    assert.equal(await summary.getAttribute('data-allocated'), '0');

    // four tenants' leases, one endpoint each, through the gateway as a tenant sends them
    const auth = { authorization: `Bearer ${tokenOf(alice, Date.now())}` };
    for (const [index, name] of ['e1', 'e2', 'e3', 'e4'].entries()) {
      const sdl = ipSdl(name);
      const dseq = String(100 + index);
      const registered = await fetch(`${gateway}/leases`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(leaseRegistration(alice, dseq, sdl)),
      });
      assert.equal(registered.status, 200, await registered.text());
      const sent = await fetch(`${gateway}/deployment/${dseq}/manifest`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(sdl.manifest),
      });
      assert.equal(sent.status, 200, await sent.text());
    }
    await page.waitForFunction(
      (address) =>
        document
          .querySelector(`article[data-provider="${address}"] .summary`)
          ?.getAttribute('data-allocated') === '4',
      provider,
    );
    assert.equal(await card.locator('polygon[data-series="allocated"]').count(), 1);
    assert.match(
      (await card.locator('svg').getAttribute('aria-label')) ?? '',
      /: 4 allocated, 0 reserved, 0 quarantined of 4$/,
    );
    assert.match((await card.locator('table').first().textContent()) ?? '', /edge\s*v4\s*4\s*4\s*0\s*0\s*0/);

    // who holds each address, and the audit trail behind it; this provider bids on no ledger. The view samples
    // every 300 ms: the focus on a summary outlives two redraws, so Enter reaches it.
    const auditSummary = card.locator('details summary').first();
    await auditSummary.focus();
    await page.evaluate(
      () =>
        new Promise<void>((redrawn) => {
          let redraws = 0;
          const watch = new MutationObserver(() => {
            if (++redraws < 2) return;
            watch.disconnect();
            redrawn();
          });
          watch.observe(document.querySelector('#providers') ?? document.body, {
            childList: true,
            subtree: true,
          });
        }),
    );
    assert.equal(
      await auditSummary.evaluate((element) => element === document.activeElement),
      true,
      'the summary keeps the keyboard focus across redraws',
    );
    await auditSummary.press('Enter');
    const box = card.locator('.audit-box');
    const holders = box.locator('table').first();
    await holders.waitFor();
    assert.equal(await holders.locator('tbody tr').count(), 4);
    assert.match((await holders.textContent()) ?? '', /198\.51\.100\.\d\s*10[0-3]\/1\/1 akash1/);
    assert.match((await box.locator('table').nth(1).textContent()) ?? '', /allocate/);
    assert.match((await box.locator('#no-decisions').textContent()) ?? '', /No bid decision yet/);
    await browser.shot('daemon-provider-full');
    assert.deepEqual(await browser.contrastFailures(), []);
    await browser.phone('daemon-provider-phone');
    // Addresses differ in width (an `m` is wider than an `i`), and this view names its provider by its address:
    // the widest one a provider could have must wrap on a phone too.
    const widest = `akash1${'m'.repeat(provider.length - 'akash1'.length)}`;
    // The chart's caption is redrawn every sample: the swap is made again on each redraw, before the page is
    // laid out for the measure. (A string: tsx names the page's functions with a helper the page does not have.)
    await page.evaluate(`{
      const address = ${JSON.stringify(provider)};
      const wide = ${JSON.stringify(widest)};
      const swap = () => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
          if (node.nodeValue.includes(address)) node.nodeValue = node.nodeValue.split(address).join(wide);
        }
      };
      swap();
      new MutationObserver(swap).observe(document.body, { childList: true, subtree: true });
    }`);
    await browser.phone('daemon-provider-phone-widest-address');
  });

  it('takes its URL file away when it stops: the token dies with the run', async () => {
    assert.equal(await daemon.stop('SIGTERM'), 0);
    assert.equal(existsSync(urlFile), false);
  });
});
