/**
 * The SDL commands alone: `npm run build` bundles this into one CommonJS file (dist/src/cli/sdl.cjs), which the
 * launcher (launch.ts) runs with V8's code cache for `akash-ip sdl …`. Same program, same commands, same output
 * as the whole CLI; it only leaves out the other commands' code.
 */
import { SDL_COMMAND } from './argv.js';
import { registerSdlCommands } from './commands/sdl.js';
import { processIo } from './io.js';
import { runCommands } from './shell.js';

void runCommands(process.argv.slice(2), processIo(), [
  { commands: [SDL_COMMAND], load: async () => registerSdlCommands },
]).then((code) => {
  process.exitCode = code;
});
