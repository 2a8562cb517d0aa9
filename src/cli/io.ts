import { writeSync } from 'node:fs';

/** The streams a command talks to; injected so tests can capture them. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

/**
 * The process's own streams, for an entry point: stdout written by {@link syncStdout}; process.stderr and
 * process.stdin, which Node builds on first use (a stream over the file, pipe or terminal, a few milliseconds
 * each), only when a run writes to stderr or reads stdin (`sdl … -`).
 */
export function processIo(): CliIo {
  return {
    stdout: syncStdout(),
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
  };
}

/**
 * The process's stdout, written with write(2) as the command produces it: a short command then never builds
 * `process.stdout` (for a pipe, a socket stream that loads node:net). If the descriptor is non-blocking and
 * full (EAGAIN), what is left, and everything after it, goes through `stream` (`process.stdout`), which queues
 * it. A reader that went away (EPIPE, `… | head -1`) ends the output, not the command.
 */
export function syncStdout(
  fd = 1,
  stream: () => NodeJS.WritableStream = () => process.stdout,
): NodeJS.WritableStream {
  let queued: NodeJS.WritableStream | undefined;
  let readerGone = false;
  const stdout = {
    write(chunk: string | Uint8Array): boolean {
      if (readerGone) return true;
      if (queued !== undefined) return queued.write(chunk);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      let offset = 0;
      try {
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') {
          readerGone = true;
          return true;
        }
        if (code !== 'EAGAIN') throw error;
        queued = stream();
        return queued.write(bytes.subarray(offset));
      }
    },
    /** Whether stdout is a terminal (for colour): asks the real stream, built only then. */
    get isTTY(): boolean {
      return process.stdout.isTTY === true;
    },
  };
  return stdout as unknown as NodeJS.WritableStream;
}
