import type { Command } from '@commander-js/extra-typings';
import { EXIT, exitCode } from '../../errors/index.js';
import type { CliIo } from '../io.js';
import { providerCommand } from './common.js';
import { parsePort } from './devnet.js';

/**
 * Registers `akash-ip provider run --config FILE`: runs the provider daemon in the foreground until
 * SIGINT or SIGTERM (or, with `--stop-with-stdin`, until its standard input closes). Log lines are JSON on
 * stdout, the first one `{"msg":"listening","url":…}`.
 */
export function registerProviderRunCommand(program: Command, io: CliIo, exit: { code: number }): void {
  const provider = providerCommand(program);
  provider
    .command('run')
    .description('run the provider daemon until SIGINT/SIGTERM (JSON log lines on stdout)')
    .requiredOption('--config <file>', 'provider configuration (YAML or JSON); see examples/provider.yaml')
    .option(
      '--console-port <port>',
      "serve the operator's console (the provider view) on this port of 127.0.0.1 (0: any free port); its URL, token included, goes to a 0600 file the log names",
      parsePort,
    )
    .option(
      '--stop-with-stdin',
      'also stop when standard input closes, so a supervisor holding the other end of a pipe (the devnet) is never outlived, even when it is killed',
    )
    .action(async (options) => {
      // Loaded here, not at the top: every other command would otherwise pay for the daemon's start-up.
      const [{ jsonLogger, loadConfig, runProvider }, { defaultKeyringDir }] = await Promise.all([
        import('../../daemon/index.js'),
        import('../../identity/index.js'),
      ]);
      const config = await loadConfig(options.config, {
        defaultKeyring: defaultKeyringDir(),
        ...(options.consolePort === undefined ? {} : { consolePort: options.consolePort }),
      });
      if (!config.ok) {
        io.stderr.write(`${config.error.message}\n`);
        exit.code = exitCode(config.error.code);
        return;
      }
      const logger = jsonLogger(io.stdout);
      const started = await runProvider(config.value, { logger });
      if (!started.ok) {
        logger.log('error', 'the provider did not start', {
          code: started.error.code,
          error: started.error.message,
          ...(started.error.cause === undefined ? {} : { cause: started.error.cause }),
        });
        io.stderr.write(`${started.error.message}\n`);
        exit.code = exitCode(started.error.code);
        return;
      }
      const running = started.value;
      // `on`, not `once`: tsx's loader exits on a signal whose only listener is a `once` wrapper
      let onSignal: (signal: NodeJS.Signals | 'stdin closed') => void = () => {};
      const signalled = new Promise<NodeJS.Signals | 'stdin closed'>((resolve) => {
        onSignal = resolve;
      });
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const onStdinClosed = (): void => onSignal('stdin closed');
      if (options.stopWithStdin === true) {
        // A dead supervisor takes the read end of stdout with it: the lost log lines must not crash the
        // daemon before it has stopped cleanly (other write errors still end the process, as before).
        process.stdout.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EPIPE') throw error;
        });
        // The kernel closes the pipe when the holder dies, SIGKILL included; 'end' needs the stream flowing.
        process.stdin.on('end', onStdinClosed).on('close', onStdinClosed).resume();
      }
      // a state that cannot be rebuilt (corrupt store) ends the process; otherwise run until signalled
      const failed = running.ready.then((ready) => (ready.ok ? new Promise<never>(() => {}) : ready.error));
      const outcome = await Promise.race([failed, signalled]);
      await running.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (options.stopWithStdin === true)
        process.stdin.off('end', onStdinClosed).off('close', onStdinClosed).pause();
      if (typeof outcome === 'string') {
        exit.code = EXIT.ok;
        return;
      }
      io.stderr.write(`${outcome.message}\n`);
      exit.code = exitCode(outcome.code);
    });
}
