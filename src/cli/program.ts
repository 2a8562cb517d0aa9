import { Command, CommanderError } from '@commander-js/extra-typings';
import { EXIT } from '../errors/index.js';
import { addGlobalOptions } from './commands/common.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerDevnetCommands } from './commands/devnet.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerOperatorCommand } from './commands/operator.js';
import { registerProviderPoolCommand } from './commands/provider-pool.js';
import { registerProviderRunCommand } from './commands/provider-run.js';
import { registerSdlCommands } from './commands/sdl.js';
import { registerStartCommand } from './commands/start.js';
import { registerTenantCommands } from './commands/tenant.js';
import type { CliIo } from './io.js';

/** Builds the `akash-ip` command tree; each command records its exit code in `exit.code`. */
function buildProgram(io: CliIo, exit: { code: number }): Command {
  const program = new Command('akash-ip')
    .description('Dedicated IP leases for Akash deployments: SDL engine, provider IP operator and tenant CLI')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  addGlobalOptions(program);
  registerSdlCommands(program, io, exit);
  registerKeysCommands(program, io, exit);
  registerDevnetCommands(program, io, exit);
  registerStartCommand(program, io, exit);
  registerConsoleCommand(program, io, exit);
  registerTenantCommands(program, io, exit);
  registerProviderPoolCommand(program, io, exit);
  registerProviderRunCommand(program, io, exit);
  registerOperatorCommand(program, io, exit);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(io, exit);
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
