import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { goSort, goSortStrings, goStableSort, goStringLess } from './go-sort.js';

/** Items whose keys tie often, generated as the recorded Go program generated them. */
function tiedItems(n: number): { key: number; id: number }[] {
  let x = 7;
  return Array.from({ length: n }, (_, id) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return { key: (x >>> 28) % 4, id };
  });
}

const byKey = (a: { key: number }, b: { key: number }) => a.key < b.key;

describe('goSort (Go sort.Sort)', () => {
  it('orders ties exactly as Go 1.26 does (recorded from a Go run)', () => {
    const recorded: Record<number, number[]> = {
      13: [7, 11, 4, 2, 8, 5, 6, 3, 1, 0, 9, 10, 12],
      40: [
        38, 34, 16, 15, 4, 13, 11, 7, 14, 19, 8, 6, 32, 5, 31, 28, 2, 33, 36, 39, 20, 35, 22, 25, 24, 1, 26,
        17, 3, 37, 10, 30, 29, 27, 23, 21, 18, 12, 0, 9,
      ],
      100: [
        82, 52, 59, 98, 4, 61, 63, 7, 70, 97, 44, 11, 72, 13, 42, 15, 16, 38, 87, 34, 77, 86, 81, 84, 25, 39,
        83, 24, 28, 22, 20, 31, 32, 33, 19, 35, 36, 74, 89, 54, 40, 41, 14, 90, 92, 8, 46, 69, 66, 6, 5, 2,
        99, 75, 37, 1, 56, 57, 58, 51, 3, 94, 62, 17, 88, 65, 48, 67, 68, 47, 45, 26, 53, 76, 21, 0, 43, 30,
        78, 79, 80, 29, 27, 71, 23, 85, 73, 18, 64, 49, 12, 91, 10, 93, 50, 95, 96, 9, 60, 55,
      ],
    };
    for (const [n, ids] of Object.entries(recorded)) {
      assert.deepEqual(
        goSort(tiedItems(Number(n)), byKey).map((item) => item.id),
        ids,
      );
    }
  });

  it('keeps ties in their order up to 12 items, as Go (insertion sort there)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }), (keys) => {
        const items = keys.map((key, id) => ({ key, id }));
        const expected = [...items].sort((a, b) => a.key - b.key || a.id - b.id);
        assert.deepEqual(goSort(items, byKey), expected);
      }),
    );
  });

  it('sorts any array into a permutation in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 300 }), (values) => {
        const sorted = goSort(values, (a, b) => a < b);
        assert.deepEqual(
          sorted,
          [...values].sort((a, b) => a - b),
        );
      }),
    );
  });
});

describe('goStableSort (Go sort.Stable)', () => {
  it('is stable and sorted for any input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 200 }), (keys) => {
        const items = keys.map((key, id) => ({ key, id }));
        const sorted = goStableSort(items, byKey);
        const expected = [...items].sort((a, b) => a.key - b.key || a.id - b.id);
        assert.deepEqual(sorted, expected);
      }),
    );
  });
});

describe('goStringLess', () => {
  it('compares by UTF-8 bytes, so a character past the BMP sorts after U+FFFD', () => {
    assert.equal(goStringLess('\u{1F600}', '\uFFFD'), false);
    assert.equal(goStringLess('\uFFFD', '\u{1F600}'), true);
    assert.equal(goStringLess('a', 'b'), true);
    assert.equal(goStringLess('ab', 'a'), false);
    assert.equal(goStringLess('a', 'a'), false);
  });
});

describe('goSortStrings', () => {
  it('sorts in byte order, with or without characters past the BMP', () => {
    assert.deepEqual(goSortStrings(['b', 'a', 'ab', '']), ['', 'a', 'ab', 'b']);
    // UTF-16 puts U+FFFD after a surrogate pair; bytes put it before.
    assert.deepEqual(goSortStrings(['\u{1F600}', '\uFFFD', 'z']), ['z', '\uFFFD', '\u{1F600}']);
  });
});
