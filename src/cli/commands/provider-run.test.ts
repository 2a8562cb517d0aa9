import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { EXIT } from '../../errors/index.js';
import { runCli } from '../program.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => out, err: () => err };
}

describe('akash-ip provider run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-provider-run-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad configuration with its position and exit code 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'provider:\n  key: p\nlisten:\n  port: -1\n');
    const captured = io();
    const code = await runCli(['provider', 'run', '--config', file], captured.io);
    assert.equal(code, EXIT.invalidInput);
    assert.match(
      captured.err(),
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:9: listen\\.port`),
    );
    assert.equal(captured.out(), '');
  });

  it('says when the provider key is missing, as a JSON log line and on stderr', async () => {
    const file = join(dir, 'nokey.yaml');
    writeFileSync(file, `provider:\n  keyring: ${join(dir, 'keys')}\n  key: nobody\n`);
    const captured = io();
    const code = await runCli(['provider', 'run', '--config', file], captured.io);
    assert.equal(code, EXIT.notFound);
    assert.match(captured.err(), /nobody/);
    const line = JSON.parse(captured.out().trim()) as { level: string; code: string };
    assert.equal(line.level, 'error');
    assert.equal(line.code, 'NOT_FOUND');
  });

  it('needs --config', async () => {
    const captured = io();
    assert.equal(await runCli(['provider', 'run'], captured.io), EXIT.usage);
    assert.match(captured.err(), /--config/);
  });
});
