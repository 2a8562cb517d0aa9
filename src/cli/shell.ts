/**
 * The `akash-ip` program around a set of command modules: the top-level command and its global options, help that
 * marks required options, usage errors in one line. The whole CLI runs it with every module (program.ts); the
 * quick SDL entry (sdl-main.ts) with the SDL commands alone.
 */
import { Command, CommanderError, Help, type Option } from '@commander-js/extra-typings';
import { EXIT } from '../errors/index.js';
import { commandWord } from './argv.js';
import { addGlobalOptions } from './commands/common.js';
import type { CliIo } from './io.js';

type Register = (program: Command, io: CliIo, exit: { code: number }) => void;

/** A command module: the top-level commands it registers, and its registration, imported on demand. */
export interface CommandModule {
  readonly commands: readonly string[];
  readonly load: () => Promise<Register>;
}

/** Commander's internals this module relies on (commander is pinned to ~14.0). */
interface CommandInternals {
  _checkForMissingMandatoryOptions(): void;
}

/** A command and all its subcommands, depth first. */
function* commandTree(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands as Command[]) yield* commandTree(sub);
}

/** `akash-ip lease-status`: the words that run `command`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent as Command | null)
    names.unshift(at.name());
  return names.join(' ');
}

/** Help that marks required options, after commander's own notes such as the choices. */
const HELP = {
  optionDescription(this: Help, option: Option): string {
    const text = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `${text} (required)` : text;
  },
};

/**
 * Usage errors the way people expect them: one line saying what is wrong (a misspelt option before a missing one,
 * with the nearest flag), the command's one-line usage with its required options, and where the full help is.
 */
function shapeUsageErrors(program: Command): void {
  for (const command of commandTree(program)) {
    const required = command.options.filter((option) => option.mandatory).map((option) => option.flags);
    if (required.length > 0) command.usage(`${required.join(' ')} ${command.usage()}`);
    command.showHelpAfterError(
      `usage: ${command.createHelp().commandUsage(command)}\nsee \`${commandPath(command)} --help\``,
    );
    // Commander checks required options before unknown ones, so `--dsq 3` would be reported as a missing
    // `--dseq`; the check runs instead once the options and arguments are known to be well formed.
    (command as unknown as CommandInternals)._checkForMissingMandatoryOptions = () => undefined;
  }
  const checkRequired = Command.prototype as unknown as CommandInternals;
  program.hook('preAction', (_program, action) => {
    checkRequired._checkForMissingMandatoryOptions.call(action);
  });
}

/**
 * Builds the `akash-ip` command tree for `argv` from `modules`: the module of the command `argv` names, or all of
 * them (help, an unknown command). Each command records its exit code in `exit.code`.
 */
async function buildProgram(
  argv: readonly string[],
  io: CliIo,
  exit: { code: number },
  modules: readonly CommandModule[],
): Promise<Command> {
  const program = new Command('akash-ip')
    .description('Dedicated IP leases for Akash deployments: SDL engine, provider IP operator and tenant CLI')
    .version('0.1.0')
    .exitOverride()
    .configureHelp(HELP)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // commander puts its suggestion on a line of its own: `(Did you mean --dseq?)`
      outputError: (text, write) => write(text.replace(/\n\(Did you mean (.+)\)\n$/, ' (did you mean $1)\n')),
    });
  addGlobalOptions(program);
  const word = commandWord(argv);
  const named = modules.filter((module) => word !== undefined && module.commands.includes(word));
  const registers = await Promise.all((named.length > 0 ? named : modules).map((module) => module.load()));
  for (const register of registers) register(program, io, exit);
  shapeUsageErrors(program);
  return program;
}

/** Runs `modules`' commands with `argv` (without node and script) and resolves to the process exit code. */
export async function runCommands(
  argv: readonly string[],
  io: CliIo,
  modules: readonly CommandModule[],
): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = await buildProgram(argv, io, exit, modules);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return exit.code;
}
