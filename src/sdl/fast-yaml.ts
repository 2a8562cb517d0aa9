/**
 * A fast reader for the plain YAML an SDL is usually written in: block mappings and sequences,
 * one-line flow collections, and one-line plain or quoted scalars, with comments.
 *
 * The general YAML parser costs about 0.5 µs per byte, too slow for large SDLs. This reader
 * builds exactly the tree (values and scalar offsets) the general path builds; positions of keys
 * and collections, needed only to report a problem, come from the general path. It gives up — returns
 * `undefined` — on anything else: anchors, aliases, tags, block or multi-line scalars, merge
 * keys, tabs, directives, several documents, and every error. The general path then handles the
 * input, so behaviour never depends on which path ran; a property test holds the two equal.
 */
import { RESOLVED_NULL } from './go-values.js';
import { type ContainerInfo, scalarNode, type YMap, YScalar, type YValue } from './yaml-value.js';

const FAIL = Symbol('fail');
type Fail = typeof FAIL;

const DOUBLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPES: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Characters that cannot start a plain scalar here (or that this reader leaves to the general path). */
const NOT_PLAIN_START = new Set([...',[]{}#&*!|>\'"%@`']);

/** A plain key of letters, digits and `_.-/`, and its colon: no indicator starts it, no `: ` or ` #` is inside. */
const PLAIN_KEY = '([A-Za-z0-9_][A-Za-z0-9_./-]*):';
const SIMPLE_KEY = new RegExp(PLAIN_KEY, 'y');
/**
 * `key: value` or `key:` to the end of a line: a plain key, then maybe a plain value of such characters (and
 * `=+@~`, and `:` that a space does not follow), then only spaces. Nothing here is special to YAML, so the general
 * steps read the line the same way.
 */
const SIMPLE_ENTRY = new RegExp(
  `${PLAIN_KEY}(?: +([A-Za-z0-9_./][A-Za-z0-9_./=+@~-]*(?::[A-Za-z0-9_./=+@~-]+)*))? *`,
  'y',
);

const LEADING_SPACES = / */y;

class Reader {
  // Line data in typed arrays, read in place: an SDL has thousands of lines and these are read constantly.
  // Per line: the offsets of its start and content end (before `\r`), its indent, whether it is blank.
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly indents: Int32Array;
  private readonly blanks: Uint8Array;
  private readonly lineCount: number;
  private nodes = 0;
  private depth = 0;
  /** Set when the node limit stopped the read. */
  exceeded = false;
  /** Offsets of collections and keys, recorded only when asked for (they cost allocations). */
  readonly info: Map<object, ContainerInfo> | undefined;

  constructor(
    private readonly text: string,
    private readonly maxNodes: number,
    private readonly maxDepth: number,
    track: boolean,
  ) {
    this.info = track ? new Map() : undefined;
    let count = 1;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    this.lineCount = count;
    this.starts = new Int32Array(count);
    this.ends = new Int32Array(count);
    this.indents = new Int32Array(count);
    this.blanks = new Uint8Array(count);
    let start = 0;
    for (let li = 0; li < count; li++) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const next = end + 1;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      // The line's leading spaces, found natively: an SDL's lines are indented by eight on average.
      LEADING_SPACES.lastIndex = start;
      LEADING_SPACES.test(text);
      const indent = Math.min(LEADING_SPACES.lastIndex, end);
      this.starts[li] = start;
      this.ends[li] = end;
      this.indents[li] = indent - start;
      this.blanks[li] = indent === end || text.charCodeAt(indent) === 35 ? 1 : 0;
      start = next;
    }
  }

  /** The document root, `undefined` for an empty document, or FAIL. */
  root(): YValue | undefined | Fail {
    let li = this.nextContent(0);
    if (li === undefined) return undefined;
    const head = this.text.slice(this.starts[li]!, this.ends[li]!);
    if (head.startsWith('%') || head.startsWith('...')) return FAIL;
    if (head.startsWith('---')) {
      if (this.restIsBlank(this.starts[li]! + 3, this.ends[li]!) !== true) return FAIL;
      li = this.nextContent(li + 1);
      if (li === undefined) return undefined;
    }
    for (let i = li; i < this.lineCount; i++) if (this.isDocumentMarker(i)) return FAIL;
    const parsed = this.block(li, this.starts[li]! + this.indents[li]!, -1);
    if (parsed === FAIL) return FAIL;
    return this.nextContent(parsed.next) === undefined ? parsed.value : FAIL;
  }

  /** Whether line `li` starts with `---` or `...` followed by a space or its end. */
  private isDocumentMarker(li: number): boolean {
    const start = this.starts[li]!;
    const end = this.ends[li]!;
    if (end - start < 3) return false;
    const c = this.text.charCodeAt(start);
    if (c !== 45 && c !== 46) return false; // '-' or '.'
    if (this.text.charCodeAt(start + 1) !== c || this.text.charCodeAt(start + 2) !== c) return false;
    return end - start === 3 || this.text.charCodeAt(start + 3) === 32;
  }

  private nextContent(from: number): number | undefined {
    for (let i = from; i < this.lineCount; i++) if (this.blanks[i] === 0) return i;
    return undefined;
  }

  /** True when [from, end) holds only spaces and maybe a comment after a space. */
  private restIsBlank(from: number, end: number): boolean {
    let i = from;
    while (i < end && this.text.charCodeAt(i) === 32) i++;
    return i === end || (this.text[i] === '#' && i > from);
  }

  private count(): boolean {
    this.nodes++;
    if (this.nodes > this.maxNodes) this.exceeded = true;
    return !this.exceeded;
  }

  private track(collection: object, offset: number): Map<string, number> | undefined {
    if (this.info === undefined) return undefined;
    const keyOffsets = collection instanceof Map ? new Map<string, number>() : undefined;
    this.info.set(collection, keyOffsets === undefined ? { offset } : { offset, keyOffsets });
    return keyOffsets;
  }

  private column(li: number, at: number): number {
    return at - this.starts[li]!;
  }

  private isSeqEntry(at: number, end: number): boolean {
    return this.text[at] === '-' && (at + 1 === end || this.text[at + 1] === ' ');
  }

  /** A block node whose first token is at `at` on line `li`; `parentIndent` is the enclosing block's indent. */
  private block(li: number, at: number, parentIndent: number): { value: YValue; next: number } | Fail {
    if (++this.depth > this.maxDepth) return FAIL;
    const result = this.blockAt(li, at, parentIndent);
    this.depth--;
    return result;
  }

  private blockAt(li: number, at: number, parentIndent: number): { value: YValue; next: number } | Fail {
    const end = this.ends[li]!;
    if (this.isSeqEntry(at, end)) return this.sequence(li, at);
    if (this.keyAt(at, end) !== undefined) return this.mapping(li, at);
    const value = this.inline(li, at, parentIndent);
    return value === FAIL ? FAIL : value;
  }

  /** A one-line value (flow collection or scalar) that must end its line and have no continuation. */
  private inline(li: number, at: number, indent: number): { value: YValue; next: number } | Fail {
    const end = this.ends[li]!;
    const parsed = this.flowOrScalar(at, end, false);
    if (parsed === FAIL || !this.restIsBlank(parsed.end, end)) return FAIL;
    const next = this.nextContent(li + 1);
    if (next !== undefined && this.indents[next]! > indent) return FAIL;
    return { value: parsed.value, next: next ?? this.lineCount };
  }

  /**
   * A key of letters, digits and `_.-/` at `at`, ended by a colon and a space or the line's end (most keys):
   * what the walk over the line below finds there, with one regular expression.
   */
  private simpleKey(at: number, end: number): { key: string; colon: number; offset: number } | undefined {
    SIMPLE_KEY.lastIndex = at;
    if (!SIMPLE_KEY.test(this.text)) return undefined;
    const colon = SIMPLE_KEY.lastIndex - 1;
    if (colon + 1 !== end && this.text.charCodeAt(colon + 1) !== 32) return undefined;
    return { key: this.text.slice(at, colon), colon, offset: at };
  }

  /** Where a `key:` at `at` ends (the index of its colon), if the line holds one. */
  private keyAt(at: number, end: number): { key: string; colon: number; offset: number } | undefined {
    const simple = this.simpleKey(at, end);
    if (simple !== undefined) return simple;
    const text = this.text;
    const c = text[at];
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      if (q === FAIL) return undefined;
      let i = q.end;
      while (i < end && text.charCodeAt(i) === 32) i++;
      if (text[i] !== ':' || (i + 1 < end && text[i + 1] !== ' ')) return undefined;
      return { key: q.value, colon: i, offset: at };
    }
    if (c === undefined || NOT_PLAIN_START.has(c)) return undefined;
    if ((c === '-' || c === '?' || c === ':') && (at + 1 === end || text[at + 1] === ' ')) return undefined;
    for (let i = at; i < end; i++) {
      const ch = text[i];
      if (ch === '#' && text[i - 1] === ' ') return undefined;
      if (ch === ':' && (i + 1 === end || text[i + 1] === ' ')) {
        const key = text.slice(at, i).trimEnd();
        return key === '' ? undefined : { key, colon: i, offset: at };
      }
    }
    return undefined;
  }

  private mapping(firstLine: number, firstAt: number): { value: YValue; next: number } | Fail {
    const indent = this.column(firstLine, firstAt);
    const map: YMap = new Map();
    const keyOffsets = this.track(map, firstAt);
    if (!this.count()) return FAIL;
    let li = firstLine;
    let at = firstAt;
    for (;;) {
      const end = this.ends[li]!;
      let key: string;
      let valueAt: number;
      let word: string | undefined;
      let value: YValue;
      let next: number;
      SIMPLE_ENTRY.lastIndex = at;
      const simple = SIMPLE_ENTRY.exec(this.text);
      if (simple !== null && SIMPLE_ENTRY.lastIndex === end) {
        // `key: word` or `key:`, read the way the steps below read it, in their order of checks.
        key = simple[1]!;
        word = simple[2];
        if (map.has(key)) return FAIL;
        valueAt = this.skipSpaces(at + key.length + 1, end);
      } else {
        const found = this.keyAt(at, end);
        if (found === undefined || /[[\]{},]/.test(found.key) || found.key === '<<' || map.has(found.key))
          return FAIL;
        key = found.key;
        valueAt = this.skipSpaces(found.colon + 1, end);
      }
      if (word !== undefined) {
        // inline → plain → scalar, then no continuation below the line
        if (this.depth + 1 > this.maxDepth) return FAIL;
        const scalar = this.scalar(word, false, valueAt);
        if (scalar === FAIL) return FAIL;
        value = scalar;
        const following = this.nextContent(li + 1);
        if (following !== undefined && this.indents[following]! > indent) return FAIL;
        next = following ?? this.lineCount;
      } else if (valueAt === end || this.text[valueAt] === '#') {
        const child = this.nextContent(li + 1);
        const childAt = child === undefined ? 0 : this.starts[child]! + this.indents[child]!;
        if (
          child !== undefined &&
          (this.indents[child]! > indent ||
            (this.indents[child] === indent && this.isSeqEntry(childAt, this.ends[child]!)))
        ) {
          const parsed = this.block(child, childAt, indent);
          if (parsed === FAIL) return FAIL;
          ({ value, next } = parsed);
        } else {
          value = this.nullAt(valueAt);
          next = child ?? this.lineCount;
        }
      } else {
        if (this.isSeqEntry(valueAt, end)) return FAIL;
        const parsed = this.inline(li, valueAt, indent);
        if (parsed === FAIL) return FAIL;
        ({ value, next } = parsed);
      }
      if (!this.count()) return FAIL;
      map.set(key, value);
      keyOffsets?.set(key, at);
      if (next >= this.lineCount) return { value: map, next };
      const nextIndent = this.indents[next]!;
      if (nextIndent < indent) return { value: map, next };
      if (nextIndent > indent) return FAIL;
      li = next;
      at = this.starts[next]! + nextIndent;
    }
  }

  private sequence(firstLine: number, firstAt: number): { value: YValue; next: number } | Fail {
    const indent = this.column(firstLine, firstAt);
    const items: YValue[] = [];
    this.track(items, firstAt);
    if (!this.count()) return FAIL;
    let li = firstLine;
    let at = firstAt;
    for (;;) {
      const end = this.ends[li]!;
      let itemAt = at + 1;
      while (itemAt < end && this.text.charCodeAt(itemAt) === 32) itemAt++;
      let parsed: { value: YValue; next: number } | Fail;
      if (itemAt === end || this.text[itemAt] === '#') {
        const child = this.nextContent(li + 1);
        if (child !== undefined && this.indents[child]! > indent)
          parsed = this.block(child, this.starts[child]! + this.indents[child]!, indent);
        else parsed = { value: this.nullAt(itemAt), next: child ?? this.lineCount };
      } else if (this.isSeqEntry(itemAt, end)) {
        return FAIL;
      } else if (this.keyAt(itemAt, end) !== undefined) {
        parsed = this.mapping(li, itemAt);
      } else {
        parsed = this.inline(li, itemAt, indent);
      }
      if (parsed === FAIL) return FAIL;
      items.push(parsed.value);
      const next = parsed.next;
      if (next >= this.lineCount) return { value: items, next };
      const nextIndent = this.indents[next]!;
      const nextAt = this.starts[next]! + nextIndent;
      if (nextIndent < indent) return { value: items, next };
      if (nextIndent > indent || !this.isSeqEntry(nextAt, this.ends[next]!)) {
        return nextIndent === indent && this.keyAt(nextAt, this.ends[next]!) !== undefined
          ? { value: items, next }
          : FAIL;
      }
      li = next;
      at = nextAt;
    }
  }

  private nullAt(offset: number): YScalar {
    this.count();
    return new YScalar('', RESOLVED_NULL, '!!null', offset);
  }

  private scalar(text: string, quoted: boolean, offset: number): YScalar | Fail {
    if (!this.count()) return FAIL;
    return scalarNode(text, quoted, offset);
  }

  /** A flow collection or a scalar starting at `at`; `inFlow` stops plain scalars at `,]}`. */
  private flowOrScalar(at: number, end: number, inFlow: boolean): { value: YValue; end: number } | Fail {
    if (++this.depth > this.maxDepth) return FAIL;
    const result = this.flowOrScalarAt(at, end, inFlow);
    this.depth--;
    return result;
  }

  private flowOrScalarAt(at: number, end: number, inFlow: boolean): { value: YValue; end: number } | Fail {
    const c = this.text[at];
    if (c === '[') return this.flowSequence(at, end);
    if (c === '{') return this.flowMapping(at, end);
    if (c === '"' || c === "'") {
      const q = c === '"' ? this.doubleQuoted(at, end) : this.singleQuoted(at, end);
      if (q === FAIL) return FAIL;
      const value = this.scalar(q.value, true, at);
      return value === FAIL ? FAIL : { value, end: q.end };
    }
    return this.plain(at, end, inFlow);
  }

  private plain(at: number, end: number, inFlow: boolean): { value: YValue; end: number } | Fail {
    const text = this.text;
    const first = text[at];
    if (first === undefined || NOT_PLAIN_START.has(first)) return FAIL;
    if (
      (first === '-' || first === '?' || first === ':') &&
      (at + 1 === end || text[at + 1] === ' ' || (inFlow && ',[]{}'.includes(text[at + 1]!)))
    ) {
      return FAIL;
    }
    let i = at;
    for (; i < end; i++) {
      const ch = text[i];
      if (ch === '#' && text[i - 1] === ' ') break;
      if (
        ch === ':' &&
        (i + 1 === end || text[i + 1] === ' ' || (inFlow && ',[]{}'.includes(text[i + 1]!)))
      ) {
        return FAIL;
      }
      if (inFlow && (ch === ',' || ch === ']' || ch === '}' || ch === '[' || ch === '{')) break;
    }
    const raw = text.slice(at, i).trimEnd();
    if (raw === '' || (inFlow && text[i] === '#')) return FAIL;
    const value = this.scalar(raw, false, at);
    return value === FAIL ? FAIL : { value, end: at + raw.length };
  }

  private skipSpaces(i: number, end: number): number {
    let j = i;
    while (j < end && this.text.charCodeAt(j) === 32) j++;
    return j;
  }

  private flowSequence(open: number, end: number): { value: YValue; end: number } | Fail {
    const items: YValue[] = [];
    this.track(items, open);
    if (!this.count()) return FAIL;
    let i = this.skipSpaces(open + 1, end);
    while (this.text[i] !== ']') {
      const item = this.flowOrScalar(i, end, true);
      if (item === FAIL) return FAIL;
      items.push(item.value);
      i = this.skipSpaces(item.end, end);
      if (this.text[i] === ',') i = this.skipSpaces(i + 1, end);
      else if (this.text[i] !== ']') return FAIL;
    }
    return { value: items, end: i + 1 };
  }

  private flowMapping(open: number, end: number): { value: YValue; end: number } | Fail {
    const map: YMap = new Map();
    const keyOffsets = this.track(map, open);
    if (!this.count()) return FAIL;
    let i = this.skipSpaces(open + 1, end);
    while (this.text[i] !== '}') {
      const keyStart = i;
      let key: string;
      const c = this.text[i];
      if (c === '"' || c === "'") {
        const q = c === '"' ? this.doubleQuoted(i, end) : this.singleQuoted(i, end);
        if (q === FAIL) return FAIL;
        key = q.value;
        i = this.skipSpaces(q.end, end);
      } else {
        let j = i;
        while (j < end && !',[]{}#'.includes(this.text[j]!)) {
          if (this.text[j] === ':' && (j + 1 === end || ' ,[]{}'.includes(this.text[j + 1]!))) break;
          j++;
        }
        key = this.text.slice(i, j).trimEnd();
        if (key === '' || NOT_PLAIN_START.has(key[0]!) || /^[-?:]( |$)/.test(key)) return FAIL;
        i = j;
      }
      if (this.text[i] !== ':' || key === '<<' || map.has(key)) return FAIL;
      if (!this.count()) return FAIL;
      i = this.skipSpaces(i + 1, end);
      let value: YValue;
      if (this.text[i] === ',' || this.text[i] === '}') value = this.nullAt(i);
      else {
        const parsed = this.flowOrScalar(i, end, true);
        if (parsed === FAIL) return FAIL;
        value = parsed.value;
        i = this.skipSpaces(parsed.end, end);
      }
      map.set(key, value);
      keyOffsets?.set(key, keyStart);
      if (this.text[i] === ',') i = this.skipSpaces(i + 1, end);
      else if (this.text[i] !== '}') return FAIL;
    }
    return { value: map, end: i + 1 };
  }

  private doubleQuoted(open: number, end: number): { value: string; end: number } | Fail {
    const text = this.text;
    let out = '';
    let i = open + 1;
    for (;;) {
      if (i >= end) return FAIL;
      const ch = text[i]!;
      if (ch === '"') return { value: out, end: i + 1 };
      if (ch !== '\\') {
        out += ch;
        i++;
        continue;
      }
      const e = text[i + 1];
      if (e === undefined || i + 1 >= end) return FAIL;
      const simple = DOUBLE_ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
        continue;
      }
      const width = HEX_ESCAPES[e];
      if (width === undefined) return FAIL;
      const hex = text.slice(i + 2, i + 2 + width);
      if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) return FAIL;
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return FAIL;
      out += String.fromCodePoint(code);
      i += 2 + width;
    }
  }

  private singleQuoted(open: number, end: number): { value: string; end: number } | Fail {
    let out = '';
    let i = open + 1;
    for (;;) {
      const close = this.text.indexOf("'", i);
      if (close === -1 || close >= end) return FAIL;
      out += this.text.slice(i, close);
      if (this.text[close + 1] === "'" && close + 1 < end) {
        out += "'";
        i = close + 2;
        continue;
      }
      return { value: out, end: close + 1 };
    }
  }
}

/**
 * The tree of a plain-style SDL; `'too-large'` past `maxNodes`; `undefined` when the general YAML
 * path must read it. With `track`, also the offsets of every collection and key.
 */
export function fastTree(
  text: string,
  maxNodes: number,
  maxDepth: number,
  track: boolean,
): { root: YValue | undefined; info: Map<object, ContainerInfo> } | 'too-large' | undefined {
  if (text.includes('\t')) return undefined;
  const reader = new Reader(text, maxNodes, maxDepth, track);
  const root = reader.root();
  if (reader.exceeded) return 'too-large';
  return root === FAIL ? undefined : { root, info: reader.info ?? new Map() };
}
