/**
 * SDL text → a guarded YAML parse → a tree of Go-resolved scalars, with every node's offset kept
 * so any problem found later can be pinned to FILE:LINE:COL.
 *
 * Scalars are resolved the way yaml.v3 resolves them (the Go reference decodes SDL with yaml.v3),
 * not with the JS library's own schema: `image: 1.0` must stay the text "1.0", `global: yes`
 * must read as true, `port: 0x50` as 80.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Alias, Document, LineCounter, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import type { ErrorCode } from '../errors/index.js';
import { fastTree } from './fast-yaml.js';
import { goQuote, RESOLVED_NULL, RESOLVED_STR, resolvePlain } from './go-values.js';
import { type ContainerInfo, scalarNode, type YMap, YScalar, type YValue } from './yaml-value.js';

/**
 * The general YAML library, required on first use: the fast reader takes every SDL written in plain block style,
 * so a command reading one (and `--help`) does not pay for loading it.
 */
const require = createRequire(import.meta.url);
let library: typeof Yaml | undefined;
const yaml = (): typeof Yaml => {
  library ??= require('yaml') as typeof Yaml;
  return library;
};

/** Inputs above this size are refused before parsing (1 MiB). */
export const MAX_SDL_BYTES = 1024 * 1024;
/** How many alias uses one document may contain. */
const MAX_ALIAS_USES = 100;
/** How many nodes the document may expand to once aliases are followed. */
const MAX_EXPANDED_NODES = 200_000;
/** How deep collections may nest; an SDL needs about ten levels, the YAML parser recurses per level. */
const MAX_NESTING = 100;

/** A positioned problem found before or while building the tree. */
export interface RawProblem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly offset: number;
}

/** A parsed document: the tree plus what is needed to turn paths into positions. */
export interface SourceTree {
  readonly root: YValue | undefined;
  readonly locate: (path: readonly PropertyKey[], atKey?: boolean) => number;
  readonly lineCol: (offset: number) => { readonly line: number; readonly col: number };
}

export type TreeResult =
  | { readonly ok: true; readonly tree: SourceTree; readonly warnings: readonly RawProblem[] }
  | {
      readonly ok: false;
      readonly problems: readonly RawProblem[];
      readonly lineCol: SourceTree['lineCol'];
    };

/** UTF-8 length of a JS string without allocating. */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let length: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [length, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [length, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [length, min] = [4, 0x10000];
    else return i;
    let code = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return -1;
}

/** The text of well-formed UTF-8 (a leading BOM dropped), or undefined. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Offset → line and column; the line index is built on first use, as most parses report nothing. */
function lineColOf(text: string): SourceTree['lineCol'] {
  let counter: LineCounter | undefined;
  return (offset) => {
    if (counter === undefined) {
      counter = new (yaml().LineCounter)();
      counter.addNewLine(0);
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) counter.addNewLine(i + 1);
    }
    const pos = counter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: pos.line, col: pos.col };
  };
}

const SHORT_TAGS: ReadonlyMap<string, string> = new Map(
  ['null', 'bool', 'str', 'int', 'float', 'timestamp', 'seq', 'map', 'binary', 'merge'].map((t) => [
    `tag:yaml.org,2002:${t}`,
    `!!${t}`,
  ]),
);

function shortTagOf(tag: string | undefined): string {
  if (tag === undefined) return '';
  return SHORT_TAGS.get(tag) ?? (tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice(18)}` : tag);
}

/** yaml.v3's view of one scalar node, or a Go decode error for a tag that contradicts the text. */
function resolveScalar(node: Scalar): { value: YScalar } | { error: string } {
  const text = String(node.value ?? '');
  const offset = node.range?.[0] ?? 0;
  const tag = shortTagOf(node.tag);
  const quoted = node.type !== undefined && node.type !== 'PLAIN';
  if (tag === '!!str' || ((tag === '' || tag === '!') && quoted))
    return { value: scalarNode(text, true, offset) };
  if (tag === '' || tag === '!') return { value: scalarNode(text, false, offset) };
  if (!['!!bool', '!!int', '!!float', '!!null', '!!timestamp'].includes(tag)) {
    return { value: new YScalar(text, RESOLVED_STR, tag, offset) };
  }
  let resolved = resolvePlain(text);
  if (tag === '!!float' && resolved.tag === 'int') resolved = { tag: 'float', value: Number(resolved.value) };
  if (tag === '!!timestamp' || `!!${resolved.tag}` !== tag) {
    return { error: `cannot decode !!${resolved.tag} \`${text}\` as a ${tag}` };
  }
  return { value: new YScalar(text, resolved, tag, offset) };
}

interface Walk {
  readonly doc: Document.Parsed;
  readonly lineCol: SourceTree['lineCol'];
  readonly info: Map<object, ContainerInfo>;
  readonly memo: Map<Node, YValue>;
  readonly problems: RawProblem[];
  readonly active: Set<Node>;
}

function nodeOffset(node: Node | null | undefined, fallback: number): number {
  return node?.range?.[0] ?? fallback;
}

function target(walk: Walk, alias: Alias): Node | undefined {
  const resolved = alias.resolve(walk.doc);
  return resolved ?? undefined;
}

/** Expanded node count, following aliases; `undefined` when an anchor contains itself. */
function expandedSize(
  walk: Walk,
  node: Node | null | undefined,
  sizes: Map<Node, number>,
): number | undefined {
  if (node === null || node === undefined) return 1;
  const known = sizes.get(node);
  if (known !== undefined) return known;
  if (walk.active.has(node)) return undefined;
  walk.active.add(node);
  let size = 1;
  if (yaml().isAlias(node)) {
    const inner = expandedSize(walk, target(walk, node), sizes);
    if (inner === undefined) return undefined;
    size = inner;
  } else if (yaml().isMap(node)) {
    for (const pair of node.items) {
      const k = expandedSize(walk, pair.key as Node | null, sizes);
      const v = expandedSize(walk, pair.value as Node | null, sizes);
      if (k === undefined || v === undefined) return undefined;
      size += k + v;
      if (size > MAX_EXPANDED_NODES) break;
    }
  } else if (yaml().isSeq(node)) {
    for (const item of node.items) {
      const v = expandedSize(walk, item as Node | null, sizes);
      if (v === undefined) return undefined;
      size += v;
      if (size > MAX_EXPANDED_NODES) break;
    }
  }
  walk.active.delete(node);
  sizes.set(node, size);
  return size;
}

function convert(walk: Walk, node: Node | null | undefined, fallback: number, mergeKeys: boolean): YValue {
  if (node === null || node === undefined) return new YScalar('', RESOLVED_NULL, '!!null', fallback);
  if (yaml().isAlias(node)) {
    const resolved = target(walk, node);
    if (!resolved) {
      walk.problems.push({
        code: 'SDL_YAML',
        message: `unknown anchor ${goQuote(node.source)} referenced`,
        offset: nodeOffset(node, fallback),
      });
      return new YScalar('', RESOLVED_NULL, '!!null', nodeOffset(node, fallback));
    }
    return convert(walk, resolved, nodeOffset(node, fallback), mergeKeys);
  }
  const memo = walk.memo.get(node);
  if (memo !== undefined) return memo;
  let value: YValue;
  if (yaml().isScalar(node)) {
    const resolved = resolveScalar(node);
    if ('error' in resolved) {
      walk.problems.push({ code: 'SDL_SCHEMA', message: resolved.error, offset: nodeOffset(node, fallback) });
      value = new YScalar(String(node.value ?? ''), RESOLVED_STR, '!!str', nodeOffset(node, fallback));
    } else {
      value = resolved.value;
    }
  } else if (yaml().isMap(node)) {
    value = convertMap(walk, node, fallback, mergeKeys);
  } else if (yaml().isSeq(node)) {
    value = convertSeq(walk, node, fallback);
  } else {
    value = new YScalar('', RESOLVED_NULL, '!!null', fallback);
  }
  walk.memo.set(node, value);
  return value;
}

function isMergeKey(node: unknown): boolean {
  return (
    yaml().isScalar(node) &&
    node.value === '<<' &&
    (node.type === 'PLAIN' || node.type === undefined) &&
    (node.tag === undefined || node.tag === 'tag:yaml.org,2002:merge')
  );
}

function convertMap(walk: Walk, node: YAMLMap, fallback: number, mergeKeys: boolean): YMap {
  const out: YMap = new Map();
  const keyOffsets = new Map<string, number>();
  const offset = nodeOffset(node, fallback);
  walk.info.set(out, { offset, keyOffsets });
  const merges: YMap[] = [];
  for (const pair of node.items) {
    const keyNode = pair.key as Node | null;
    const keyOffset = nodeOffset(keyNode, offset);
    if (mergeKeys && isMergeKey(keyNode)) {
      const source = convert(walk, pair.value as Node | null, keyOffset, true);
      const sources = Array.isArray(source) ? source : [source];
      for (const item of sources) {
        if (item instanceof Map) merges.push(item);
        else {
          walk.problems.push({
            code: 'SDL_SCHEMA',
            message: 'map merge requires map or sequence of maps as the value',
            offset: keyOffset,
          });
        }
      }
      continue;
    }
    const key = convert(walk, keyNode, offset, true);
    if (!(key instanceof YScalar)) {
      const tag = key instanceof Map ? '!!map' : '!!seq';
      walk.problems.push({
        code: 'SDL_SCHEMA',
        message: `cannot unmarshal ${tag} into string`,
        offset: keyOffset,
      });
      continue;
    }
    const name = key.isNull ? '' : key.text;
    const earlier = keyOffsets.get(name);
    if (earlier !== undefined) {
      walk.problems.push({
        code: 'SDL_DUPLICATE_KEY',
        message: `mapping key ${goQuote(name)} already defined at line ${walk.lineCol(earlier).line}`,
        offset: keyOffset,
      });
      continue;
    }
    out.set(name, convert(walk, pair.value as Node | null, keyOffset, true));
    keyOffsets.set(name, keyOffset);
  }
  for (const source of merges) {
    const sourceOffsets = walk.info.get(source)?.keyOffsets;
    for (const [key, value] of source) {
      if (out.has(key)) continue;
      out.set(key, value);
      keyOffsets.set(key, sourceOffsets?.get(key) ?? offset);
    }
  }
  return out;
}

function convertSeq(walk: Walk, node: YAMLSeq, fallback: number): readonly YValue[] {
  const offset = nodeOffset(node, fallback);
  const out: YValue[] = [];
  walk.info.set(out, { offset });
  for (const item of node.items) out.push(convert(walk, item as Node | null, offset, true));
  return out;
}

function offsetOf(info: Map<object, ContainerInfo>, value: YValue): number | undefined {
  return value instanceof YScalar ? value.offset : info.get(value)?.offset;
}

function locator(root: YValue | undefined, info: Map<object, ContainerInfo>): SourceTree['locate'] {
  return (path, atKey = false) => {
    let current: YValue | undefined = root;
    let best = root === undefined ? 0 : (offsetOf(info, root) ?? 0);
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (current instanceof Map && typeof segment === 'string') {
        const keyOffset = info.get(current)?.keyOffsets?.get(segment);
        const next: YValue | undefined = current.get(segment);
        if (next === undefined || keyOffset === undefined) return best;
        const emptyNull = next instanceof YScalar && next.isNull && next.text === '';
        if ((last && atKey) || emptyNull) return keyOffset;
        current = next;
        best = offsetOf(info, next) ?? keyOffset;
      } else if (Array.isArray(current) && typeof segment === 'number') {
        const next: YValue | undefined = (current as readonly YValue[])[segment];
        if (next === undefined) return best;
        current = next;
        best = offsetOf(info, next) ?? best;
      } else {
        return best;
      }
    }
    return best;
  };
}

/** Parses SDL text or bytes into a positioned tree; refuses oversized, binary, broken or alias-bomb input. */
export function parseTree(input: string | Uint8Array, options: { readonly fast?: boolean } = {}): TreeResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    if (utf8Length(text) > MAX_SDL_BYTES) {
      return { ok: false, problems: [tooLarge()], lineCol: () => ({ line: 1, col: 1 }) };
    }
  } else {
    if (input.length > MAX_SDL_BYTES) {
      return { ok: false, problems: [tooLarge()], lineCol: () => ({ line: 1, col: 1 }) };
    }
    // The native decoder checks well-formedness far faster than the byte loop, which only finds where it fails.
    const decoded = decodeUtf8(input);
    if (decoded === undefined) {
      const before = new TextDecoder('utf-8').decode(input.subarray(0, firstInvalidUtf8(input)));
      const message = 'input is not valid UTF-8: this is not a text file';
      return {
        ok: false,
        problems: [{ code: 'SDL_BINARY', message, offset: before.length }],
        lineCol: lineColOf(before),
      };
    }
    text = decoded;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lineCol = lineColOf(text);
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    return {
      ok: false,
      problems: [
        {
          code: 'SDL_BINARY',
          message: 'input contains a NUL character: this is not a text file',
          offset: nul,
        },
      ],
      lineCol,
    };
  }
  const fast = options.fast === false ? undefined : fastTree(text, MAX_EXPANDED_NODES, MAX_NESTING, false);
  if (fast === 'too-large') {
    const message = `document has more than ${MAX_EXPANDED_NODES} nodes`;
    return { ok: false, problems: [{ code: 'SDL_TOO_LARGE', message, offset: 0 }], lineCol };
  }
  if (fast !== undefined) {
    // Positions are needed only to report a problem: a second, position-keeping read supplies them.
    let tracked: SourceTree['locate'] | undefined;
    const locate: SourceTree['locate'] = (path, atKey) => {
      if (tracked === undefined) {
        const again = fastTree(text, MAX_EXPANDED_NODES, MAX_NESTING, true);
        tracked = typeof again === 'object' ? locator(again.root, again.info) : () => 0;
      }
      return tracked(path, atKey);
    };
    return { ok: true, tree: { root: fast.root, locate, lineCol }, warnings: [] };
  }
  const tooDeep = nestingBeyond(text, MAX_NESTING);
  if (tooDeep !== undefined) {
    return {
      ok: false,
      problems: [
        { code: 'SDL_YAML', message: `collections nest deeper than ${MAX_NESTING} levels`, offset: tooDeep },
      ],
      lineCol,
    };
  }
  const docs = yaml().parseAllDocuments(text, {
    schema: 'failsafe',
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    keepSourceTokens: false,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list[0];
  if (doc === undefined)
    return { ok: true, tree: { root: undefined, locate: () => 0, lineCol }, warnings: [] };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        code: 'SDL_YAML',
        message: error.message,
        offset: error.pos[0],
      })),
      lineCol,
    };
  }
  const walk: Walk = { doc, lineCol, info: new Map(), memo: new Map(), problems: [], active: new Set() };
  const contents = doc.contents as Node | null;
  // Count before resolving: each alias lookup walks the document.
  const aliasUses = countAliases(contents);
  if (aliasUses > MAX_ALIAS_USES) {
    const message = `document uses ${aliasUses} aliases; at most ${MAX_ALIAS_USES} are allowed`;
    return {
      ok: false,
      problems: [{ code: 'SDL_ALIAS_LIMIT', message, offset: firstAliasOffset(contents) }],
      lineCol,
    };
  }
  const size = expandedSize(walk, contents, new Map());
  if (size === undefined) {
    const message = 'an anchor contains an alias to itself';
    return {
      ok: false,
      problems: [{ code: 'SDL_ALIAS_LIMIT', message, offset: firstAliasOffset(contents) }],
      lineCol,
    };
  }
  if (size > MAX_EXPANDED_NODES) {
    return {
      ok: false,
      problems: [
        aliasUses === 0
          ? {
              code: 'SDL_TOO_LARGE',
              message: `document has more than ${MAX_EXPANDED_NODES} nodes`,
              offset: 0,
            }
          : {
              code: 'SDL_ALIAS_LIMIT',
              message: `aliases expand the document to more than ${MAX_EXPANDED_NODES} nodes`,
              offset: firstAliasOffset(contents),
            },
      ],
      lineCol,
    };
  }
  const root = contents === null ? undefined : convert(walk, contents, 0, false);
  if (walk.problems.length > 0) return { ok: false, problems: walk.problems, lineCol };
  const warnings: RawProblem[] = [];
  if (list.length > 1) {
    warnings.push({
      code: 'SDL_YAML',
      message: 'only the first YAML document is read; the documents after the first "---" are ignored',
      offset: list[1]?.range?.[0] ?? 0,
    });
  }
  return { ok: true, tree: { root, locate: locator(root, walk.info), lineCol }, warnings };
}

/**
 * A conservative estimate of collection nesting (indentation levels, `- ` prefixes and open flow
 * brackets outside quotes and comments); the offset where it first exceeds `limit`, if it does.
 * Checked before parsing because the YAML parser recurses once per level.
 */
function nestingBeyond(text: string, limit: number): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let offset = 0;
  for (const line of text.split('\n')) {
    let i = 0;
    if (quote === undefined && flow === 0) {
      while (line[i] === ' ') i++;
      const blank = i === line.length || line[i] === '#' || line[i] === '\r';
      if (!blank) {
        while (indents.length > 0 && indents[indents.length - 1]! >= i) indents.pop();
        indents.push(i);
      }
    }
    let depth = indents.length + flow;
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote !== undefined) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === '"' || c === "'") quote = c;
      else if (c === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) break;
      else if (c === '[' || c === '{') depth = indents.length + ++flow;
      else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
      else if (c === '-' && (line[i + 1] === ' ' || i + 1 === line.length)) depth++;
      if (depth > limit) return offset + i;
    }
    offset += line.length + 1;
  }
  return undefined;
}

function tooLarge(): RawProblem {
  return { code: 'SDL_TOO_LARGE', message: `input is larger than ${MAX_SDL_BYTES} bytes (1 MiB)`, offset: 0 };
}

function countAliases(node: Node | null | undefined): number {
  if (node === null || node === undefined) return 0;
  if (yaml().isAlias(node)) return 1;
  if (yaml().isMap(node)) {
    let n = 0;
    for (const pair of node.items)
      n += countAliases(pair.key as Node | null) + countAliases(pair.value as Node | null);
    return n;
  }
  if (yaml().isSeq(node)) {
    let n = 0;
    for (const item of node.items) n += countAliases(item as Node | null);
    return n;
  }
  return 0;
}

function firstAliasOffset(node: Node | null | undefined): number {
  if (node === null || node === undefined) return 0;
  if (yaml().isAlias(node)) return node.range?.[0] ?? 0;
  const children: (Node | null)[] = yaml().isMap(node)
    ? node.items.flatMap((pair) => [pair.key as Node | null, pair.value as Node | null])
    : yaml().isSeq(node)
      ? (node.items as (Node | null)[])
      : [];
  for (const child of children) {
    const found = firstAliasOffset(child);
    if (found !== 0) return found;
  }
  return 0;
}
