/**
 * Starts the real test cluster built by scripts/build-k8s-harness.sh (embedded etcd + kube-apiserver,
 * and the MetalLB controller in a network namespace of its own), all on 127.0.0.1. A missing build is a
 * test failure that names the script, never a skip.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { untilValue } from '../../src/testing/wait.js';

export const BUILD_SCRIPT = 'scripts/build-k8s-harness.sh';
/** `AKASH_IP_K8S_HARNESS=<dir>` runs another build (e.g. a keyed folder not yet `current`). */
const BUILD = resolve(process.env.AKASH_IP_K8S_HARNESS || '.cache/k8s-harness/current');
/** A restart is a stop (up to 5 s before a kill) and a start. */
const RESTART_TIMEOUT_MS = 30_000;
/** Start-up includes a MetalLB probe assignment; slow on a busy 2-core box, never this slow. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 20_000;

const readySchema = z.object({
  server: z.string().url(),
  ca: z.string().min(1),
  token: z.string().min(1),
  kubeconfig: z.string().min(1),
  metallbNamespace: z.string().min(1),
  serviceCIDR: z.string().min(1),
});

const CONTROLS = {
  'restart-metallb': 'metallb-restarted',
  'stop-metallb': 'metallb-stopped',
  'start-metallb': 'metallb-started',
} as const;
const eventSchema = z.object({ event: z.enum(['metallb-restarted', 'metallb-stopped', 'metallb-started']) });

export interface TestCluster {
  readonly server: string;
  readonly ca: string;
  readonly token: string;
  /** Path of a kubeconfig (token + CA file) for the apiserver. */
  readonly kubeconfig: string;
  readonly metallbNamespace: string;
  /** The harness's stderr so far (apiserver and harness messages), for failure reports. */
  log(): string;
  /** Stops the MetalLB controller and starts it again; resolves when the harness says it has. */
  restartMetalLB(): Promise<void>;
  /** The two halves of a restart, to act while MetalLB is down. */
  stopMetalLB(): Promise<void>;
  startMetalLB(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const harness = join(BUILD, 'k8s-harness');
  const controller = join(BUILD, 'controller');
  const crds = join(BUILD, 'crds');
  assert.ok(
    existsSync(harness) && existsSync(controller) && existsSync(crds),
    `the k8s test harness is not built (${BUILD} has no k8s-harness, controller and crds): ` +
      `run \`bash ${BUILD_SCRIPT}\` first (\`npm run test:k8s\` does)`,
  );
  const child: ChildProcessWithoutNullStreams = spawn(
    harness,
    ['-metallb-controller', controller, '-crd-dir', crds],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Keep the tail only: the apiserver logs a lot at start.
    stderr = (stderr + chunk).slice(-200_000);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const lines = createInterface({ input: child.stdout });
  // One control at a time is in flight; its event line settles it.
  const awaited: { readonly event: string; readonly done: () => void }[] = [];
  lines.on('line', (line) => {
    const event = eventSchema.safeParse(JSON.parse(line));
    if (event.success && awaited[0]?.event === event.data.event) awaited.shift()?.done();
  });
  const control = async (line: keyof typeof CONTROLS): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      awaited.push({ event: CONTROLS[line], done: resolve });
      timer = setTimeout(
        () => reject(new Error(`${line}: no answer within ${RESTART_TIMEOUT_MS} ms`)),
        RESTART_TIMEOUT_MS,
      );
    });
    child.stdin.write(`${line}\n`);
    await Promise.race([
      done,
      exited.then((code) => Promise.reject(new Error(`k8s harness exited (${code})`))),
    ]);
    clearTimeout(timer);
  };
  const ready = await new Promise<z.infer<typeof readySchema>>((done, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`k8s harness not ready after ${START_TIMEOUT_MS} ms; its log:\n${stderr.slice(-4000)}`),
      );
    }, START_TIMEOUT_MS);
    lines.on('line', (line) => {
      const parsed = readySchema.safeParse(JSON.parse(line));
      if (!parsed.success) return;
      clearTimeout(timer);
      done(parsed.data);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`k8s harness exited (${code}) before it was ready; its log:\n${stderr.slice(-4000)}`));
    });
  });
  return {
    server: ready.server,
    ca: ready.ca,
    token: ready.token,
    kubeconfig: ready.kubeconfig,
    metallbNamespace: ready.metallbNamespace,
    log: () => stderr,
    restartMetalLB: () => control('restart-metallb'),
    stopMetalLB: () => control('stop-metallb'),
    startMetalLB: () => control('start-metallb'),
    async stop() {
      // Closing stdin is the harness's stop signal; it removes its temporary directory itself.
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Waits until `probe` returns a value (not `undefined`), asking every 100 ms for at most `timeoutMs`. The
 * cluster's controllers act asynchronously; this waits for a state, it asserts nothing about time.
 */
export function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  return untilValue(probe, what, { limitMs: timeoutMs, everyMs: 100 });
}
