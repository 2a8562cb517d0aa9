#!/usr/bin/env node
import { syncStdout } from './io.js';
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: syncStdout(),
  // Node builds process.stderr and process.stdin on first use (a stream over the file, pipe or terminal, a few
  // milliseconds each): only a run that writes to stderr, or reads stdin (`sdl … -`), pays for it.
  get stderr() {
    return process.stderr;
  },
  get stdin() {
    return process.stdin;
  },
});
