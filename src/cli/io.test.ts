import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { syncStdout } from './io.js';
import { sink } from './testing.js';

const folder = mkdtempSync(join(tmpdir(), 'akash-ip-io-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('syncStdout', () => {
  it('writes each chunk whole, in order, before write returns', () => {
    const file = join(folder, 'out');
    const fd = openSync(file, 'w');
    try {
      const out = syncStdout(fd);
      out.write('first\n');
      out.write(new TextEncoder().encode('second\n'));
      assert.equal(readFileSync(file, 'utf8'), 'first\nsecond\n');
    } finally {
      closeSync(fd);
    }
  });

  it('hands what a full non-blocking descriptor refuses, and all later output, to the stream, in order', () => {
    const fifo = join(folder, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const queued = sink();
      const out = syncStdout(writer, () => queued.stream);
      // More than a pipe holds (64 KiB on Linux): the write fills the pipe, then EAGAIN.
      const text = Array.from({ length: 20_000 }, (_, index) => `line ${index}\n`).join('');
      out.write(text);
      out.write('after\n');
      const held = Buffer.alloc(1 << 20);
      let read = 0;
      for (;;) {
        try {
          const got = readSync(reader, held, read, held.length - read, null);
          if (got === 0) break;
          read += got;
        } catch {
          break; // EAGAIN: the pipe is empty
        }
      }
      assert.ok(read > 0 && read < Buffer.byteLength(text), `the pipe took part of it (${read} bytes)`);
      assert.equal(held.subarray(0, read).toString() + queued.text(), `${text}after\n`);
    } finally {
      closeSync(writer);
      closeSync(reader);
    }
  });

  it('says whether the process’s stdout is a terminal, as process.stdout does', () => {
    const out = syncStdout(1, () => sink(true).stream) as { isTTY?: boolean };
    assert.equal(out.isTTY, process.stdout.isTTY === true);
  });
});
