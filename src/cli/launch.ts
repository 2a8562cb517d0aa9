#!/usr/bin/env node
/**
 * The `akash-ip` executable (dist/src/cli/akash-ip.cjs, a CommonJS bundle: Node starts it without its ES module
 * loader). Most commands run the whole CLI (main.js, ES modules loaded on demand). The SDL commands, which scripts
 * call in loops and where start-up is most of a run, run the bundle of the SDL commands alone (sdl-main.ts) from
 * V8's code cache (code-cache.ts): `npm run bench -- cli` measures both ways.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commandWord, SDL_COMMAND } from './argv.js';
import { runCached } from './code-cache.js';
import { tierUpLater } from './tier-up.js';

if (commandWord(process.argv.slice(2)) === SDL_COMMAND) {
  tierUpLater();
  runCached(join(__dirname, 'sdl.cjs'));
} else {
  void import(pathToFileURL(join(__dirname, 'main.js')).href);
}
