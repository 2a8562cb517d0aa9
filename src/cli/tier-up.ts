/** V8's tier-up for the short SDL commands: the SDL command module and the launcher (before the code cache) set it. */
import { setFlagsFromString } from 'node:v8';

/**
 * An SDL command is over in tens of milliseconds. Partway through, V8 would start optimizing the engine's hot
 * functions on background threads: work that is rarely ready before the command ends, that competes with it for
 * the CPU, and that Node waits for before the process exits (a 200-service manifest took 15-50 ms longer, wall
 * time, for it). Raising V8's tier-up budget from 67 584 to a million bytes of bytecode per tick leaves ordinary
 * SDLs in the interpreter and baseline code; a large one (a megabyte) runs long enough to be optimized still.
 * Only these commands do it: the long-running ones (`start`, `provider run`, …) keep V8's default. The launcher
 * sets it before it compiles the SDL commands' bundle: V8 accepts a code cache only under the flags it was made
 * with, and the cache is made at the end of a run, after the command has set it.
 */
export function tierUpLater(): void {
  setFlagsFromString('--interrupt-budget=1000000');
}
