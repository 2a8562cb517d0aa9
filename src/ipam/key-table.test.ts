import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeyTable } from './key-table.js';

describe('KeyTable', () => {
  it('behaves like a Map from key to slot, through growth, shrinking and deletions', () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ op: fc.constant('bulk' as const), key: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 300 }), (commands) => {
        // Slot s holds key keys[s]; a key may be moved to a newer slot, as the allocator does.
        const keyOf: string[] = [];
        const table = new KeyTable(keyOf, 1);
        const model = new Map<string, number>();
        const put = (key: string): void => {
          keyOf.push(key);
          table.set(key, keyOf.length - 1);
          model.set(key, keyOf.length - 1);
        };
        for (const { op, key } of commands) {
          const name = `akash1owner-ip-${key}`;
          if (op === 'set') put(name);
          else if (op === 'bulk') for (let i = 0; i < 200; i++) put(`bulk-${key}-${i}`);
          else {
            const slot = model.get(name);
            if (slot !== undefined) {
              table.delete(slot);
              model.delete(name);
            }
          }
          assert.equal(table.get(name), model.get(name) ?? -1);
        }
        assert.equal(table.size, model.size);
        for (const [key, slot] of model) assert.equal(table.get(key), slot);
        for (const [, slot] of model) table.delete(slot);
        assert.equal(table.size, 0);
        assert.equal(table.get('akash1owner-ip-1'), -1);
      }),
      { numRuns: 80 },
    );
  });

  it('drops many slots in one rebuild', () => {
    const keyOf = Array.from({ length: 5000 }, (_, i) => `key-${i}`);
    const table = new KeyTable(keyOf, 1);
    keyOf.forEach((key, slot) => {
      table.set(key, slot);
    });
    const gone = keyOf.map((_, slot) => slot).filter((slot) => slot % 7 !== 0);
    table.deleteMany([...gone, 99_999]);
    assert.equal(table.size, Math.ceil(5000 / 7));
    keyOf.forEach((key, slot) => {
      assert.equal(table.get(key), slot % 7 === 0 ? slot : -1);
    });
    table.delete(14);
    table.delete(15);
    assert.equal(table.get('key-14'), -1);
    assert.equal(table.get('key-21'), 21);
  });

  it('ignores a delete of a slot its key no longer maps to', () => {
    const keyOf = ['a', 'a'];
    const table = new KeyTable(keyOf, 1);
    table.set('a', 0);
    table.set('a', 1);
    table.delete(0);
    assert.equal(table.get('a'), 1);
    table.reserve(10_000);
    assert.equal(table.get('a'), 1);
  });
});
