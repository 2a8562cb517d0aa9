/** The whole CLI: every command module, loaded on demand. */
import { SDL_COMMAND } from './argv.js';
import type { CliIo } from './io.js';
import { type CommandModule, runCommands } from './shell.js';

/**
 * Every command module, in help order. A run imports only the module of the command it names (`--help`, an
 * unknown command or none imports them all), and a module imports what its actions need only when they run
 * (see commands/common.ts). Adding a command is one entry here.
 */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { commands: [SDL_COMMAND], load: async () => (await import('./commands/sdl.js')).registerSdlCommands },
  { commands: ['keys'], load: async () => (await import('./commands/keys.js')).registerKeysCommands },
  {
    commands: ['devnet', 'fund'],
    load: async () => (await import('./commands/devnet.js')).registerDevnetCommands,
  },
  { commands: ['start'], load: async () => (await import('./commands/start.js')).registerStartCommand },
  { commands: ['console'], load: async () => (await import('./commands/console.js')).registerConsoleCommand },
  {
    commands: ['deploy', 'update', 'lease-status', 'migrate-endpoints', 'close', 'bids', 'leases'],
    load: async () => (await import('./commands/tenant.js')).registerTenantCommands,
  },
  {
    commands: ['send-manifest', 'get-manifest', 'service-status', 'cert'],
    load: async () => (await import('./commands/gateway.js')).registerGatewayCommands,
  },
  {
    commands: ['provider'],
    load: async () => (await import('./commands/provider-pool.js')).registerProviderPoolCommand,
  },
  {
    commands: ['provider'],
    load: async () => (await import('./commands/provider-run.js')).registerProviderRunCommand,
  },
  {
    commands: ['operator'],
    load: async () => (await import('./commands/operator.js')).registerOperatorCommand,
  },
];

/** Runs the CLI with `argv` (without node and script) and resolves to the process exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommands(argv, io, COMMAND_MODULES);
}
