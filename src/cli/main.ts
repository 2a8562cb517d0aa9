#!/usr/bin/env node
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // Node builds process.stdin on first use (a stream over the file, pipe or terminal, a few milliseconds): only
  // the commands that read it (`sdl … -`, `provider run --stop-with-stdin`) pay for it.
  get stdin() {
    return process.stdin;
  },
});
