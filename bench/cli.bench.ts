/**
 * The CLI as a whole process, against Node's own start-up measured in the same run: hello-world `sdl validate`
 * and 200-service `sdl manifest` through the built `akash-ip` executable (`npm run build` first), the same manifest
 * through the whole CLI's ES modules (main.js: what the SDL commands' own bundle and code cache save), and the
 * engine's time for the same 200-service file, in this process once warm and in a fresh process (import + first
 * run: what the CLI pays).
 * The process runs interleave, so a busy machine slows every figure alike. A second, separate series has each
 * process report the CPU time it used (all its threads), which a busy machine inflates far less than wall time
 * (separate because the preload that reports it adds its own start-up cost).
 * Floors (issue 12): validate under 150 ms; manifest under 1.5 × (engine + `node -e 0`), reported as ratios to
 * their floors (met when at most 1), in wall time and, for the manifest, in CPU time too: on a busy machine the
 * CPU-time ratio says more about the CLI than the wall-time one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { goJson, parseSdl } from '../src/sdl/index.js';
import { median, type Suite, timeRuns } from './harness.js';
import { generatedSdl } from './sdl.bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The `akash-ip` executable package.json names: what a user runs. */
const CLI = join(
  ROOT,
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'akash-ip'
  ] ?? '',
);
/** The whole CLI as ES modules, without the SDL commands' own bundle and code cache: the difference they make. */
const WHOLE_CLI = join(ROOT, 'dist/src/cli/main.js');
const HELLO_WORLD = join(ROOT, 'examples/ip-lease.yaml');
const RUNS = 21;
const CPU_RUNS = 11;
/** Floors of issue 12: hello-world `sdl validate` under this many ms; `sdl manifest` under this × (engine + node). */
const VALIDATE_FLOOR_MS = 150;
const MANIFEST_FLOOR = 1.5;

/** Preloaded into each measured process: at exit it writes the CPU time it used, in ms, to file descriptor 3. */
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const { user, system } = process.cpuUsage(); writeSync(3, String((user + system) / 1000)); });",
)}`;

/** Runs one whole process, failing the suite if it does not succeed. */
function run(args: readonly string[]): ReturnType<typeof spawnSync> {
  const child = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  if (child.status !== 0)
    throw new Error(`node ${args.join(' ')} failed (${child.status}):\n${child.stderr}`);
  return child;
}

/** Wall time of one whole process. */
function spawnMs(args: readonly string[]): number {
  const start = process.hrtime.bigint();
  run(args);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** CPU time one whole process reports using. */
function spawnCpuMs(args: readonly string[]): number {
  return Number(run(['--import', REPORT_CPU, ...args]).output[3]);
}

/** The engine's time in a fresh process: importing the built engine, then the first parse and manifest JSON. */
function coldEngineMs(file: string): number {
  const script = `const start = performance.now();
const sdl = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/sdl/index.js')).href)});
const parsed = sdl.parseSdl((await import('node:fs')).readFileSync(${JSON.stringify(file)}));
if (!parsed.ok) process.exit(1);
sdl.goJson(parsed.value.manifest, '  ');
process.stdout.write(String(performance.now() - start));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the built engine failed on ${file}:\n${child.stderr}`);
  return Number(child.stdout);
}

/** What `sdl manifest` computes, in this process. */
function manifestOf(text: string): string {
  const result = parseSdl(text);
  if (!result.ok) throw new Error(result.error.map((d) => d.message).join('\n'));
  return goJson(result.value.manifest, '  ');
}

const suite: Suite = async (report) => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const folder = mkdtempSync(join(tmpdir(), 'akash-ip-cli-bench-'));
  try {
    const large = join(folder, '200-services.yaml');
    writeFileSync(large, generatedSdl());
    const processes: [name: string, args: readonly string[]][] = [
      ['node -e 0', ['-e', '0']],
      ['akash-ip sdl validate hello-world (examples/ip-lease.yaml)', [CLI, 'sdl', 'validate', HELLO_WORLD]],
      ['akash-ip sdl manifest 200 services', [CLI, 'sdl', 'manifest', large]],
      [
        'sdl manifest 200 services through main.js (no SDL bundle, no code cache)',
        [WHOLE_CLI, 'sdl', 'manifest', large],
      ],
    ];
    const times = processes.map((): number[] => []);
    const cpuTimes = processes.map((): number[] => []);
    for (const [, args] of processes) spawnMs(args); // warm the file cache
    for (let run = 0; run < RUNS; run++) {
      processes.forEach(([, args], index) => {
        times[index]?.push(spawnMs(args));
      });
    }
    for (let run = 0; run < CPU_RUNS; run++) {
      processes.forEach(([, args], index) => {
        cpuTimes[index]?.push(spawnCpuMs(args));
      });
    }
    const cold = median(Array.from({ length: RUNS }, () => coldEngineMs(large)));
    const text = readFileSync(large, 'utf8');
    await timeRuns(15, () => manifestOf(text));
    const engine = median(await timeRuns(60, () => manifestOf(text)));

    const medians = times.map((sample) => median(sample));
    const cpuMedians = cpuTimes.map((sample) => median(sample));
    processes.forEach(([name], index) => {
      report({ name: `${name}: median`, value: medians[index]!, unit: 'ms' });
    });
    processes.forEach(([name], index) => {
      report({ name: `${name}: CPU time median`, value: cpuMedians[index]!, unit: 'ms' });
    });
    report({
      name: 'engine in-process, 200 services parse + manifest JSON: median',
      value: engine,
      unit: 'ms',
    });
    const [node, validate, manifest] = medians as [number, number, number];
    const [nodeCpu, , manifestCpu] = cpuMedians as [number, number, number];
    report({
      name: 'sdl manifest 200 services / (engine + node -e 0) (floor 1.5)',
      value: manifest / (engine + node),
      unit: 'x',
    });
    report({
      name: 'floor, sdl validate hello-world: median / 150 ms (met when <= 1)',
      value: validate / VALIDATE_FLOOR_MS,
      unit: 'x',
    });
    report({
      name: 'floor, sdl manifest 200 services: median / (1.5 × (engine + node -e 0)) (met when <= 1)',
      value: manifest / (MANIFEST_FLOOR * (engine + node)),
      unit: 'x',
    });
    report({
      name: 'floor, sdl manifest 200 services in CPU time: CPU median / (1.5 × (engine + node -e 0 CPU)) (met when <= 1)',
      value: manifestCpu / (MANIFEST_FLOOR * (engine + nodeCpu)),
      unit: 'x',
    });
    // The in-process figure above is the engine warmed up; a process runs it once, cold, and imports it first.
    report({
      name: 'engine in a fresh process, 200 services (import + first run): median',
      value: cold,
      unit: 'ms',
    });
    report({
      name: 'sdl manifest 200 services / (fresh-process engine + node -e 0)',
      value: manifest / (cold + node),
      unit: 'x',
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
};

export default suite;
