/// <reference lib="dom" />
// (functions passed to waitForFunction and evaluate run in the page)
/**
 * The tenant's console in a real browser (Debian's Chromium, playwright-core) against a real devnet and the
 * built CLI: the token, host and origin checks, SDL errors marked while typing exactly as `sdl validate`
 * reports them, the AEP-17 walk-through entirely in the page, a refused update, and an update that releases an
 * IP only once the person has confirmed which.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, type DeploymentJson, EXAMPLE_SDL, ipSdl } from '../e2e/harness.js';
import { useRig } from './browser.js';

/** A valid SDL with two placement groups, which no update of a one-group deployment can take. */
const TWO_GROUPS = ipSdl({ worker: true });

describe('tenant console in Chromium', () => {
  const rigOf = useRig();

  it('refuses requests without the token, from another host name or from another origin (403)', async () => {
    const rig = rigOf();
    const bare = await fetch(`${rig.base}/api/session`);
    assert.equal(bare.status, 403);
    assert.equal(((await bare.json()) as { code: string }).code, 'FORBIDDEN');
    const token = new URL(rig.url).searchParams.get('token') ?? '';
    const withToken = await fetch(`${rig.base}/api/session`, { headers: { 'x-akash-ip-token': token } });
    assert.equal(withToken.status, 200);
    const page403 = await fetch(`${rig.base}/`);
    assert.equal(page403.status, 403);
    // fetch() will not send a foreign Host header; a raw request does, as a DNS-rebound page's would
    const rebound = await new Promise<number>((done, reject) => {
      const { hostname, port } = new URL(rig.base);
      request(
        {
          hostname,
          port,
          path: '/api/session',
          headers: { 'x-akash-ip-token': token, host: `attacker.example:${port}` },
        },
        (response) => {
          response.resume();
          done(response.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(rebound, 403);
    const crossSite = await fetch(`${rig.base}/api/close`, {
      method: 'POST',
      headers: {
        'x-akash-ip-token': token,
        origin: 'http://attacker.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ dseq: '1' }),
    });
    assert.equal(crossSite.status, 403);
  });

  it('marks SDL errors while typing, with the positions, codes and messages of `sdl validate`', async () => {
    const rig = rigOf();
    await rig.page.goto(rig.url);
    await rig.page.waitForSelector('main[data-ready="deploy"]');
    assert.equal(new URL(rig.page.url()).searchParams.get('token'), null, 'the token leaves the address bar');
    await rig.page.waitForSelector('#sdl-status .note.ok');
    const broken = (await readFile(EXAMPLE_SDL, 'utf8')).replace('ip: myendpoint', 'ip: myendpont');
    await rig.setSdl(broken);
    await rig.page.waitForSelector('.cm-lintRange-error');
    await rig.page.waitForSelector('#diagnostics li.error');
    assert.equal(await rig.page.locator('#deploy').isDisabled(), true, 'a broken SDL cannot be deployed');
    const shown = (await rig.page.locator('#diagnostics li').allTextContents()).map((text) => text.trim());
    await writeFile(join(rig.box.home, 'sdl.yaml'), broken);
    const cli = await new Promise<string>((done) =>
      execFile(
        process.execPath,
        [CLI, 'sdl', 'validate', 'sdl.yaml'],
        { cwd: rig.box.home },
        (_error, _out, err) => done(err),
      ),
    );
    assert.deepEqual(shown, cli.trim().split('\n'));
    assert.match(shown.join('\n'), /^sdl\.yaml:\d+:\d+: SDL_ENDPOINT_UNDECLARED: /m);
    await rig.page.locator('#diagnostics button').first().click();
    await rig.shot('sdl-errors');
    assert.deepEqual(await rig.contrastFailures(), []);
    await rig.phone('sdl-errors-phone');

    // a problem in the list takes the cursor to its place; typing the missing letter clears the marks
    await rig.page.locator('#diagnostics button[data-code="SDL_ENDPOINT_UNDECLARED"]').press('Enter');
    await rig.page.keyboard.press('End');
    await rig.page.keyboard.press('ArrowLeft');
    await rig.page.keyboard.press('ArrowLeft');
    await rig.page.keyboard.type('i');
    await rig.page.waitForSelector('#sdl-status .note.ok');
    assert.equal(await rig.page.locator('.cm-lintRange-error').count(), 0);
    assert.equal(await rig.page.locator('#deploy').isDisabled(), false);
    // the editor never traps the keyboard: Tab leaves it
    await rig.page.keyboard.press('Tab');
    assert.equal(await rig.page.evaluate(() => document.activeElement?.closest('.cm-editor') === null), true);
  });

  let firstDseq = '';
  let secondDseq = '';
  let ip = '';

  it('walks AEP-17 in the page: deploy, a second deployment withheld, migrate with a preview, close the first, the IP stays', async () => {
    const rig = rigOf();
    await rig.openView('deploy');
    await rig.page.selectOption('#example', 'ip-lease');
    await rig.page.waitForSelector('#sdl-status .note.ok');
    await rig.page.check('input[name=pick][value=provider]');
    await rig.page.selectOption('#pick-provider', { label: 'provider-1' });
    await rig.page.click('#deploy');
    const first = rig.page.locator('#outcome article.card');
    await first.waitFor();
    firstDseq = (await first.getAttribute('data-dseq')) ?? '';
    ip = (await first.locator('.ip').first().textContent()) ?? '';
    assert.match(ip, /^203\.0\.113\.\d+$/);
    assert.match(
      (await rig.page.locator('#refusals').textContent()) ?? '',
      /provider-3 will not bid: .*ip-lease=true/,
    );
    await rig.shot('deploy-first');

    // the second one: bids arrive, the person picks provider-1's
    await rig.page.check('input[name=pick][value=ask]');
    await rig.page.click('#deploy');
    const take = rig.page.locator('#bid-table tr[data-provider="provider-1"] button');
    await take.waitFor();
    assert.match((await rig.page.locator('#bid-table').textContent()) ?? '', /uakt\/block.*AKT\/month/s);
    await rig.shot('deploy-bids');
    assert.deepEqual(await rig.contrastFailures(), []);
    await take.press('Enter');
    const second = rig.page.locator('#outcome article.card');
    await second.locator('.badge.withheld').waitFor();
    secondDseq = (await second.getAttribute('data-dseq')) ?? '';
    assert.notEqual(secondDseq, firstDseq);
    assert.match((await second.textContent()) ?? '', new RegExp(`held by deployment ${firstDseq}\\b`));
    await rig.shot('deploy-withheld');

    // the fix: migrate, previewed first
    await rig.openView('leases');
    const card = rig.page.locator(`article[data-dseq="${secondDseq}"]`);
    await card.locator('button[data-fix="myendpoint"]').click();
    const dialog = rig.page.locator('dialog[open]');
    await dialog.waitFor();
    const preview = (await dialog.textContent()) ?? '';
    assert.match(preview, /Dry run: nothing has moved yet/);
    assert.match(
      preview,
      new RegExp(`myendpoint.*${firstDseq}/1/1.*${secondDseq}/1/1.*${ip.replaceAll('.', '\\.')}`, 's'),
    );
    await rig.shot('migrate-preview');
    await dialog.getByRole('button', { name: 'Move it' }).click();
    await rig.page.locator(`article[data-dseq="${secondDseq}"] tbody .badge.active`).waitFor();

    // close the first: it no longer holds the IP, so none is released
    const old = rig.page.locator(`article[data-dseq="${firstDseq}"]`);
    await old.locator(`button[data-close="${firstDseq}"]`).click();
    const confirm = rig.page.locator('dialog[open]');
    await confirm.waitFor();
    assert.match((await confirm.textContent()) ?? '', /holds no IP: no address is released/);
    await confirm.getByRole('button', { name: 'Close it' }).click();
    await rig.page.waitForFunction(
      (dseq) =>
        document.getElementById('leases-status')?.textContent === `deployment ${dseq} closed; no IP released`,
      firstDseq,
    );
    await rig.page.waitForFunction(
      (dseq) => document.querySelector(`article[data-dseq="${dseq}"] h3 .badge.closed`) !== null,
      firstDseq,
    );
    const kept = rig.page.locator(`article[data-dseq="${secondDseq}"]`);
    assert.equal(await kept.locator('.ip').first().textContent(), ip);
    assert.equal(await kept.locator('tbody .badge').first().textContent(), 'active');
    assert.match((await kept.textContent()) ?? '', /AKASH_LEASED_IP_MYENDPOINT=203\.0\.113\.\d+/);
    await rig.shot('leases-after-close');
    assert.deepEqual(await rig.contrastFailures(), []);

    // keyboard only: Enter opens the confirmation with the focus inside it, Escape backs out
    await kept.locator(`button[data-close="${secondDseq}"]`).focus();
    await rig.page.keyboard.press('Enter');
    await rig.page.locator('dialog[open]').waitFor();
    assert.equal(await rig.page.evaluate(() => document.activeElement?.closest('dialog') !== null), true);
    assert.match(
      (await rig.page.locator('dialog[open] #released').textContent()) ?? '',
      new RegExp(ip.replaceAll('.', '\\.')),
    );
    await rig.page.keyboard.press('Escape');
    await rig.page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal(await kept.locator('tbody .badge').first().textContent(), 'active');

    // the same, as the CLI sees it
    const status = await rig.box.json<DeploymentJson>('lease-status', '--dseq', secondDseq);
    assert.equal(status.leases[0]?.endpoints.myendpoint?.addresses[0], ip);

    await rig.phone('leases-phone');
  });

  it('refuses an update the deployment cannot take, before anything changes', async () => {
    const rig = rigOf();
    const before = await rig.box.json<{ hash: string }>('lease-status', '--dseq', secondDseq);
    await rig.openView('deploy');
    await rig.setSdl(TWO_GROUPS);
    await rig.page.waitForSelector('#sdl-status .note.ok');
    await rig.page.selectOption('#update-dseq', secondDseq);
    await rig.page.click('#update');
    const refusal = rig.page.locator('#update-refusal');
    await refusal.waitFor();
    assert.match(
      (await refusal.textContent()) ?? '',
      /MANIFEST_MISMATCH: deployment \d+ has 1 group\(s\) and the SDL 2/,
    );
    await rig.shot('update-refused');
    const after = await rig.box.json<{ hash: string }>('lease-status', '--dseq', secondDseq);
    assert.equal(after.hash, before.hash, 'the ledger kept the version');

    // a broken SDL is refused in the page: the button cannot send it
    await rig.setSdl(TWO_GROUPS.replace('count: 1', 'count: many'));
    await rig.page.waitForSelector('#diagnostics li.error');
    assert.equal(await rig.page.locator('#update').isDisabled(), true);
  });

  it('asks before an update releases an IP, naming it; cancel sends nothing, confirm releases exactly it', async () => {
    const rig = rigOf();
    const v1 = await rig.box.file('gate.yaml', ipSdl({ endpoints: ['gate'] }));
    const deployed = await rig.box.json<DeploymentJson>('deploy', v1, '--provider', 'provider-1');
    const dseq = deployed.dseq;
    const ip = deployed.leases[0]?.endpoints.gate?.addresses[0] ?? '';
    assert.match(ip, /^203\.0\.113\.\d+$/);
    const before = await rig.box.json<{ hash: string }>('lease-status', '--dseq', dseq);

    // the deploy view lists deployments as it is built: leave it and come back to see the new one
    await rig.openView('leases');
    await rig.openView('deploy');
    await rig.setSdl(ipSdl({ endpoints: ['door'] }));
    await rig.page.waitForSelector('#sdl-status .note.ok');
    await rig.page.selectOption('#update-dseq', dseq);
    await rig.page.locator('#update').focus();
    await rig.page.keyboard.press('Enter');
    const dialog = rig.page.getByRole('dialog', { name: `Release IPs of deployment ${dseq}?` });
    await dialog.waitFor();
    assert.equal(await rig.page.evaluate(() => document.activeElement?.closest('dialog') !== null), true);
    const listed = rig.page.getByRole('list', { name: 'IPs the update releases' });
    assert.deepEqual(
      (await listed.locator('li').allTextContents()).map((text) => text.trim()),
      [`${ip} (endpoint “gate” of lease ${dseq}/1/1 on provider-1)`],
    );
    await rig.shot('update-confirm');
    assert.deepEqual(await rig.contrastFailures(), []);

    // Escape backs out: nothing was sent, the ledger and the provider are as they were
    await rig.page.keyboard.press('Escape');
    await rig.page.locator('dialog').waitFor({ state: 'detached' });
    assert.equal(
      (await rig.page.locator('#update-outcome').textContent())?.trim(),
      'update cancelled: nothing was sent',
    );
    const unchanged = await rig.box.json<DeploymentJson & { hash: string }>('lease-status', '--dseq', dseq);
    assert.equal(unchanged.hash, before.hash, 'the ledger kept the version');
    assert.equal(unchanged.leases[0]?.endpoints.gate?.addresses[0], ip, 'the provider kept the IP');

    // confirmed with the keyboard alone: the update goes through and gives up exactly that IP
    await rig.page.locator('#update').focus();
    await rig.page.keyboard.press('Enter');
    await dialog.waitFor();
    await rig.page.keyboard.press('Tab');
    assert.equal(
      await rig.page.evaluate(() => document.activeElement?.textContent),
      'Release them and update',
    );
    await rig.page.keyboard.press('Enter');
    await rig.page.locator('#update-outcome .note.ok').waitFor();
    assert.equal(
      (await rig.page.locator('#update-outcome .note.ok').textContent())?.trim(),
      `deployment ${dseq} updated`,
    );
    const after = await rig.box.json<DeploymentJson & { hash: string }>('lease-status', '--dseq', dseq);
    assert.notEqual(after.hash, before.hash);
    assert.equal(after.leases[0]?.endpoints.gate, undefined);
    const door = after.leases[0]?.endpoints.door?.addresses[0] ?? '';
    assert.match(door, /^203\.0\.113\.\d+$/);
    assert.notEqual(door, ip);
    assert.match((await rig.page.locator('#update-outcome article.card').textContent()) ?? '', /door/);
    await rig.shot('update-released');
  });
});
