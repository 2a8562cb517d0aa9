/**
 * Runs a CommonJS bundle with a V8 code cache kept beside it (`<bundle>.cache`): the bytecode of the functions an
 * earlier run compiled, so a run neither parses the bundle again nor compiles each function on its first call.
 * `npm run build` makes the cache (scripts/build-cli.mjs); a run that finds none, or one V8 turns down (another
 * Node or V8 version, other V8 flags, a rebuilt bundle), runs without it and writes a fresh one as it exits,
 * so the next run is quick again. A cache is written to a temporary file and renamed over the old one: runs at
 * the same moment each see a whole cache or none. Where the folder is read-only the run stays correct, only slower.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** Where the code cache of `bundle` lives. */
function cacheFileOf(bundle: string): string {
  return `${bundle}.cache`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // none yet: this run writes one
  }
}

function writeCache(script: Script, file: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, 'w');
  } catch {
    // A read-only install: every run compiles the bundle itself, which is what Node does without a cache. The
    // file is opened first so that such a run does not also pay for serializing a cache it cannot keep.
    return;
  }
  try {
    try {
      writeFileSync(fd, script.createCachedData());
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch {
    rmSync(temporary, { force: true });
  }
}

/** Runs `bundle` as Node runs a CommonJS main module, from its code cache where V8 accepts it. */
export function runCached(bundle: string): void {
  const cacheFile = cacheFileOf(bundle);
  const cachedData = readCache(cacheFile);
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  // After the run, the cache holds every function the run compiled, not only the bundle's top level.
  if (cachedData === undefined || script.cachedDataRejected === true)
    process.once('exit', () => writeCache(script, cacheFile));
  const module = new Module(bundle);
  module.filename = bundle;
  const require = createRequire(bundle);
  // Listed as loaded, as a required module would be (what the start-up test reads).
  require.cache[bundle] = module;
  const body = script.runInThisContext() as (...args: unknown[]) => void;
  body.call(module.exports, module.exports, require, module, bundle, dirname(bundle));
  module.loaded = true;
}
