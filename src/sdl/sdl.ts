/**
 * `parseSdl`: SDL text → validated, frozen SDL with its manifest, group specs and version, or
 * every positioned problem. The stages follow the Go reference's `sdl.Read`:
 * read the version → decode each top-level key → build groups → validate → validate the group
 * specs → validate the manifest. The JSON-schema rules run alongside, as warnings.
 */
import { type Built, buildGroups } from './build.js';
import { decodeSection, isSection, type Section, type SectionName } from './decode.js';
import {
  capQuotedValues,
  formatPath,
  type Problem,
  problem,
  type SdlDiagnostic,
  type Severity,
} from './diagnostics.js';
import { manifestVersion } from './go-json.js';
import { compareSemVer, formatSemVer, parseGoDuration, parseTolerantSemVer } from './go-values.js';
import type { GroupSpec, Manifest } from './manifest-types.js';
import type { SdlDialect, SdlInput } from './model.js';
import { schemaProblems } from './schema.js';
import { validateGroups, validateManifest, validateSdl } from './validate.js';
import { parseTree } from './yaml-tree.js';
import { YScalar, type YValue } from './yaml-value.js';

/** How to parse. */
export interface ParseOptions {
  /** Name used in diagnostics (default `<input>`). */
  readonly file?: string;
  /** Reject schema-rule violations and use the effective port/protocol for IP port collisions. */
  readonly strict?: boolean;
}

/** A valid SDL and everything the chain and the provider need from it. */
export interface Sdl {
  readonly dialect: SdlDialect;
  /** The `version` as semver reads it, e.g. `2.0.0`. */
  readonly version: string;
  readonly manifest: Manifest;
  readonly groups: readonly GroupSpec[];
  /** Hex sha256 of the sorted manifest JSON: the deployment hash. */
  readonly manifestVersion: string;
  /** Declared IP endpoint names, in document order. */
  readonly endpoints: readonly string[];
  /** The reclamation minimum window in nanoseconds, when the SDL sets one. */
  readonly reclamationWindowNs?: bigint;
}

/** A parse outcome: the SDL or its errors, plus the warnings either way. */
export type SdlResult = (
  | { readonly ok: true; readonly value: Sdl }
  | { readonly ok: false; readonly error: readonly SdlDiagnostic[] }
) & { readonly warnings: readonly SdlDiagnostic[] };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) {
      // By index: for…in would make a string of each index and look the item up by it.
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item === 'object' && item !== null) deepFreeze(item);
      }
      return value;
    }
    for (const key in value) {
      const field = value[key];
      // most fields are strings and numbers: no call for them
      if (typeof field === 'object' && field !== null) deepFreeze(field);
    }
  }
  return value;
}

/** The raw text Go reads as `node.Value`. */
function valueText(value: YValue | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value instanceof YScalar ? value.text : '';
}

/** Go's version lookup: the first node whose text is `version`, and the node after it. */
function findVersion(root: YValue): { text: string } | undefined {
  const flat: (YValue | string)[] =
    root instanceof Map ? [...root].flat() : Array.isArray(root) ? [...root] : [];
  for (let i = 0; i < flat.length; i++) {
    if (valueText(flat[i]) === 'version') {
      const text = valueText(flat[i + 1]);
      return text === undefined ? undefined : { text };
    }
  }
  return undefined;
}

function readDialect(root: YValue): { dialect: SdlDialect; version: string } | Problem {
  const found = findVersion(root);
  if (found === undefined) return problem('SDL_VERSION', 'SDL invalid: no version found', [], false);
  const parsed = parseTolerantSemVer(found.text);
  if (!parsed.ok) return problem('SDL_VERSION', parsed.message, ['version']);
  const v = parsed.value;
  const version = formatSemVer(v);
  if (compareSemVer(v, 2n, 0n, 0n) === 0) return { dialect: '2.0', version };
  if (compareSemVer(v, 2n, 1n, 0n) >= 0) return { dialect: '2.1', version };
  return problem('SDL_VERSION', `SDL invalid: config: unsupported version "${version}"`, ['version']);
}

/** Decodes every top-level key; unknown keys are errors, as in Go's top-level unmarshaler. */
function decodeSections(
  root: Map<string, YValue>,
  dialect: SdlDialect,
): { input?: SdlInput; problems: Problem[] } {
  const problems: Problem[] = [];
  const out: { [K in SectionName]?: Section<K> } = {};
  for (const [key, value] of root) {
    if (key === 'version') continue;
    if (!isSection(key)) {
      problems.push(problem('SDL_UNKNOWN_FIELD', `sdl: unexpected field ${key}`, [key], true));
      continue;
    }
    const decoded = decodeSection(key, value);
    if (decoded.ok) (out as Record<SectionName, unknown>)[key] = decoded.value;
    else {
      // yaml.v3 gathers type errors but returns a custom unmarshaler's error instead when one occurs.
      const typeErrors = decoded.problems.filter((p) => p.code === 'SDL_SCHEMA');
      problems.push(...decoded.problems.filter((p) => p.code !== 'SDL_SCHEMA'), ...typeErrors);
    }
  }
  if (problems.length > 0) return { problems };
  const zero = <K extends SectionName>(key: K): Section<K> => {
    const decoded = out[key] === undefined ? decodeSection(key, undefined) : undefined;
    return (decoded?.ok ? decoded.value : out[key]) as Section<K>;
  };
  const profiles = zero('profiles');
  return {
    problems,
    input: {
      dialect,
      services: zero('services'),
      compute: profiles.compute,
      placement: profiles.placement,
      deployment: zero('deployment'),
      endpoints: zero('endpoints'),
      reclamation: root.has('reclamation') ? zero('reclamation') : undefined,
    },
  };
}

type Position = (p: Problem, severity: Severity) => SdlDiagnostic;

/** What the YAML stage hands on: the decoded SDL and how to position problems. */
interface ReadStage {
  readonly input?: SdlInput;
  readonly dialect?: { dialect: SdlDialect; version: string };
  readonly problems: readonly Problem[];
  readonly schema: readonly Problem[];
  readonly position: Position;
  readonly treeWarnings: readonly SdlDiagnostic[];
}

/**
 * YAML → schema check → version → decoded sections. The tree is local to this function, so it
 * can be collected while the later stages run (positions come from the general parser if needed).
 */
function readStage(source: string | Uint8Array, file: string): ReadStage | SdlResult {
  const parsedTree = parseTree(source);
  if (!parsedTree.ok) {
    const error = parsedTree.problems.map((p): SdlDiagnostic => {
      const { line, col } = parsedTree.lineCol(p.offset);
      return {
        code: p.code,
        message: capQuotedValues(p.message),
        path: '',
        line,
        col,
        file,
        severity: 'error',
      };
    });
    return { ok: false, error, warnings: [] };
  }
  const { locate, lineCol, root } = parsedTree.tree;
  const position: Position = (p, severity) => {
    const { line, col } = lineCol(locate(p.path, p.atKey ?? false));
    return {
      code: p.code,
      message: capQuotedValues(p.message),
      path: formatPath(p.path),
      line,
      col,
      file,
      severity,
    };
  };
  const treeWarnings = parsedTree.warnings.map((w): SdlDiagnostic => {
    const { line, col } = lineCol(w.offset);
    return {
      code: w.code,
      message: capQuotedValues(w.message),
      path: '',
      line,
      col,
      file,
      severity: 'warning',
    };
  });
  if (root === undefined || (root instanceof YScalar && root.isNull)) {
    const empty = problem('SDL_VERSION', 'sdl: uninitialized (the document is empty)', []);
    return { ok: false, error: [position(empty, 'error')], warnings: treeWarnings };
  }
  const schema = schemaProblems(root);
  const base = { schema, position, treeWarnings };
  const dialect = readDialect(root);
  if ('code' in dialect) return { ...base, problems: [dialect] };
  if (!(root instanceof Map)) {
    return { ...base, problems: [problem('SDL_SCHEMA', 'the SDL must be a YAML mapping', [])] };
  }
  const decoded = decodeSections(root, dialect.dialect);
  return decoded.input === undefined
    ? { ...base, problems: decoded.problems }
    : { ...base, problems: [], dialect, input: decoded.input };
}

/** Parses, validates and compiles an SDL (text or bytes). Never throws for bad input. */
export function parseSdl(source: string | Uint8Array, options: ParseOptions = {}): SdlResult {
  const file = options.file ?? '<input>';
  const strict = options.strict ?? false;
  const read = readStage(source, file);
  if ('ok' in read) return read;
  const { schema, position } = read;
  const warnings = [...read.treeWarnings, ...(strict ? [] : schema.map((p) => position(p, 'warning')))];
  const fail = (problems: readonly Problem[]): SdlResult => ({
    ok: false,
    error: [...(strict ? schema : []), ...problems].map((p) => position(p, 'error')),
    warnings,
  });
  const { input, dialect } = read;
  if (input === undefined || dialect === undefined) return fail(read.problems);
  const built = buildGroups(input);
  if (!built.ok) return fail(built.problems);
  const stages: ((b: Built) => Problem[])[] = [
    () => validateSdl(input, { strict }),
    (b) => validateGroups(input, b),
    (b) => validateManifest(b),
  ];
  for (const stage of stages) {
    const problems = stage(built.built);
    if (problems.length > 0) return fail(problems);
  }
  if (strict && schema.length > 0) return fail([]);

  const window = input.reclamation === undefined ? undefined : parseGoDuration(input.reclamation.minWindow);
  const manifest = deepFreeze(built.built.manifest);
  // The version costs a sorted JSON of the manifest and its hash: worked out when first read, as printing the
  // manifest or the groups never reads it.
  let hash: string | undefined;
  const value: Sdl = Object.freeze({
    dialect: dialect.dialect,
    version: dialect.version,
    manifest,
    groups: deepFreeze(built.built.groups),
    get manifestVersion(): string {
      hash ??= manifestVersion(manifest);
      return hash;
    },
    endpoints: Object.freeze([...input.endpoints.keys()]),
    ...(window?.ok ? { reclamationWindowNs: window.value } : {}),
  });
  return { ok: true, value, warnings };
}
