/**
 * Browser-test harness: a devnet and `akash-ip console` from the built CLI (test/e2e/harness.ts), and Debian's
 * Chromium driven by playwright-core with a fresh profile. Missing Chromium fails the tests (never skips them),
 * naming the install command. Screenshots go to .cache/test-output/console/ (git-ignored).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type Running, Sandbox } from '../e2e/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = resolve('.cache/test-output/console');
/** Longest wait for anything the page shows; each wait is on a condition, never a fixed sleep. */
const WAIT_MS = 45_000;

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Runs in the page: for every visible element with its own text, the WCAG contrast of its colour against the
 * first opaque background behind it (walking up the tree), against AA's 4.5:1, or 3:1 for large text (24 px, or
 * 18.66 px bold). Disabled controls are exempt, as WCAG allows. Returns one line per failure.
 */
const CONTRAST_CHECK = `(() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgb(getComputedStyle(at).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own || el.closest('[disabled], svg, dialog:not([open])') || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) out.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2) + ':1');
  }
  return out;
})()`;

/** Debian's Chromium on a console page, with the checks every console test makes. */
export interface ConsolePage {
  readonly page: Page;
  /** Uncaught errors in the page so far. */
  readonly pageErrors: readonly string[];
  shot(name: string): Promise<void>;
  openView(view: 'deploy' | 'leases' | 'provider'): Promise<void>;
  /** Text on the page whose contrast with its background is under WCAG AA (4.5:1, or 3:1 for large text). */
  contrastFailures(): Promise<string[]>;
  /** Screenshots the page 390 px wide (a phone) and fails if it scrolls sideways there. */
  phone(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A devnet, its console and a browser page on it. */
export interface ConsoleRig extends ConsolePage {
  readonly box: Sandbox;
  /** The URL the console printed, token included. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  /** Replaces the editor's text as a person pasting it would. */
  setSdl(text: string): Promise<void>;
  dispose(): Promise<void>;
}

/** Checks that Chromium and the built page are there, naming what installs each. */
export async function assertBrowserReady(): Promise<void> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's Chromium with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`,
  );
  assert.ok(
    existsSync('dist/console/app.js'),
    'dist/console is missing: run `npm run build` first (npm test does)',
  );
  await mkdir(SHOTS, { recursive: true });
}

/** Opens `url` (a console's, token included) in Chromium with a fresh profile, once the page is ready. */
export async function openConsolePage(url: string): Promise<ConsolePage> {
  const profile = await mkdtemp(join(tmpdir(), 'akash-ip-chromium-'));
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(WAIT_MS);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('main[data-ready]');
    return {
      page,
      pageErrors,
      async shot(name) {
        await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      },
      async openView(view) {
        await page.click(`a[data-view="${view}"]`);
        await page.waitForSelector(`main[data-ready="${view}"]`);
      },
      contrastFailures: () => page.evaluate(CONTRAST_CHECK) as Promise<string[]>,
      async phone(name) {
        await page.setViewportSize({ width: 390, height: 844 });
        try {
          await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
          const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
          assert.ok(Number(overflow) <= 0, `the page scrolls sideways by ${overflow}px at 390 px`);
        } finally {
          await page.setViewportSize({ width: 1280, height: 800 });
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The SDL status is rewritten by the lint that runs 150 ms after the last edit. This notes, in the page, when the
 * editor last took a keystroke or input and when the status was last rewritten, so `setSdl` can wait for a rewrite
 * after its own edit: what a test reads next is about the new text, not the previous text's status. (A string:
 * tsx names the page's functions with a helper the page does not have.)
 */
const WATCH_SDL_STATUS = `{
  const watch = (window.sdlWatch ??= { lastEdit: 0, lastRewrite: 0 });
  watch.lastEdit = 0;
  const content = document.querySelector('.cm-content');
  const status = document.querySelector('#sdl-status');
  if (!content.sdlWatched) {
    content.sdlWatched = true;
    for (const type of ['keydown', 'beforeinput', 'input']) {
      content.addEventListener(type, () => { watch.lastEdit = performance.now(); }, true);
    }
  }
  if (!status.sdlWatched) {
    status.sdlWatched = true;
    new MutationObserver(() => { watch.lastRewrite = performance.now(); }).observe(status, { childList: true });
  }
}`;

export async function startRig(sampleMs = 300): Promise<ConsoleRig> {
  await assertBrowserReady();
  const box = await Sandbox.create();
  let consoleProcess: Running | undefined;
  let browser: ConsolePage | undefined;
  const dispose = async () => {
    await browser?.close();
    await consoleProcess?.stop();
    await box.dispose();
  };
  try {
    await box.devnet();
    consoleProcess = await box.spawn(['console', '--sample-ms', String(sampleMs)], (out) =>
      /console\s+http:\/\/\S+/.test(out),
    );
    const url = /console\s+(http:\/\/\S+)/.exec(consoleProcess.stdout)?.[1] ?? '';
    browser = await openConsolePage(url);
    const { page } = browser;
    return {
      ...browser,
      box,
      url,
      base: new URL(url).origin,
      async setSdl(text) {
        await page.evaluate(WATCH_SDL_STATUS);
        await page.locator('.cm-content').click();
        await page.keyboard.press('Control+a');
        await page.keyboard.press('Delete');
        await page.keyboard.insertText(text);
        await page.waitForFunction(
          () => {
            const { sdlWatch } = window as unknown as { sdlWatch: { lastEdit: number; lastRewrite: number } };
            // an edit never seen would leave lastEdit at 0: then this waits out its time and fails
            return sdlWatch.lastEdit > 0 && sdlWatch.lastRewrite > sdlWatch.lastEdit;
          },
          undefined,
          { timeout: WAIT_MS },
        );
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Registers the file's `before` and `after`: one rig for the whole file, disposed at its end, where the
 * page must not have thrown. Returns the rig's getter (set once `before` has run).
 */
export function useRig(): () => ConsoleRig {
  let rig: ConsoleRig | undefined;
  before(async () => {
    rig = await startRig();
  });
  after(async () => {
    const errors = [...(rig?.pageErrors ?? [])];
    await rig?.dispose();
    assert.deepEqual(errors, [], 'the page threw');
  });
  return () => {
    assert.ok(rig !== undefined, 'the rig did not start');
    return rig;
  };
}
