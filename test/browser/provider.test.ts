/// <reference lib="dom" />
// (functions passed to waitForFunction and evaluate run in the page)
/**
 * The provider view in a real browser: the pools' chart fills up as deployments take a provider's addresses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipSdl } from '../e2e/harness.js';
import { useRig } from './browser.js';

describe('provider console in Chromium', () => {
  const rigOf = useRig();

  it('charts a pool filling up', async () => {
    const rig = rigOf();
    await rig.openView('provider');
    const summary = rig.page.locator('article[data-provider="provider-2"] .summary');
    await summary.waitFor();
    assert.equal(await summary.getAttribute('data-capacity'), '4');
    for (const name of ['e1', 'e2', 'e3', 'e4']) {
      const file = await rig.box.file(`${name}.yaml`, ipSdl({ endpoints: [name] }));
      const deployed = await rig.box.run('deploy', file, '--provider', 'provider-2');
      assert.equal(deployed.code, 0, deployed.stderr);
    }
    await rig.page.waitForFunction(
      () =>
        document
          .querySelector('article[data-provider="provider-2"] .summary')
          ?.getAttribute('data-allocated') === '4',
    );
    const areas = rig.page.locator('article[data-provider="provider-2"] polygon[data-series="allocated"]');
    assert.equal(await areas.count(), 1);
    assert.match(
      (await rig.page.locator('article[data-provider="provider-2"] svg').getAttribute('aria-label')) ?? '',
      /provider-2: 4 allocated, 0 reserved, 0 quarantined of 4/,
    );
    // who holds each address, from the provider's audit trail
    await rig.page.locator('article[data-provider="provider-2"] details summary').first().click();
    const box = rig.page.locator('article[data-provider="provider-2"] .audit-box');
    await box.locator('table').first().waitFor();
    assert.match(
      (await box.locator('table').first().textContent()) ?? '',
      /\d+\/1\/1\s*bid\s*[\d.]+ uakt\/block/,
    );
    const holders = box.locator('table').nth(1);
    await holders.waitFor();
    assert.equal(await holders.locator('tbody tr').count(), 4);
    assert.match((await holders.textContent()) ?? '', /198\.51\.100\.1\s*\d+\/1\/1 akash1/);
    await rig.shot('provider-full');
    assert.deepEqual(await rig.contrastFailures(), []);
    await rig.phone('provider-phone');
  });
});
