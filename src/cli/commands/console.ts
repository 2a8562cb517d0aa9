/**
 * `akash-ip console`: the web console against a running devnet, until Ctrl-C; and the console `start`
 * serves beside its devnet. The server loads only when one starts, so other commands stay light.
 */
import { type Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { EXIT } from '../../errors/index.js';
import type { Session } from '../../tenant/session.js';
import type { CliIo } from '../io.js';
import { colorsFor, printError } from '../output.js';
import { globalsOf } from './common.js';
import { parsePort, untilSignal } from './devnet.js';

function parseMs(text: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < 100 || value > 600_000) {
    throw new InvalidArgumentError('must be a whole number of milliseconds between 100 and 600000');
  }
  return value;
}

/**
 * Starts the console for `session` and prints its URL (`console  http://127.0.0.1:PORT/?token=…`) on stdout;
 * undefined (with the reason on stderr) when it cannot start, which never stops the devnet.
 */
export async function serveConsole(
  io: CliIo,
  session: Session,
  options: { readonly port?: number; readonly sampleMs?: number } = {},
): Promise<{ close(): Promise<void> } | undefined> {
  const { startConsole } = await import('../../console/index.js');
  const started = await startConsole({ session, ...options });
  if (!started.ok) {
    printError(io, started.error);
    return undefined;
  }
  const colors = colorsFor(io.stdout);
  io.stdout.write(`${colors.cyan('console')}  ${started.value.url}\n`);
  return started.value;
}

/** Registers `akash-ip console`. */
export function registerConsoleCommand(program: Command, io: CliIo, exit: { code: number }): void {
  program
    .command('console')
    .description('serve the web console for a running devnet on 127.0.0.1 and print its URL, until Ctrl-C')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', parsePort, 0)
    .option('--sample-ms <ms>', 'how often the provider chart samples the pools', parseMs, 3000)
    .action(async (options, command) => {
      const { openSession } = await import('../../tenant/session.js');
      const session = await openSession(globalsOf(command));
      if (!session.ok) {
        exit.code = printError(io, session.error);
        return;
      }
      const stop = untilSignal();
      const running = await serveConsole(io, session.value, {
        port: options.port,
        sampleMs: options.sampleMs,
      });
      if (running === undefined) {
        stop.dispose();
        exit.code = EXIT.unavailable;
        return;
      }
      io.stderr.write('Ctrl-C stops the console (the devnet keeps running)\n');
      await stop.signal;
      stop.dispose();
      await running.close();
      exit.code = EXIT.ok;
    });
}
