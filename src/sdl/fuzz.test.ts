import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sdlFixture } from '../../test/support/sdl-fixtures.js';
import { parseSdl, type SdlDiagnostic, type SdlResult } from './index.js';

const SEEDS = [
  'peer/chain-sdk/testdata/sdl/input/v2.0/ip-endpoint/input.yaml',
  'peer/chain-sdk/testdata/sdl/input/v2.1/shared-ip/input.yaml',
  'peer/chain-sdk/testdata/sdl/input/v2.0/persistent-storage/input.yaml',
  'peer/chain-sdk/testdata/sdl/input/v2.0/gpu-basic/input.yaml',
  'peer/chain-sdk/testdata/sdl/input/v2.1/credentials/input.yaml',
  'peer/chain-sdk/testdata/sdl/input/v2.0/http-options/input.yaml',
  'rules/anchors-and-merge.yaml',
].map((file) => readFileSync(sdlFixture(file), 'utf8'));

const JUNK = [
  '',
  '~',
  '-1',
  '0',
  '99999',
  '1.5',
  'yes',
  '"x"',
  '[]',
  '{}',
  '[a, {b: c}]',
  '&a x',
  '*a',
  '!!int z',
  '0x1p3',
  '1e400',
  'nan',
  '\u0000',
  '\t',
  ':',
  '- -',
  '"unterminated',
  '\u2028',
  '😀',
  '{',
  'a: b: c',
  '<<: {x: 1}',
  'ip',
  'myendpoint',
];

/** One edit on the text of a valid SDL: drop, copy, move or rewrite a line, or splice junk in. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('value' as const), at: fc.nat(), junk: fc.constantFrom(...JUNK) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(text: string, e: Edit): string {
  const lines = text.split('\n');
  const i = e.at % lines.length;
  switch (e.kind) {
    case 'delete':
      lines.splice(i, 1);
      break;
    case 'duplicate':
      lines.splice(i, 0, lines[i]!);
      break;
    case 'swap': {
      const j = e.to % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    }
    case 'indent':
      lines[i] =
        e.by >= 0 ? ' '.repeat(e.by) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-e.by}}`), '');
      break;
    case 'value': {
      const line = lines[i]!;
      const colon = line.indexOf(': ');
      lines[i] = colon === -1 ? `${line} ${e.junk}` : `${line.slice(0, colon + 2)}${e.junk}`;
      break;
    }
    case 'insert': {
      const at = e.at % (text.length + 1);
      return text.slice(0, at) + e.text + text.slice(at);
    }
    case 'truncate':
      return text.slice(0, e.at % (text.length + 1));
  }
  return lines.join('\n');
}

function checkDiagnostic(d: SdlDiagnostic, lines: number): void {
  assert.match(d.code, /^SDL_[A-Z_]+$/);
  assert.ok(d.message.length > 0);
  assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= lines, `line ${d.line} of ${lines}`);
  assert.ok(Number.isInteger(d.col) && d.col >= 1, `col ${d.col}`);
}

function checkResult(result: SdlResult, text: string): void {
  const lines = text.split('\n').length;
  for (const w of result.warnings) checkDiagnostic(w, lines);
  if (result.ok) {
    assert.match(result.value.manifestVersion, /^[0-9a-f]{64}$/);
    assert.ok(result.value.groups.length > 0);
  } else {
    assert.ok(result.error.length > 0);
    for (const d of result.error) checkDiagnostic(d, lines);
  }
}

describe('mutated SDLs (property)', () => {
  it('never throw, and every problem carries a code, a line and a column', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (seed, edits, strict) => {
          const text = edits.reduce(apply, seed);
          checkResult(parseSdl(text, { strict }), text);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('give the same answer for the text and for its UTF-8 bytes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (seed, edits) => {
          const text = edits.reduce(apply, seed);
          const fromText = parseSdl(text);
          const fromBytes = parseSdl(new TextEncoder().encode(text));
          assert.deepEqual(fromBytes, fromText);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('turn arbitrary bytes into positioned errors, never exceptions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = parseSdl(bytes);
        const text = new TextDecoder().decode(bytes);
        assert.equal(result.ok, false);
        checkResult(result, text);
      }),
      { numRuns: 300 },
    );
  });
});
