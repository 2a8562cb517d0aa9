import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BYTE_SUFFIXES,
  formatLegacyDec,
  formatSemVer,
  MEMORY_SUFFIXES,
  type Parsed,
  parseByteQuantity,
  parseCpuQuantity,
  parseFloat64,
  parseGoDuration,
  parseLegacyDec,
  parseTolerantSemVer,
  resolvedToBool,
  resolvedToUint,
  resolvePlain,
  toUint32,
  toUint64,
} from './go-values.js';

function value<T>(parsed: Parsed<T>): T {
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  return parsed.value;
}

function message<T>(parsed: Parsed<T>): string {
  assert.equal(parsed.ok, false);
  return parsed.ok ? '' : parsed.message;
}

// Expected values below were printed by the Go functions named in each test.
describe('strconv.ParseFloat', () => {
  it('accepts what Go accepts', () => {
    assert.equal(value(parseFloat64('1_000')), 1000);
    assert.equal(value(parseFloat64('0x1p4')), 16);
    assert.equal(value(parseFloat64('Infinity')), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(value(parseFloat64('nan'))));
    assert.equal(value(parseFloat64('.5')), 0.5);
    assert.equal(value(parseFloat64('5.')), 5);
    assert.equal(value(parseFloat64('1e-400')), 0);
  });

  it('refuses what Go refuses, with its words', () => {
    assert.equal(message(parseFloat64('0x10')), 'strconv.ParseFloat: parsing "0x10": invalid syntax');
    assert.equal(message(parseFloat64('-nan')), 'strconv.ParseFloat: parsing "-nan": invalid syntax');
    assert.equal(message(parseFloat64('1__0')), 'strconv.ParseFloat: parsing "1__0": invalid syntax');
    assert.equal(message(parseFloat64('1e400')), 'strconv.ParseFloat: parsing "1e400": value out of range');
  });
});

describe('amd64 float conversions', () => {
  it('uint32 goes through int64 and keeps the low bits', () => {
    assert.equal(toUint32(5e9), 705032704);
    assert.equal(toUint32(Number.NaN), 0);
    assert.equal(toUint32(Number.POSITIVE_INFINITY), 0);
    assert.equal(toUint32(1e19), 0);
    assert.equal(toUint32(4294967296.5), 0);
  });

  it('uint64 of huge or NaN values is 2^63', () => {
    assert.equal(toUint64(Number.NaN), 1n << 63n);
    assert.equal(toUint64(1e19), 10000000000000000000n);
    assert.equal(toUint64(1e20), 1n << 63n);
  });
});

describe('SDL quantities', () => {
  it('reads CPU as millicpus', () => {
    assert.equal(value(parseCpuQuantity('100m')), 100);
    assert.equal(value(parseCpuQuantity('0.5')), 500);
    assert.equal(value(parseCpuQuantity('1')), 1000);
    assert.equal(message(parseCpuQuantity('-100m')), 'strconv.ParseUint: parsing "-100": invalid syntax');
    assert.equal(message(parseCpuQuantity('-1')), 'invalid: negative value not allowed');
  });

  it('reads sizes with binary and decimal suffixes', () => {
    assert.equal(value(parseByteQuantity('512Mi', BYTE_SUFFIXES)), 536870912n);
    assert.equal(value(parseByteQuantity('1.5G', BYTE_SUFFIXES)), 1500000000n);
    assert.equal(value(parseByteQuantity('1e3', BYTE_SUFFIXES)), 1000n);
    assert.equal(value(parseByteQuantity('80Gi', MEMORY_SUFFIXES)), 85899345920n);
    assert.equal(
      message(parseByteQuantity('1G', MEMORY_SUFFIXES)),
      'strconv.ParseFloat: parsing "1G": invalid syntax',
    );
  });
});

describe('yaml.v3 scalar resolution', () => {
  it('resolves numbers, nulls and booleans like yaml.v3', () => {
    assert.deepEqual(resolvePlain('0x50'), { tag: 'int', value: 80n });
    assert.deepEqual(resolvePlain('0777'), { tag: 'int', value: 511n });
    assert.deepEqual(resolvePlain('08'), { tag: 'float', value: 8 });
    assert.deepEqual(resolvePlain('1_000'), { tag: 'int', value: 1000n });
    assert.deepEqual(resolvePlain('0b101'), { tag: 'int', value: 5n });
    assert.deepEqual(resolvePlain('0o17'), { tag: 'int', value: 15n });
    assert.deepEqual(resolvePlain('-.5'), { tag: 'float', value: -0.5 });
    assert.deepEqual(resolvePlain('~'), { tag: 'null' });
    assert.deepEqual(resolvePlain('True'), { tag: 'bool', value: true });
    assert.deepEqual(resolvePlain('yes'), { tag: 'str' });
  });

  it('decodes into uint32 and bool as yaml.v3 does', () => {
    assert.equal(resolvedToUint(resolvePlain('80.7'), 32), 80n);
    assert.equal(resolvedToUint(resolvePlain('-1'), 32), undefined);
    assert.equal(resolvedToUint(resolvePlain('4294967296'), 32), undefined);
    assert.equal(resolvedToUint(resolvePlain('"80"'), 32), undefined);
    assert.equal(resolvedToBool(resolvePlain('yes'), 'yes'), true);
    assert.equal(resolvedToBool(resolvePlain('Off'), 'Off'), false);
    assert.equal(resolvedToBool(resolvePlain('1'), '1'), undefined);
  });
});

describe('cosmos LegacyDec', () => {
  it('parses and prints with 18 decimals', () => {
    assert.equal(formatLegacyDec(value(parseLegacyDec('10'))), '10.000000000000000000');
    assert.equal(formatLegacyDec(value(parseLegacyDec('0.0001'))), '0.000100000000000000');
    assert.equal(formatLegacyDec(value(parseLegacyDec('--5'))), '5.000000000000000000');
    assert.equal(formatLegacyDec(value(parseLegacyDec('+5'))), '5.000000000000000000');
    assert.equal(formatLegacyDec(value(parseLegacyDec('-0'))), '0.000000000000000000');
  });

  it('refuses with cosmos words', () => {
    assert.equal(
      message(parseLegacyDec('1e3')),
      'failed to set decimal string with base 10: 1e3000000000000000000',
    );
    assert.equal(message(parseLegacyDec('.5')), 'invalid decimal length');
    assert.equal(message(parseLegacyDec('5.')), 'invalid decimal length');
    assert.equal(
      message(parseLegacyDec('1.0000000000000000001')),
      "value '1.0000000000000000001' exceeds max precision by -1 decimal places: max precision 18",
    );
  });
});

describe('time.ParseDuration', () => {
  it('matches Go', () => {
    assert.equal(value(parseGoDuration('1h30m')), 5_400_000_000_000n);
    assert.equal(value(parseGoDuration('.5s')), 500_000_000n);
    assert.equal(value(parseGoDuration('1.5h')), 5_400_000_000_000n);
    assert.equal(value(parseGoDuration('-1s')), -1_000_000_000n);
    assert.equal(value(parseGoDuration('0s')), 0n);
    assert.equal(message(parseGoDuration('abc')), 'time: invalid duration "abc"');
    assert.equal(message(parseGoDuration('')), 'time: invalid duration ""');
    assert.equal(message(parseGoDuration('1')), 'time: missing unit in duration "1"');
    assert.equal(message(parseGoDuration('1d')), 'time: unknown unit "d" in duration "1d"');
  });
});

describe('semver.ParseTolerant', () => {
  it('normalises like blang/semver', () => {
    const text = (s: string) => formatSemVer(value(parseTolerantSemVer(s)));
    assert.equal(text('2.0'), '2.0.0');
    assert.equal(text('v2.1'), '2.1.0');
    assert.equal(text('02.1'), '2.1.0');
    assert.equal(text('2'), '2.0.0');
    assert.equal(text('2.0.0-rc1'), '2.0.0-rc1');
    assert.equal(text('2.1.0+build'), '2.1.0+build');
    assert.equal(message(parseTolerantSemVer('abc')), 'Invalid character(s) found in major number "0abc"');
    assert.equal(message(parseTolerantSemVer('')), 'strconv.ParseUint: parsing "": invalid syntax');
    assert.equal(
      message(parseTolerantSemVer('2.0-rc')),
      'Short version cannot contain PreRelease/Build meta data',
    );
  });
});
