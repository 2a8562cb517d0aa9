import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { EXIT, exitCode } from '../../errors/index.js';
import type { Sdl, SdlDiagnostic } from '../../sdl/index.js';
import { SDL_COMMAND } from '../argv.js';
import type { CliIo } from '../io.js';
import { tierUpLater } from '../tier-up.js';

/** The SDL engine, loaded when a command reads an SDL (not when the program is built for `--help`). */
type Engine = typeof import('../../sdl/index.js');
const engine = (): Promise<Engine> => import('../../sdl/index.js');

type Source =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly error: SdlDiagnostic };

function ioProblem(file: string, code: 'SDL_IO' | 'SDL_TOO_LARGE', message: string): Source {
  return { ok: false, error: { code, message, path: '', line: 1, col: 1, file, severity: 'error' } };
}

const tooLarge = (limit: number) => `input is larger than ${limit} bytes (1 MiB)`;

/** Reads stdin, giving up as soon as it passes the size limit instead of buffering all of it. */
async function readStdin(io: CliIo, file: string, limit: number): Promise<Source> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    size += bytes.length;
    if (size > limit) return ioProblem(file, 'SDL_TOO_LARGE', tooLarge(limit));
    chunks.push(bytes);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return { ok: true, bytes: out };
}

const FS_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  ENOTDIR: 'a parent of this path is not a directory',
};

/**
 * Reads a file (or stdin for `-`), refusing anything over the size limit before reading it. The file is read
 * synchronously: a command reads its files one after another, and node:fs/promises costs start-up time.
 */
async function readSource(path: string, io: CliIo, limit: number): Promise<Source> {
  if (path === '-') return readStdin(io, '<stdin>', limit);
  try {
    const fd = openSync(path, 'r');
    try {
      const stat = fstatSync(fd);
      if (stat.isDirectory()) return ioProblem(path, 'SDL_IO', `cannot read ${path}: ${FS_ERRORS.EISDIR}`);
      if (stat.size > limit) return ioProblem(path, 'SDL_TOO_LARGE', tooLarge(limit));
      const buffer = new Uint8Array(limit + 1);
      let size = 0;
      for (;;) {
        const bytesRead = readSync(fd, buffer, size, buffer.length - size, null);
        if (bytesRead === 0) break;
        size += bytesRead;
        if (size > limit) return ioProblem(path, 'SDL_TOO_LARGE', tooLarge(limit));
      }
      return { ok: true, bytes: buffer.subarray(0, size) };
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = FS_ERRORS[code] ?? (error as Error).message;
    return ioProblem(path, 'SDL_IO', `cannot read ${path}: ${reason}`);
  }
}

function report(io: CliIo, sdl: Engine, diagnostics: readonly SdlDiagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${sdl.formatDiagnostic(d)}\n`);
}

/** Reads and parses one file, printing its diagnostics; the SDL, or the exit code to use. */
export async function load(
  path: string,
  io: CliIo,
  strict: boolean,
): Promise<{ sdl: Sdl } | { exit: number }> {
  const sdl = await engine();
  const source = await readSource(path, io, sdl.MAX_SDL_BYTES);
  if (!source.ok) {
    report(io, sdl, [source.error]);
    return { exit: exitCode(source.error.code) };
  }
  const result = sdl.parseSdl(source.bytes, { file: path === '-' ? '<stdin>' : path, strict });
  if (!result.ok) {
    report(io, sdl, [...result.error, ...result.warnings]);
    return { exit: exitCode(result.error[0]?.code ?? 'SDL_INVALID') };
  }
  report(io, sdl, result.warnings);
  return { sdl: result.value };
}

/** Registers `akash-ip sdl …`. */
export function registerSdlCommands(program: Command, io: CliIo, exit: { code: number }): void {
  const sdl = program
    .command(SDL_COMMAND)
    .description('Validate and compile Akash SDL files (v2.0 and v2.1)');
  const strictHelp = 'also reject JSON-schema violations, and key IP ports by effective port and protocol';

  sdl
    .command('validate')
    .description('check SDL files; prints FILE:LINE:COL: CODE: message for each problem')
    .argument('<files...>', 'SDL files, or - for stdin')
    .option('--strict', strictHelp)
    .action(async (files, options) => {
      tierUpLater();
      let code: number = EXIT.ok;
      for (const file of files) {
        const loaded = await load(file, io, options.strict === true);
        if ('exit' in loaded) {
          if (code === EXIT.ok) code = loaded.exit;
          continue;
        }
        const s = loaded.sdl;
        io.stdout.write(
          `${file}: ok (SDL ${s.dialect}, ${s.groups.length} group(s), version ${s.manifestVersion})\n`,
        );
      }
      exit.code = code;
    });

  const outputs: readonly [name: string, description: string, render: (s: Sdl, e: Engine) => string][] = [
    ['manifest', 'print the manifest JSON the provider receives', (s, e) => e.goJson(s.manifest, '  ')],
    ['groups', 'print the deployment group specs JSON sent on chain', (s, e) => e.goJson(s.groups, '  ')],
    ['version', 'print the manifest version (deployment hash) in hex', (s) => s.manifestVersion],
  ];
  for (const [name, description, render] of outputs) {
    sdl
      .command(name)
      .description(description)
      .argument('<file>', 'SDL file, or - for stdin')
      .option('--strict', strictHelp)
      .action(async (file, options) => {
        tierUpLater();
        const loaded = await load(file, io, options.strict === true);
        if ('exit' in loaded) {
          exit.code = loaded.exit;
          return;
        }
        io.stdout.write(`${render(loaded.sdl, await engine())}\n`);
        exit.code = EXIT.ok;
      });
  }
}
