import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT } from '../../errors/index.js';
import { runCaptured } from '../testing.js';

describe('akash-ip provider run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-provider-run-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad configuration with its position and exit code 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'provider:\n  key: p\nlisten:\n  port: -1\n');
    const captured = await runCaptured(['provider', 'run', '--config', file]);
    assert.equal(captured.code, EXIT.invalidInput);
    assert.match(
      captured.stderr,
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:9: listen\\.port`),
    );
    assert.equal(captured.stdout, '');
  });

  it('says when the provider key is missing, as a JSON log line and on stderr', async () => {
    const file = join(dir, 'nokey.yaml');
    writeFileSync(file, `provider:\n  keyring: ${join(dir, 'keys')}\n  key: nobody\n`);
    const captured = await runCaptured(['provider', 'run', '--config', file]);
    assert.equal(captured.code, EXIT.notFound);
    assert.match(captured.stderr, /nobody/);
    const line = JSON.parse(captured.stdout.trim()) as { level: string; code: string };
    assert.equal(line.level, 'error');
    assert.equal(line.code, 'NOT_FOUND');
  });

  it('needs --config', async () => {
    const captured = await runCaptured(['provider', 'run']);
    assert.equal(captured.code, EXIT.usage);
    assert.match(captured.stderr, /--config/);
  });
});
