/**
 * The scalar conversions the Go reference applies to SDL text (strconv, yaml.v3 resolution,
 * cosmos LegacyDec, time.ParseDuration, blang/semver, and amd64 float→uint conversions).
 * Each returns a value or a Go-worded error message, so that our acceptance and our messages
 * match what the provider's Go code does with the same bytes.
 */

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const TWO_POW_63 = 2 ** 63;
const TWO_POW_64 = 2 ** 64;

/** A value or a Go error message. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string };

function good<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function bad<T>(message: string): Parsed<T> {
  return { ok: false, message };
}

/** Go `%q` for the ASCII-printable strings SDL messages carry; escapes everything else. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function isDigit(ch: string | undefined, base: number): boolean {
  if (ch === undefined) return false;
  const value = Number.parseInt(ch, base);
  return !Number.isNaN(value) && value < base && /^[0-9a-zA-Z]$/.test(ch);
}

/** strconv's underscoreOK: underscores only between digits, or between a base prefix and a digit. */
function underscoreOk(text: string): boolean {
  let s = text;
  let saw = '^';
  let i = 0;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Digits of `base` with optional underscores (base-0 parsing only); undefined when malformed. */
function digitsValue(digits: string, base: number, underscores: boolean): bigint | undefined {
  if (digits === '') return undefined;
  let value = 0n;
  let any = false;
  for (const ch of digits) {
    if (ch === '_' && underscores) continue;
    if (!isDigit(ch, base)) return undefined;
    value = value * BigInt(base) + BigInt(Number.parseInt(ch, base));
    any = true;
  }
  return any ? value : undefined;
}

/** strconv.ParseUint(s, base, bits) for base 10 or 0; the message is Go's. */
export function parseUint(text: string, base: 0 | 10, bits: 32 | 64): Parsed<bigint> {
  const fn = 'strconv.ParseUint';
  // Built only when returned: resolving a plain scalar tries this parse on every word that starts with a digit.
  const syntax = (): Parsed<bigint> => bad(`${fn}: parsing ${goQuote(text)}: invalid syntax`);
  if (text === '') return syntax();
  let digits = text;
  let radix = 10;
  if (base === 0) {
    if (/^0[xX]/.test(text)) {
      radix = 16;
      digits = text.slice(2);
    } else if (/^0[bB]/.test(text)) {
      radix = 2;
      digits = text.slice(2);
    } else if (/^0[oO]/.test(text)) {
      radix = 8;
      digits = text.slice(2);
    } else if (text.startsWith('0') && text.length > 1) {
      radix = 8;
      digits = text.slice(1);
    }
    if (!underscoreOk(text)) return syntax();
  }
  const value = digitsValue(digits, radix, base === 0);
  if (value === undefined) return syntax();
  const max = bits === 32 ? 0xffffffffn : MAX_UINT64;
  if (value > max) return bad(`${fn}: parsing ${goQuote(text)}: value out of range`);
  return good(value);
}

/** strconv.ParseInt(s, 0, 64). */
function parseInt64Base0(text: string): bigint | undefined {
  let body = text;
  let negative = false;
  if (body.startsWith('+') || body.startsWith('-')) {
    negative = body.startsWith('-');
    body = body.slice(1);
  }
  if (body === '' || body.startsWith('+') || body.startsWith('-')) return undefined;
  const magnitude = parseUint(body, 0, 64);
  if (!magnitude.ok || !underscoreOk(text)) return undefined;
  const value = negative ? -magnitude.value : magnitude.value;
  return value < MIN_INT64 || value > MAX_INT64 ? undefined : value;
}

/** strconv.ParseFloat(s, 64), including inf/nan words, hex floats and underscores. */
export function parseFloat64(text: string): Parsed<number> {
  const syntax = (): Parsed<number> => bad(`strconv.ParseFloat: parsing ${goQuote(text)}: invalid syntax`);
  let body = text;
  let sign = 1;
  if (body.startsWith('+') || body.startsWith('-')) {
    sign = body.startsWith('-') ? -1 : 1;
    body = body.slice(1);
  }
  const lower = body.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return good(sign * Number.POSITIVE_INFINITY);
  if (lower === 'nan') return body === text ? good(Number.NaN) : syntax();
  if (!underscoreOk(text)) return syntax();
  const plain = body.replaceAll('_', '');
  let value: number;
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(plain);
  if (hex) {
    const whole = hex[1] ?? '';
    const frac = hex[2] ?? '';
    if (whole === '' && frac === '') return syntax();
    const mantissa = BigInt(`0x${whole}${frac}` === '0x' ? '0' : `0x${whole}${frac}`);
    value = Number(mantissa) * 2 ** (Number(hex[3]) - 4 * frac.length);
  } else if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(plain)) {
    value = Number(plain);
  } else {
    return syntax();
  }
  if (!Number.isFinite(value)) return bad(`strconv.ParseFloat: parsing ${goQuote(text)}: value out of range`);
  return good(sign * value);
}

/** Go `int64(f)` on amd64: out-of-range and NaN give the "integer indefinite" value. */
function toInt64(value: number): bigint {
  if (Number.isNaN(value) || value >= TWO_POW_63 || value < -TWO_POW_63) return MIN_INT64;
  return BigInt(Math.trunc(value));
}

/** Go `uint32(f)` on amd64 (through int64, keeping the low 32 bits). */
export function toUint32(value: number): number {
  return Number(BigInt.asUintN(32, toInt64(value)));
}

/** Go `uint64(f)` on amd64. */
export function toUint64(value: number): bigint {
  if (Number.isNaN(value) || value >= TWO_POW_64) return 1n << 63n;
  if (value >= TWO_POW_63) return BigInt(Math.trunc(value));
  return BigInt.asUintN(64, toInt64(value));
}

/** How yaml.v3 resolves an untagged plain scalar. */
export type Resolved =
  | { readonly tag: 'null' }
  | { readonly tag: 'bool'; readonly value: boolean }
  | { readonly tag: 'int'; readonly value: bigint }
  | { readonly tag: 'float'; readonly value: number }
  | { readonly tag: 'merge' }
  | { readonly tag: 'str' };

const RESOLVE_WORDS: ReadonlyMap<string, Resolved> = new Map<string, Resolved>([
  ...['true', 'True', 'TRUE'].map((w): [string, Resolved] => [w, { tag: 'bool', value: true }]),
  ...['false', 'False', 'FALSE'].map((w): [string, Resolved] => [w, { tag: 'bool', value: false }]),
  ...['', '~', 'null', 'Null', 'NULL'].map(
    (w): [string, Resolved] => [w, { tag: 'null' }] as [string, Resolved],
  ),
  ...['.nan', '.NaN', '.NAN'].map((w): [string, Resolved] => [w, { tag: 'float', value: Number.NaN }]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((w): [string, Resolved] => [
    w,
    { tag: 'float', value: Number.POSITIVE_INFINITY },
  ]),
  ...['-.inf', '-.Inf', '-.INF'].map((w): [string, Resolved] => [
    w,
    { tag: 'float', value: Number.NEGATIVE_INFINITY },
  ]),
  ['<<', { tag: 'merge' }],
]);

/** Decimal integers of up to 18 digits, without sign or leading zero: always within int64. */
const DECIMAL_INT64 = /^(0|[1-9][0-9]{0,17})$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Shared resolutions for the common cases, so a scalar needs no allocation for them. */
export const RESOLVED_STR: Resolved = Object.freeze({ tag: 'str' });
export const RESOLVED_NULL: Resolved = Object.freeze({ tag: 'null' });
const STR = RESOLVED_STR;

/** yaml.v3 `resolve("", in)` for a plain scalar (timestamps are left as strings: no field reads them). */
export function resolvePlain(text: string): Resolved {
  const word = RESOLVE_WORDS.get(text);
  if (word) return word;
  const first = text[0] ?? '';
  if (first === '.') {
    const f = parseFloat64(text);
    return f.ok ? { tag: 'float', value: f.value } : STR;
  }
  if (!/[-+0-9]/.test(first)) return STR;
  // The common case, a decimal that fits an int64 (ports, counts): what the general parse below gives it.
  if (DECIMAL_INT64.test(text)) return { tag: 'int', value: BigInt(text) };
  const plain = text.replaceAll('_', '');
  const asInt = parseInt64Base0(plain);
  if (asInt !== undefined) return { tag: 'int', value: asInt };
  const asUint = parseUint(plain, 0, 64);
  if (asUint.ok) return { tag: 'int', value: asUint.value };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = parseFloat64(plain);
    if (f.ok) return { tag: 'float', value: f.value };
  }
  for (const [prefix, radix] of [
    ['0b', 2],
    ['0o', 8],
  ] as const) {
    if (plain.startsWith(prefix) || plain.startsWith(`-${prefix}`)) {
      const negative = plain.startsWith('-');
      const value = digitsValue(plain.slice(prefix.length + (negative ? 1 : 0)), radix, false);
      if (value !== undefined) {
        const signed = negative ? -value : value;
        if (signed >= MIN_INT64 && signed <= MAX_UINT64) return { tag: 'int', value: signed };
      }
    }
  }
  return STR;
}

/** yaml.v3 decoding of a resolved scalar into a Go unsigned integer of `bits`; undefined = type error. */
export function resolvedToUint(resolved: Resolved, bits: 32 | 64): bigint | undefined {
  const max = bits === 32 ? 0xffffffffn : MAX_UINT64;
  if (resolved.tag === 'int')
    return resolved.value >= 0n && resolved.value <= max ? resolved.value : undefined;
  if (resolved.tag === 'float') {
    if (!(resolved.value <= TWO_POW_64)) return undefined;
    const converted = toUint64(resolved.value);
    return converted <= max ? converted : undefined;
  }
  return undefined;
}

const TRUE_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** yaml.v3 decoding into a Go bool: YAML booleans, plus the YAML 1.1 words for string scalars. */
export function resolvedToBool(resolved: Resolved, text: string): boolean | undefined {
  if (resolved.tag === 'bool') return resolved.value;
  if (resolved.tag !== 'str') return undefined;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

/** strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** Binary and decimal size suffixes (chain-sdk `unit` package). */
const KI = 1024;
export const BYTE_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['k', 1e3],
  ['Ki', KI],
  ['M', 1e6],
  ['Mi', KI ** 2],
  ['G', 1e9],
  ['Gi', KI ** 3],
  ['T', 1e12],
  ['Ti', KI ** 4],
  ['P', 1e15],
  ['Pi', KI ** 5],
  ['E', 1e18],
  ['Ei', KI ** 6],
]);
export const MEMORY_SUFFIXES: ReadonlyMap<string, number> = new Map(
  [...BYTE_SUFFIXES].filter(([suffix]) => suffix.endsWith('i')),
);

const NEGATIVE = 'invalid: negative value not allowed';

/** Go `parseWithSuffix`: memory and storage sizes such as `512Mi`, `1.5G` or `1e9`. */
export function parseByteQuantity(text: string, suffixes: ReadonlyMap<string, number>): Parsed<bigint> {
  for (const [suffix, unit] of suffixes) {
    if (!text.endsWith(suffix)) continue;
    const f = parseFloat64(text.slice(0, -suffix.length));
    if (!f.ok) return f;
    const value = f.value * unit;
    return value < 0 ? bad(NEGATIVE) : good(toUint64(value));
  }
  const f = parseFloat64(text);
  if (!f.ok) return f;
  return f.value < 0 ? bad(NEGATIVE) : good(toUint64(f.value));
}

/** Go `cpuQuantity`: `100m` millicpus or a CPU count such as `0.5`; the result is millicpus. */
export function parseCpuQuantity(text: string): Parsed<number> {
  if (text.endsWith('m')) {
    const u = parseUint(text.slice(0, -1), 10, 32);
    return u.ok ? good(Number(u.value)) : u;
  }
  const f = parseFloat64(text);
  if (!f.ok) return f;
  const value = f.value * 1000;
  return value < 0 ? bad(NEGATIVE) : good(toUint32(value));
}

/** An 18-decimal fixed-point amount (cosmos `LegacyDec`), as its scaled integer. */
const DEC_PRECISION = 18;
const DEC_MAX_BITS = 256 + 60;

/** cosmos `LegacyNewDecFromStr`. */
export function parseLegacyDec(text: string): Parsed<bigint> {
  let body = text;
  let negative = false;
  if (body.startsWith('-')) {
    negative = true;
    body = body.slice(1);
  }
  if (body === '') return bad('decimal string cannot be empty');
  const parts = body.split('.');
  let combined = parts[0]!;
  let decimals = 0;
  if (parts.length === 2) {
    decimals = parts[1]!.length;
    if (decimals === 0 || combined.length === 0) return bad('invalid decimal length');
    combined += parts[1]!;
  } else if (parts.length > 2) {
    return bad('invalid decimal string');
  }
  if (decimals > DEC_PRECISION) {
    return bad(
      `value '${body}' exceeds max precision by ${DEC_PRECISION - decimals} decimal places: max precision ${DEC_PRECISION}`,
    );
  }
  combined += '0'.repeat(DEC_PRECISION - decimals);
  const match = /^([+-]?)([0-9]+)$/.exec(combined);
  if (!match) return bad(`failed to set decimal string with base 10: ${combined}`);
  let value = BigInt(match[2]!) * (match[1] === '-' ? -1n : 1n);
  if (negative) value = -value;
  const magnitude = value < 0n ? -value : value;
  if (magnitude.toString(2).length > DEC_MAX_BITS) return bad('out of range: invalid decimal string');
  return good(value);
}

/** cosmos `LegacyDec.String()`: always 18 decimals. */
export function formatLegacyDec(scaled: bigint): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(DEC_PRECISION + 1, '0');
  const text = `${digits.slice(0, -DEC_PRECISION)}.${digits.slice(-DEC_PRECISION)}`;
  return negative ? `-${text}` : text;
}

const DURATION_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1000n],
  ['µs', 1000n],
  ['μs', 1000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Go time.ParseDuration, in nanoseconds. */
export function parseGoDuration(original: string): Parsed<bigint> {
  const invalid = bad<bigint>(`time: invalid duration ${goQuote(original)}`);
  let s = original;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return good(0n);
  if (s === '') return invalid;
  let total = 0n;
  const limit = 1n << 63n;
  while (s !== '') {
    if (!/^[0-9.]/.test(s)) return invalid;
    const whole = /^[0-9]*/.exec(s)![0];
    s = s.slice(whole.length);
    let fraction = '';
    let sawDot = false;
    if (s.startsWith('.')) {
      sawDot = true;
      s = s.slice(1);
      fraction = /^[0-9]*/.exec(s)![0];
      s = s.slice(fraction.length);
    }
    if (whole === '' && (!sawDot || fraction === '')) return invalid;
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === '') return bad(`time: missing unit in duration ${goQuote(original)}`);
    s = s.slice(unitText.length);
    const unit = DURATION_UNITS.get(unitText);
    if (unit === undefined)
      return bad(`time: unknown unit ${goQuote(unitText)} in duration ${goQuote(original)}`);
    const v = whole === '' ? 0n : BigInt(whole);
    if (v > limit / unit) return invalid;
    let part = v * unit;
    if (fraction !== '') {
      const scale = 10 ** fraction.length;
      part += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (part > limit) return invalid;
    }
    total += part;
    if (total > limit) return invalid;
  }
  if (!negative && total > limit - 1n) return invalid;
  return good(negative ? -total : total);
}

/** A parsed semantic version (blang/semver), enough to choose the SDL dialect. */
export interface SemVer {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: readonly string[];
  readonly build: readonly string[];
}

function parseNumber(part: string, name: string): Parsed<bigint> {
  if (!/^[0-9]*$/.test(part)) return bad(`Invalid character(s) found in ${name} number ${goQuote(part)}`);
  if (part.length > 1 && part.startsWith('0')) {
    const title = name[0]!.toUpperCase() + name.slice(1);
    return bad(`${title} number must not contain leading zeroes ${goQuote(part)}`);
  }
  return parseUint(part, 10, 64);
}

/** blang/semver `Parse`. */
function parseSemVer(text: string): Parsed<SemVer> {
  if (text === '') return bad('Version string empty');
  const parts = splitN(text, '.', 3);
  if (parts.length !== 3) return bad('No Major.Minor.Patch elements found');
  const major = parseNumber(parts[0]!, 'major');
  if (!major.ok) return major;
  const minor = parseNumber(parts[1]!, 'minor');
  if (!minor.ok) return minor;
  let patchText = parts[2]!;
  let build: string[] = [];
  let pre: string[] = [];
  const plus = patchText.indexOf('+');
  if (plus !== -1) {
    build = patchText.slice(plus + 1).split('.');
    patchText = patchText.slice(0, plus);
  }
  const dash = patchText.indexOf('-');
  if (dash !== -1) {
    pre = patchText.slice(dash + 1).split('.');
    patchText = patchText.slice(0, dash);
  }
  const patch = parseNumber(patchText, 'patch');
  if (!patch.ok) return patch;
  for (const p of pre) {
    if (p === '') return bad('Prerelease is empty');
    if (/^[0-9]+$/.test(p)) {
      if (p.length > 1 && p.startsWith('0')) {
        return bad(`Numeric PreRelease version must not contain leading zeroes ${goQuote(p)}`);
      }
    } else if (!/^[0-9A-Za-z-]+$/.test(p)) {
      return bad(`Invalid character(s) found in prerelease ${goQuote(p)}`);
    }
  }
  for (const b of build) {
    if (b === '') return bad('Build meta data is empty');
    if (!/^[0-9A-Za-z-]+$/.test(b)) return bad(`Invalid character(s) found in build meta data ${goQuote(b)}`);
  }
  return good({ major: major.value, minor: minor.value, patch: patch.value, pre, build });
}

function splitN(text: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (out.length < n - 1) {
    const at = rest.indexOf(sep);
    if (at === -1) break;
    out.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  out.push(rest);
  return out;
}

/** blang/semver `ParseTolerant`: trims, drops a leading `v`, strips leading zeroes and pads `2.1` to `2.1.0`. */
export function parseTolerantSemVer(input: string): Parsed<SemVer> {
  let s = input.trim();
  if (s.startsWith('v')) s = s.slice(1);
  const parts = splitN(s, '.', 3).map((part) => {
    if (part.length <= 1) return part;
    const trimmed = part.replace(/^0+/, '');
    return trimmed === '' || !/^[0-9]/.test(trimmed) ? `0${trimmed}` : trimmed;
  });
  if (parts.length < 3) {
    if (/[+-]/.test(parts[parts.length - 1]!))
      return bad('Short version cannot contain PreRelease/Build meta data');
    while (parts.length < 3) parts.push('0');
  }
  return parseSemVer(parts.join('.'));
}

/** semver.Version.String(). */
export function formatSemVer(v: SemVer): string {
  let text = `${v.major}.${v.minor}.${v.patch}`;
  if (v.pre.length > 0) text += `-${v.pre.join('.')}`;
  if (v.build.length > 0) text += `+${v.build.join('.')}`;
  return text;
}

/** Compares major.minor.patch and pre-release presence, enough for the ==2.0.0 / >=2.1.0 tests. */
export function compareSemVer(v: SemVer, major: bigint, minor: bigint, patch: bigint): number {
  const pairs: [bigint, bigint][] = [
    [v.major, major],
    [v.minor, minor],
    [v.patch, patch],
  ];
  for (const [a, b] of pairs) if (a !== b) return a < b ? -1 : 1;
  return v.pre.length > 0 ? -1 : 0;
}
