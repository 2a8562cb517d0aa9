/**
 * Placement matching as the Akash chain and provider do it (chain-sdk `attributes/v1`,
 * `deployment/v1beta4 GroupSpec.MatchRequirements / MatchResourcesRequirements`).
 *
 * A required attribute matches a provider attribute when the required KEY, read as a
 * shell glob with Go `path/filepath.Match` rules ('/' separates, `*` and `?` never cross it,
 * `[...]` classes, `\` escapes), matches the provider's key, and the VALUES are equal.
 * A malformed glob matches nothing, as Go ignores the error and gets `false`.
 */
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { Attribute, GroupSpec } from './types.js';

const ATTRIBUTE_KEY = /^[a-zA-Z][\w/.-]{1,126}$/;
const ATTRIBUTE_KEY_WILDCARD = /^[a-zA-Z][\w/.-]{1,126}[\w*]?$/;
/** More attributes than any provider or placement needs; bounds matching work. */
const MAX_ATTRIBUTES = 256;

/**
 * The chain's attribute-list check (Go `Attributes.Validate`): keys start with a letter, use only word
 * characters, `/`, `.`, `-` (a trailing `*` too when `wildcard`), are 2–128 long, and never repeat.
 */
export function validateAttributes(
  attributes: readonly Attribute[],
  wildcard: boolean,
): Result<void, AppError> {
  if (attributes.length > MAX_ATTRIBUTES) {
    return fail(appError('INVALID_INPUT', `at most ${MAX_ATTRIBUTES} attributes are allowed`));
  }
  const pattern = wildcard ? ATTRIBUTE_KEY_WILDCARD : ATTRIBUTE_KEY;
  const seen = new Set<string>();
  for (const { key } of attributes) {
    if (!pattern.test(key))
      return fail(appError('INVALID_INPUT', `attribute key "${key.slice(0, 140)}" is malformed`));
    if (seen.has(key)) return fail(appError('INVALID_INPUT', `attribute key "${key}" is repeated`));
    seen.add(key);
  }
  return ok(undefined);
}

/** Go `filepath.Match(pattern, name)` on a Unix host; an invalid pattern yields false. */
export function globMatch(pattern: string, name: string): boolean {
  let p = [...pattern];
  let s = [...name];
  chunks: while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !s.includes('/');
    const first = matchChunk(chunk, s);
    if (first === INVALID) return false;
    if (first !== FAILED && (first.length === 0 || p.length > 0)) {
      s = first;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const next = matchChunk(chunk, s.slice(i + 1));
        if (next === INVALID) return false;
        if (next !== FAILED) {
          if (p.length === 0 && next.length > 0) continue;
          s = next;
          continue chunks;
        }
      }
    }
    return false;
  }
  return s.length === 0;
}

const FAILED = Symbol('failed');
const INVALID = Symbol('invalid');

function scanChunk(pattern: readonly string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let start = 0;
  while (pattern[start] === '*') start++;
  let inRange = false;
  let i = start;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star: start > 0, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/** Matches one star-free chunk at the start of `s`; keeps parsing after a mismatch so bad syntax is still detected. */
function matchChunk(
  chunk: readonly string[],
  input: readonly string[],
): string[] | typeof FAILED | typeof INVALID {
  let c = 0;
  let s = 0;
  let failed = false;
  while (c < chunk.length) {
    if (!failed && s >= input.length) failed = true;
    const token = chunk[c]!;
    if (token === '[') {
      const rune = failed ? '' : input[s++]!;
      c++;
      let negated = false;
      if (chunk[c] === '^') {
        negated = true;
        c++;
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (chunk[c] === ']' && ranges > 0) {
          c++;
          break;
        }
        const lo = escaped(chunk, c);
        if (lo === undefined) return INVALID;
        c = lo.next;
        let hi = lo;
        if (chunk[c] === '-') {
          const upper = escaped(chunk, c + 1);
          if (upper === undefined) return INVALID;
          hi = upper;
          c = upper.next;
        }
        const r = codePoint(rune);
        if (codePoint(lo.rune) <= r && r <= codePoint(hi.rune)) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (token === '?') {
      if (!failed) {
        if (input[s] === '/') failed = true;
        s++;
      }
      c++;
    } else {
      if (token === '\\') {
        c++;
        if (c >= chunk.length) return INVALID;
      }
      if (!failed) {
        if (chunk[c] !== input[s]) failed = true;
        s++;
      }
      c++;
    }
  }
  return failed ? FAILED : input.slice(s);
}

/** One (possibly escaped) character of a class, which must be followed by more pattern. */
function escaped(chunk: readonly string[], at: number): { rune: string; next: number } | undefined {
  let i = at;
  const head = chunk[i];
  if (head === undefined || head === '-' || head === ']') return undefined;
  if (head === '\\') i++;
  const rune = chunk[i];
  if (rune === undefined || i + 1 >= chunk.length) return undefined;
  return { rune, next: i + 1 };
}

function codePoint(rune: string): number {
  return rune.codePointAt(0) ?? -1;
}

/** Go `Attribute.SubsetOf`: the required key globs the offered key and the values are equal. */
function attributeMatches(required: Attribute, offered: Attribute): boolean {
  return required.value === offered.value && globMatch(required.key, offered.key);
}

/** Go `AttributesSubsetOf(required, offered)`: every required attribute is matched by some offered one. */
export function attributesSubsetOf(
  required: readonly Attribute[] | null,
  offered: readonly Attribute[] | null,
): boolean {
  return (required ?? []).every((want) => (offered ?? []).some((have) => attributeMatches(want, have)));
}

/** Go `AttributesAnyOf`: at least one required attribute is matched. */
function attributesAnyOf(required: readonly Attribute[], offered: readonly Attribute[]): boolean {
  return required.some((want) => offered.some((have) => attributeMatches(want, have)));
}

/** Attributes an auditor signed for a provider (the chain's audit module). */
export type AuditedAttributes = ReadonlyMap<string, readonly Attribute[]>;

/**
 * Go `GroupSpec.MatchRequirements`. Without `audited` (the devnet has no audit module) `signed_by`
 * is ignored and the group's attributes are matched against the provider's own; with it, the
 * attributes must be signed by every `all_of` auditor and by at least one `any_of` auditor.
 */
export function matchRequirements(
  spec: GroupSpec,
  providerAttributes: readonly Attribute[],
  audited?: AuditedAttributes,
): boolean {
  const { all_of: allOf, any_of: anyOf } = spec.requirements.signed_by;
  const required = spec.requirements.attributes;
  const signed = (allOf?.length ?? 0) > 0 || (anyOf?.length ?? 0) > 0;
  if (!signed || audited === undefined) return attributesSubsetOf(required, providerAttributes);
  const signedBy = (auditor: string): boolean => {
    const attrs = audited.get(auditor);
    return attrs !== undefined && attributesSubsetOf(required, attrs);
  };
  if (allOf !== null && !allOf.every(signedBy)) return false;
  if (anyOf !== null && anyOf.length > 0) return anyOf.some(signedBy);
  return true;
}

/**
 * Go `GroupSpec.MatchResourcesRequirements`: storage attributes (e.g. `persistent`, `class`) must all be
 * offered by one `capabilities/storage/<n>/<key>` group, and GPU attributes (e.g. `vendor/nvidia/model/*`)
 * must match at least one `capabilities/gpu/<key...>` attribute.
 */
export function matchResourcesRequirements(
  spec: GroupSpec,
  providerAttributes: readonly Attribute[],
): boolean {
  const storageGroups = capabilitiesGroups(providerAttributes, 'storage');
  const gpuMap = capabilitiesMap(providerAttributes, 'gpu');
  for (const unit of spec.resources) {
    for (const storage of unit.resource.storage) {
      const wanted = storage.attributes ?? [];
      if (wanted.length === 0) continue;
      if (!storageGroups.some((group) => attributesSubsetOf(wanted, group))) return false;
    }
    const gpu = unit.resource.gpu;
    const wanted = gpu.attributes ?? [];
    if (BigInt(gpu.units.val) > 0n && wanted.length > 0 && !attributesAnyOf(wanted, gpuMap)) return false;
  }
  return true;
}

/** `capabilities/<prefix>/<group>/<key>` → one attribute list per group (Go `GetCapabilitiesGroup`). */
function capabilitiesGroups(attributes: readonly Attribute[], prefix: string): Attribute[][] {
  const groups = new Map<string, Attribute[]>();
  for (const { key, value } of attributes) {
    if (!key.startsWith(`capabilities/${prefix}`)) continue;
    const tokens = key.slice('capabilities/'.length).split('/');
    if (tokens.length !== 3) continue;
    const [, group, name] = tokens as [string, string, string];
    const list = groups.get(group) ?? [];
    list.push({ key: name, value });
    groups.set(group, list);
  }
  return [...groups.values()];
}

/** `capabilities/<prefix>/<a>/<b>/...` → attributes keyed `<a>/<b>/...` (Go `GetCapabilitiesMap`). */
function capabilitiesMap(attributes: readonly Attribute[], prefix: string): Attribute[] {
  const out: Attribute[] = [];
  for (const { key, value } of attributes) {
    if (!key.startsWith(`capabilities/${prefix}`)) continue;
    const tokens = key.slice('capabilities/'.length).split('/');
    if (tokens.length < 3) continue;
    out.push({ key: tokens.slice(1).join('/'), value });
  }
  return out;
}
