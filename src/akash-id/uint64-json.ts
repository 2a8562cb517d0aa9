/**
 * JSON text that carries uint64 ids (dseqs) as JSON numbers, as Akash's Go code writes them: read without losing
 * digits above 2^53 − 1, and written digit for digit.
 */

/**
 * The same text with every integer literal beyond 2^53 − 1 written as a decimal string, so `JSON.parse` keeps it
 * exact: Akash's Go client sends uint64s (a migration's `destination_dseq`) as JSON numbers. One pass, strings
 * skipped; fractions and exponents are left alone (they are never ids).
 */
export function quoteLargeIntegers(text: string): string {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) {
      inString = true;
      continue;
    }
    const isDigit = (at: number) => text.charCodeAt(at) >= 0x30 && text.charCodeAt(at) <= 0x39;
    if (!isDigit(i)) continue;
    let end = i;
    while (end < text.length && isDigit(end)) end++;
    const next = text.charCodeAt(end);
    const integer = next !== 0x2e && next !== 0x65 && next !== 0x45; // no '.', 'e' or 'E'
    // a digit run after '-', '+', '.', 'e' or 'E' is a sign, fraction or exponent, never a uint64
    const prev = i === 0 ? 0 : text.charCodeAt(i - 1);
    const standalone = prev !== 0x2d && prev !== 0x2b && prev !== 0x2e && prev !== 0x65 && prev !== 0x45;
    if (
      integer &&
      standalone &&
      end - i >= 16 &&
      BigInt(text.slice(i, end)) > BigInt(Number.MAX_SAFE_INTEGER)
    ) {
      out += `${text.slice(from, i)}"${text.slice(i, end)}"`;
      from = end;
    }
    i = end - 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * `JSON.stringify(value)` with the decimal-string values of the keys in `keys` written as JSON numbers, digit for
 * digit (Go declares those fields uint64, so a quoted one would not decode there). `keys` are plain identifiers.
 * Only values that are decimal digits are unquoted; a match cannot start inside a string, where every `"` is
 * escaped.
 */
export function stringifyUint64s(value: unknown, keys: readonly string[]): string {
  const json = JSON.stringify(value);
  if (keys.length === 0) return json;
  return json.replace(new RegExp(`"(${keys.join('|')})":"([0-9]+)"`, 'g'), '"$1":$2');
}
