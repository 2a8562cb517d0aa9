/**
 * Where the CLI keeps things. One home folder (`--home`, else `$AKASH_IP_HOME`, else `~/.akash-ip`) holds the
 * tenant keyring (`<home>/keys`) and the default devnet (`<home>/devnet`), so every command finds them from any
 * folder; `--data` names another devnet. A devnet lives in its data folder with its ledger, its own keys,
 * provider configs and stores, and `devnet.json`.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { defaultKeyringDir } from '../identity/index.js';

/** The folders one command works with. */
export interface Paths {
  /** The tenant's own keyring. */
  readonly keyring: string;
  /** The devnet data folder. */
  readonly data: string;
  /** `data` is a devnet in the working folder's `.akash-ip/devnet`, where earlier versions kept it. */
  readonly legacy: boolean;
}

/** Where earlier versions kept the devnet: `.akash-ip/devnet` under the working folder. */
export function legacyDevnet(cwd: string): string {
  return join(cwd, '.akash-ip', 'devnet');
}

/**
 * Resolves `--home` / `--data` against the environment and the working folder. With neither (nor
 * `$AKASH_IP_HOME`), a devnet already in `./.akash-ip/devnet` is still used, so none running is lost.
 */
export function resolvePaths(
  options: { readonly home?: string | undefined; readonly data?: string | undefined },
  env: NodeJS.ProcessEnv,
  cwd: string,
): Paths {
  const named = options.home ?? (env.AKASH_IP_HOME === '' ? undefined : env.AKASH_IP_HOME);
  const keyring = defaultKeyringDir(named === undefined ? {} : { AKASH_IP_HOME: resolve(cwd, named) });
  if (options.data !== undefined) return { keyring, data: resolve(cwd, options.data), legacy: false };
  const data = join(dirname(keyring), 'devnet');
  const legacy = legacyDevnet(cwd);
  if (named === undefined && legacy !== data && existsSync(devnetFilePath(legacy))) {
    return { keyring, data: legacy, legacy: true };
  }
  return { keyring, data, legacy: false };
}

/** The devnet's own keyring, inside its data folder. */
export function devnetKeyring(data: string): string {
  return join(data, 'keys');
}

const providerEntrySchema = z.strictObject({
  name: z.string(),
  address: z.string(),
  url: z.string(),
  /** Whether the provider advertises `ip-lease: "true"`. */
  ipLease: z.boolean(),
  /** Its pools' address ranges, for the summary. */
  pools: z.array(z.string()),
  config: z.string(),
  log: z.string(),
  /** The daemon's process id while the devnet runs, 0 once stopped. */
  pid: z.int().min(0),
});

const devnetFileSchema = z.strictObject({
  version: z.literal(1),
  /** The running devnet's process id; null once it has stopped. */
  pid: z.int().positive().nullable(),
  ledger: z.strictObject({ url: z.string(), adminToken: z.string() }),
  blockMs: z.int().positive(),
  tenant: z.strictObject({ key: z.string(), address: z.string() }),
  providers: z.array(providerEntrySchema),
  startedAt: z.int(),
});

/** One provider of the devnet, as `devnet.json` records it. */
export type DevnetProvider = z.infer<typeof providerEntrySchema>;
/** `devnet.json`: how other commands find a running devnet. */
export type DevnetFile = z.infer<typeof devnetFileSchema>;

/** `<data>/devnet.json`. */
function devnetFilePath(data: string): string {
  return join(data, 'devnet.json');
}

/** Parses `devnet.json` text. */
export function parseDevnetFile(text: string, path: string): Result<DevnetFile, AppError> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(appError('INVALID_INPUT', `${path} is not JSON; delete it and restart the devnet`));
  }
  const parsed = devnetFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      appError(
        'INVALID_INPUT',
        `${path} is not a devnet file (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}); delete it and restart the devnet`,
      ),
    );
  }
  return ok(Object.freeze(parsed.data));
}

/** Writes `devnet.json` readable by the owner only (it holds the faucet token), replacing it in one step. */
export async function writeDevnetFile(data: string, file: DevnetFile): Promise<void> {
  const path = devnetFilePath(data);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/** Reads `<data>/devnet.json`; NOT_FOUND says how to start a devnet. */
export async function readDevnetFile(data: string): Promise<Result<DevnetFile, AppError>> {
  const path = devnetFilePath(data);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return fail(
        appError(
          'NOT_FOUND',
          `no devnet in ${data}: start one with \`akash-ip devnet --data ${data}\` (or \`npm start\`), or pass --data DIR or --ledger URL`,
        ),
      );
    }
    return fail(appError('UNAVAILABLE', `cannot read ${path}: ${(error as Error).message}`));
  }
  return parseDevnetFile(text, path);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The devnet running in `data`, if any: its `devnet.json` names a live process other than this one. */
export async function runningDevnet(data: string): Promise<DevnetFile | undefined> {
  const file = await readDevnetFile(data);
  if (!file.ok || file.value.pid === null || file.value.pid === process.pid) return undefined;
  return alive(file.value.pid) ? file.value : undefined;
}

/** Why a second devnet on the same folder is refused. */
export function alreadyRunning(data: string, running: DevnetFile): AppError {
  return appError(
    'UNAVAILABLE',
    `a devnet is already running on ${data} (pid ${running.pid}); stop it with Ctrl-C, or use another --data folder`,
  );
}
