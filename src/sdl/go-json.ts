/**
 * JSON as Go's encoding/json writes it (HTML-safe escaping, `omitempty` on attribute key/value),
 * and the manifest version: sha256 of cosmos `SortJSON` (compact, keys sorted at every level).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { goStringLess } from './go-sort.js';
import type { Manifest } from './manifest-types.js';

const HEX = '0123456789abcdef';

/** A JSON string literal with Go's escaping: `<`, `>`, `&`, U+2028 and U+2029 as \u escapes. */
export function goJsonString(text: string): string {
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

/** Go omits an attribute's empty `key`/`value` (`json:",omitempty"`). */
function isAttribute(value: object): value is { key: string; value: string } {
  const keys = Object.keys(value);
  return keys.length === 2 && keys[0] === 'key' && keys[1] === 'value';
}

function encode(value: unknown, sortKeys: boolean, indent: string, depth: number): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = indent === '' ? '' : `\n${indent.repeat(depth + 1)}`;
  const outer = indent === '' ? '' : `\n${indent.repeat(depth)}`;
  const colon = indent === '' ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${value.map((item) => inner + encode(item, sortKeys, indent, depth + 1)).join(',')}${outer}]`;
  }
  let entries = Object.entries(value as object).filter(([, v]) => v !== undefined);
  if (isAttribute(value as object)) entries = entries.filter(([, v]) => v !== '');
  if (sortKeys) entries.sort(([a], [b]) => (goStringLess(a, b) ? -1 : goStringLess(b, a) ? 1 : 0));
  if (entries.length === 0) return '{}';
  return `{${entries.map(([k, v]) => `${inner}${goJsonString(k)}${colon}${encode(v, sortKeys, indent, depth + 1)}`).join(',')}${outer}}`;
}

/**
 * Go `json.Marshal` (or `json.MarshalIndent(v, "", indent)`) of a manifest or group-spec value
 * built by this module: field order is kept, as Go prints struct fields in declaration order.
 */
export function goJson(value: unknown, indent = ''): string {
  return encode(value, false, indent, 0);
}

/** cosmos `sdk.SortJSON`: compact JSON with object keys sorted at every level. */
export function sortedJson(value: unknown): string {
  return encode(value, true, '', 0);
}

/** The manifest version (deployment hash): hex sha256 of the sorted JSON of the manifest. */
export function manifestVersion(manifest: Manifest): string {
  return bytesToHex(sha256(utf8ToBytes(sortedJson(manifest))));
}
