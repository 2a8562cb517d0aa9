import type { Command } from '@commander-js/extra-typings';
import type { CliIo } from '../io.js';

/** Registers `akash-ip sdl …`. */
export function registerSdlCommands(program: Command, _io: CliIo, _exit: { code: number }): void {
  program.command('sdl').description('Validate and compile Akash SDL files');
}
