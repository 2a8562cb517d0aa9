/**
 * Web console: the bundle's gzipped size, and the first load of the page on loopback in Chromium (navigation
 * until the Deploy view is drawn: page, bundle, session, examples, providers and deployments fetched, the SDL
 * checked by the engine in the page), against a devnet. Needs `npm run build` and Debian's Chromium.
 * Budgets: app.js ≤ 260 KB gzipped (test/browser/budget.test.ts keeps it), first load median ≤ 1500 ms.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { startRig } from '../test/browser/browser.js';
import { median, quantile, type Suite, timeRuns } from './harness.js';

const LOADS = 15;

const suite: Suite = async (report) => {
  for (const [name, file] of [
    ['console.app.js.gzip', 'dist/console/app.js'],
    ['console.app.css.gzip', 'dist/console/app.css'],
  ] as const) {
    report({ name, value: gzipSync(readFileSync(file), { level: 9 }).length / 1024, unit: 'KiB' });
  }
  const rig = await startRig();
  try {
    const times = await timeRuns(LOADS, async () => {
      await rig.page.goto(`${rig.base}/`);
      await rig.page.waitForSelector('main[data-ready="deploy"] #sdl-status .note');
    });
    report({ name: 'console.first-load.median', value: median(times), unit: 'ms' });
    report({ name: 'console.first-load.p90', value: quantile(times, 0.9), unit: 'ms' });
  } finally {
    await rig.dispose();
  }
};
export default suite;
