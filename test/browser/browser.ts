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

/** A devnet, its console and a browser page on it. */
export interface ConsoleRig {
  readonly box: Sandbox;
  /** The URL the console printed, token included. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly base: string;
  readonly page: Page;
  /** Uncaught errors in the page so far. */
  readonly pageErrors: readonly string[];
  shot(name: string): Promise<void>;
  /** Replaces the editor's text as a person pasting it would. */
  setSdl(text: string): Promise<void>;
  openView(view: 'deploy' | 'leases' | 'provider'): Promise<void>;
  /** Screenshots the page 390 px wide (a phone) and fails if it scrolls sideways there. */
  phone(name: string): Promise<void>;
  dispose(): Promise<void>;
}

export async function startRig(sampleMs = 300): Promise<ConsoleRig> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: install Debian's Chromium with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`,
  );
  assert.ok(
    existsSync('dist/console/app.js'),
    'dist/console is missing: run `npm run build` first (npm test does)',
  );
  await mkdir(SHOTS, { recursive: true });
  const box = await Sandbox.create();
  let consoleProcess: Running | undefined;
  let context: BrowserContext | undefined;
  const profile = await mkdtemp(join(tmpdir(), 'akash-ip-chromium-'));
  const dispose = async () => {
    await context?.close();
    await consoleProcess?.stop();
    await box.dispose();
    await rm(profile, { recursive: true, force: true });
  };
  try {
    await box.devnet();
    consoleProcess = await box.spawn(['console', '--sample-ms', String(sampleMs)], (out) =>
      /console\s+http:\/\/\S+/.test(out),
    );
    const url = /console\s+(http:\/\/\S+)/.exec(consoleProcess.stdout)?.[1] ?? '';
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
      box,
      url,
      base: new URL(url).origin,
      page,
      pageErrors,
      async shot(name) {
        await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      },
      async setSdl(text) {
        await page.locator('.cm-content').click();
        await page.keyboard.press('Control+a');
        await page.keyboard.press('Delete');
        await page.keyboard.insertText(text);
      },
      async openView(view) {
        await page.click(`a[data-view="${view}"]`);
        await page.waitForSelector(`main[data-ready="${view}"]`);
      },
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
