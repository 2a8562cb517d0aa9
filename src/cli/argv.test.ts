import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandWord, GLOBAL_OPTIONS } from './argv.js';

describe('commandWord', () => {
  it('is the first word that is neither an option nor a global option’s value', () => {
    assert.equal(commandWord(['sdl', 'validate', 'x.yaml']), 'sdl');
    assert.equal(commandWord(['--home', 'sdl', 'leases']), 'leases');
    assert.equal(commandWord(['--from', 'alice', '--ledger', 'http://127.0.0.1:1', 'deploy']), 'deploy');
    assert.equal(commandWord(['--yes', 'sdl']), 'sdl', 'an option that takes no value is skipped alone');
  });

  it('is none for help, an empty command line or one after --', () => {
    assert.equal(commandWord([]), undefined);
    assert.equal(commandWord(['--help']), undefined);
    assert.equal(commandWord(['--data', 'x']), undefined);
    assert.equal(commandWord(['--', 'sdl']), undefined);
  });

  it('skips the value of every global option', () => {
    for (const { flags } of GLOBAL_OPTIONS) {
      const flag = flags.split(' ')[0] ?? '';
      assert.equal(commandWord([flag, 'sdl', 'bids']), 'bids', flag);
    }
  });
});
