/**
 * JSON as Go's encoding/json writes it (HTML-safe escaping, `omitempty` on attribute key/value),
 * and the manifest version: sha256 of cosmos `SortJSON` (compact, keys sorted at every level).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { goStringLess } from './go-sort.js';
import type { Manifest } from './manifest-types.js';

const HEX = '0123456789abcdef';

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON must escape control characters, so this looks for them.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal with Go's escaping: `<`, `>`, `&`, U+2028 and U+2029 as \u escapes. */
export function goJsonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let escaped: string | undefined;
    if (c < 0x20) {
      escaped =
        c === 0x0a
          ? '\\n'
          : c === 0x0d
            ? '\\r'
            : c === 0x09
              ? '\\t'
              : c === 0x08
                ? '\\b'
                : c === 0x0c
                  ? '\\f'
                  : `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x22) escaped = '\\"';
    else if (c === 0x5c) escaped = '\\\\';
    else if (c === 0x3c) escaped = '\\u003c';
    else if (c === 0x3e) escaped = '\\u003e';
    else if (c === 0x26) escaped = '\\u0026';
    else if (c === 0x2028) escaped = '\\u2028';
    else if (c === 0x2029) escaped = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      // Go writes invalid UTF-8 as the replacement character.
      escaped = '\\ufffd';
    }
    if (escaped !== undefined) {
      out += text.slice(start, i) + escaped;
      start = i + 1;
    }
  }
  return `${out + text.slice(start)}"`;
}

/** Object keys in byte order, cached per key list (the manifest has a handful of shapes). */
const sortedKeyCache = new Map<
  string,
  { readonly keys: readonly string[]; readonly sorted: readonly string[] }[]
>();

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keysOf(value: object, sortKeys: boolean): readonly string[] {
  const keys = Object.keys(value);
  if (!sortKeys || keys.length < 2) return keys;
  const bucket = sortedKeyCache.get(keys[0]!);
  const hit = bucket?.find((entry) => sameKeys(entry.keys, keys));
  if (hit !== undefined) return hit.sorted;
  const sorted = [...keys].sort((a, b) => (goStringLess(a, b) ? -1 : goStringLess(b, a) ? 1 : 0));
  if (bucket === undefined) sortedKeyCache.set(keys[0]!, [{ keys, sorted }]);
  else if (bucket.length < 16) bucket.push({ keys, sorted });
  return sorted;
}

/** Quoted object keys: a manifest repeats a few dozen field names thousands of times. */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = goJsonString(key);
    if (quotedKeys.size < 1024) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** Line breaks with `depth` indents, made once per indent and depth: a manifest has thousands of containers. */
const lineBreaks = new Map<string, string[]>();

function lineBreak(indent: string, depth: number): string {
  if (indent === '') return '';
  let made = lineBreaks.get(indent);
  if (made === undefined) {
    made = [];
    lineBreaks.set(indent, made);
  }
  made[depth] ??= `\n${indent.repeat(depth)}`;
  return made[depth];
}

function encode(value: unknown, sortKeys: boolean, indent: string, depth: number): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = lineBreak(indent, depth + 1);
  const outer = lineBreak(indent, depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    let out = '[';
    for (let i = 0; i < value.length; i++)
      out += (i === 0 ? '' : ',') + inner + encode(value[i], sortKeys, indent, depth + 1);
    return `${out}${outer}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = keysOf(record, sortKeys);
  // An attribute ({key, value}) drops empty strings, as Go's `omitempty` does.
  const attribute = keys.length === 2 && 'key' in record && 'value' in record;
  const colon = indent === '' ? ':' : ': ';
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = record[key];
    if (v === undefined || (attribute && v === '')) continue;
    out += (first ? '' : ',') + inner + quotedKey(key) + colon + encode(v, sortKeys, indent, depth + 1);
    first = false;
  }
  return first ? '{}' : `${out}${outer}}`;
}

/**
 * Where JSON.stringify's output may differ from Go's: `<`, `>`, `&`, U+2028 and U+2029 (Go escapes them), an escaped
 * lone surrogate (Go writes U+FFFD) and an empty `key` or `value` field (an attribute's `omitempty`). Outside string
 * literals JSON has none of these, and inside one a `"` is always escaped, so a match can be a false alarm (then the
 * encoder runs) but never misses a difference.
 */
const NOT_AS_GO = /[<>&\u2028\u2029]|\\ud[89a-f]|"(?:key|value)": ?""/;

/**
 * Go `json.Marshal` (or `json.MarshalIndent(v, "", indent)`) of a manifest or group-spec value
 * built by this module: field order is kept, as Go prints struct fields in declaration order.
 */
export function goJson(value: unknown, indent = ''): string {
  // JSON.stringify writes the same bytes as Go for nearly every manifest, and natively: a one-shot CLI run would
  // otherwise run the encoder below once, cold, in the interpreter. Its output is used only when nothing in it is
  // written differently by Go (NOT_AS_GO); otherwise the encoder writes Go's bytes. It caps indents at 10 characters.
  if (indent.length <= 10) {
    let native: string | undefined;
    try {
      native = JSON.stringify(value, null, indent);
    } catch {
      native = undefined; // a bigint or a cycle: the encoder's behaviour applies
    }
    if (native !== undefined && !NOT_AS_GO.test(native)) return native;
  }
  return encode(value, false, indent, 0);
}

/** cosmos `sdk.SortJSON`: compact JSON with object keys sorted at every level. */
export function sortedJson(value: unknown): string {
  return encode(value, true, '', 0);
}

type Sha256Hex = (text: string) => string;

type Crypto = {
  createHash(algorithm: 'sha256'): { update(data: string): { digest(encoding: 'hex'): string } };
};

/**
 * Node's native SHA-256 when the runtime has one (about ten times faster), else undefined. `node:crypto` is
 * loaded on the first hash, not with this module: printing a manifest hashes nothing.
 */
function nativeSha256(): Sha256Hex | undefined {
  const builtin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  if (builtin === undefined) return undefined;
  let crypto: Crypto | undefined;
  return (text) => {
    crypto ??= builtin('node:crypto') as Crypto;
    return crypto.createHash('sha256').update(text).digest('hex');
  };
}

/**
 * The portable SHA-256 (the browser's console), imported statically: the engine has no top-level await, so
 * the CLI's SDL commands can run it as one CommonJS bundle (scripts/build-cli.mjs).
 */
const portableSha256: Sha256Hex = (text) => bytesToHex(sha256(utf8ToBytes(text)));

/** SHA-256 of a string's UTF-8 bytes, in hex. */
export const sha256Hex: Sha256Hex = nativeSha256() ?? portableSha256;

/** The manifest version (deployment hash): hex sha256 of the sorted JSON of the manifest. */
export function manifestVersion(manifest: Manifest): string {
  return sha256Hex(sortedJson(manifest));
}
