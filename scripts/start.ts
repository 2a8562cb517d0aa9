/**
 * `npm start [-- OPTIONS]`: builds, then runs `akash-ip start OPTIONS`. A devnet already running on the folder it
 * would use is refused first, from its `devnet.json` alone: rebuilding dist/ under a running devnet would swap the
 * code of its provider daemons, and `akash-ip start` itself refuses only once it runs from the new build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { exitCode } from '../src/errors/index.js';
import { alreadyRunning, resolvePaths, runningDevnet } from '../src/tenant/home.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

/** The value of `--name VALUE` or `--name=VALUE` among the arguments, as the CLI reads them. */
function optionValue(name: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, index) => {
    if (arg === `--${name}`) value = args[index + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  });
  return value;
}

const paths = resolvePaths(
  { home: optionValue('home'), data: optionValue('data') },
  process.env,
  process.cwd(),
);
const running = await runningDevnet(paths.data);
if (running !== undefined) {
  const error = alreadyRunning(paths.data, running);
  process.stderr.write(`error: ${error.code}: ${error.message}\n`);
  process.exit(exitCode(error.code));
}

const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const cli = spawn(process.execPath, [`${root}dist/src/cli/akash-ip.cjs`, 'start', ...args], {
  stdio: 'inherit',
});
// Ctrl-C reaches the CLI from the terminal as well; a second SIGINT would cut its clean stop short.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => cli.kill('SIGTERM'));
cli.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
});
