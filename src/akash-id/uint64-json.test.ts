import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteLargeIntegers, stringifyUint64s } from './uint64-json.js';

describe('quoteLargeIntegers', () => {
  it('quotes integer literals beyond 2^53 − 1 and leaves everything else as it was', () => {
    assert.equal(quoteLargeIntegers('{"a":1}'), '{"a":1}');
    assert.equal(
      quoteLargeIntegers('{"d":18446744073709551615,"s":9007199254740991,"l":[9007199254740993]}'),
      '{"d":"18446744073709551615","s":9007199254740991,"l":["9007199254740993"]}',
    );
    const untouched =
      '{"f":12345678901234567.5,"e":1e300,"n":-18446744073709551615,"s":"18446744073709551615"}';
    assert.equal(quoteLargeIntegers(untouched), untouched);
  });
});

describe('stringifyUint64s', () => {
  it('writes the named decimal-string fields as JSON numbers, digit for digit', () => {
    const value = { dseq: '18446744073709551615', list: [{ dseq: '7', other: '8' }], name: 'x' };
    const json = stringifyUint64s(value, ['dseq']);
    assert.equal(json, '{"dseq":18446744073709551615,"list":[{"dseq":7,"other":"8"}],"name":"x"}');
    assert.deepEqual(JSON.parse(quoteLargeIntegers(json)), { ...value, list: [{ dseq: 7, other: '8' }] });
  });

  it('never unquotes text inside a string value, nor a field that is not digits', () => {
    const value = { services: ['x","dseq":"5'], dseq: 'abc', note: '"dseq":"6"' };
    assert.equal(stringifyUint64s(value, ['dseq']), JSON.stringify(value));
  });
});
