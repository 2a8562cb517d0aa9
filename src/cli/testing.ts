/** Test helpers: run the CLI in-process and read what it printed. */
import { Readable, Writable } from 'node:stream';
import { runCli } from './program.js';

/** A stream that keeps what is written to it; `tty` makes it pass for a terminal (so output is coloured). */
export function sink(tty = false): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  Object.assign(stream, { isTTY: tty });
  return { stream, text: () => chunks.join('') };
}

/** Runs `akash-ip <args>` in-process with `stdin`: its exit code and what it printed. */
export async function runCaptured(
  args: readonly string[],
  stdin: string | Uint8Array = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, stdin: Readable.from([stdin]) });
  return { code, stdout: out.text(), stderr: err.text() };
}
