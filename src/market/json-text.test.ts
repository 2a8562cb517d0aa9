import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonDepth, MAX_JSON_DEPTH, parseJsonExact, parseJsonText } from './json-text.js';

describe('bounded JSON text', () => {
  it('measures nesting without counting brackets inside strings', () => {
    assert.equal(jsonDepth('1'), 0);
    assert.equal(jsonDepth('[]'), 1);
    assert.equal(jsonDepth('{"a":[{"b":[]}],"c":{}}'), 4);
    assert.equal(jsonDepth('["[[[[", "\\"{{{{", "\\\\"]'), 1);
    assert.equal(jsonDepth('[[[[[[[[', 3), 4, 'stops counting past the limit');
  });

  it('refuses text nested past the bound before parsing it, and parses the rest', () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assert.deepEqual(parseJsonText(nested(MAX_JSON_DEPTH), 'the body').ok, true);
    const deep = parseJsonText(nested(MAX_JSON_DEPTH + 1), 'the body');
    assert.equal(deep.ok ? undefined : deep.error.code, 'INPUT_TOO_DEEP');
    // a million levels: refused in one pass, no stack involved
    const huge = parseJsonText(nested(1_000_000), 'the body');
    assert.equal(huge.ok ? undefined : huge.error.code, 'INPUT_TOO_DEEP');
    const broken = parseJsonText('{"a":', 'the body');
    assert.deepEqual(broken.ok ? undefined : broken.error, {
      code: 'INVALID_INPUT',
      message: 'the body is not JSON',
    });
    assert.deepEqual(parseJsonText('{"a":"]]]"}', 'the body'), { ok: true, value: { a: ']]]' } });
  });
});

describe('parseJsonExact', () => {
  it('keeps integers beyond 2^53 exact as decimal strings, and nothing else', () => {
    const text =
      '{"destination_dseq":18446744073709551615,"small":9007199254740991,"f":12345678901234567.5,"e":1e300,' +
      '"s":"18446744073709551615 in a string","neg":-18446744073709551615,"list":[9007199254740993]}';
    const parsed = parseJsonExact(text, 'body');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      destination_dseq: '18446744073709551615',
      small: 9007199254740991,
      f: Number('12345678901234567.5'),
      e: 1e300,
      s: '18446744073709551615 in a string',
      neg: Number('-18446744073709551615'),
      list: ['9007199254740993'],
    });
  });
});
