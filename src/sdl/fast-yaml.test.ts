import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PEER_FIXTURES, SDL_TESTDATA, yamlFilesUnder } from '../../test/support/sdl-fixtures.js';
import { fastTree } from './fast-yaml.js';
import { parseTree, type SourceTree } from './yaml-tree.js';
import { YScalar, type YValue } from './yaml-value.js';

const FILES = [...yamlFilesUnder(SDL_TESTDATA), ...yamlFilesUnder(PEER_FIXTURES)].map((path) =>
  readFileSync(path, 'utf8'),
);

/** Values, kinds and offsets of every node, read through the tree's own lookups. */
function signature(tree: SourceTree): unknown {
  const walk = (value: YValue, path: (string | number)[]): unknown => {
    const at = [tree.locate(path), tree.locate(path, true)];
    if (value instanceof YScalar) return ['scalar', value.text, value.shortTag, value.offset, at];
    if (value instanceof Map) return ['map', at, [...value].map(([k, v]) => [k, walk(v, [...path, k])])];
    return ['seq', at, value.map((v, i) => walk(v, [...path, i]))];
  };
  return tree.root === undefined ? 'empty' : walk(tree.root, []);
}

/** When the fast reader answers, its tree must be the general path's tree. */
function assertSameAsGeneral(text: string): boolean {
  const slow = parseTree(text, { fast: false });
  const fast = fastTree(text, 200_000, 100, false);
  if (fast === undefined || fast === 'too-large') return false;
  assert.ok(slow.ok, 'the fast reader accepted what the general parser rejects');
  assert.deepEqual(slow.warnings, []);
  const fastResult = parseTree(text);
  assert.ok(fastResult.ok);
  assert.deepEqual(signature(fastResult.tree), signature(slow.tree));
  return true;
}

const LINE_EDITS = [
  '',
  '  # comment',
  'k: v',
  '- x',
  '-',
  'k:',
  "k: 'a''b'",
  'k: "a\\"b\\u00e9"',
  'k: [a, "b", {c: d}]',
  'k: {a: , b: [1, 2,]}',
  'k: x:y',
  'k: a #c',
  'k: a#c',
  '"q k": 1',
  '- a: 1',
  '  - b',
  '---',
  'k: &a x',
  'k: |',
  'k: >-',
  '? k',
  'k: !!str 1',
  '\tk: v',
  'k: "open',
  '{a: 1',
  'a: b: c',
];

describe('fast YAML reader', () => {
  it('reads most fixture files, with the same tree as the general parser', () => {
    let fast = 0;
    for (const text of FILES) if (assertSameAsGeneral(text)) fast++;
    assert.ok(fast > FILES.length * 0.8, `only ${fast} of ${FILES.length} files took the fast path`);
  });

  it('matches the general parser or steps aside, on edited fixtures (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FILES),
        fc.array(
          fc.record({
            at: fc.nat(),
            line: fc.constantFrom(...LINE_EDITS),
            indent: fc.nat(8),
            replace: fc.boolean(),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (text, edits) => {
          const lines = text.split('\n');
          for (const e of edits) {
            const i = e.at % (lines.length + 1);
            lines.splice(i, e.replace ? 1 : 0, ' '.repeat(e.indent) + e.line);
          }
          assertSameAsGeneral(lines.join('\n'));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('matches the general parser or steps aside, on character edits (property)', () => {
    const pieces = [
      ' ',
      ':',
      '-',
      '---',
      '#',
      '"',
      "'",
      '[',
      ']',
      '{',
      '}',
      ',',
      '\n',
      '\r\n',
      'a',
      ': ',
      '- ',
      '\\',
      '?',
      'é',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...FILES),
        fc.array(fc.record({ at: fc.nat(), piece: fc.constantFrom(...pieces), drop: fc.nat(3) }), {
          minLength: 1,
          maxLength: 5,
        }),
        (text, edits) => {
          let edited = text;
          for (const e of edits) {
            const i = e.at % (edited.length + 1);
            edited = edited.slice(0, i) + e.piece + edited.slice(i + e.drop);
          }
          assertSameAsGeneral(edited);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('steps aside for YAML it does not handle', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: |\n  x\n',
      'a: !!str 1\n',
      'a:\n\tb: 1\n',
      'a: 1\n---\nb: 2\n',
      'a: b\n  c\n',
    ]) {
      assert.equal(fastTree(text, 1000, 100, false), undefined, text);
    }
  });
});
