/**
 * What the SDL engine reports: a stable code, Go's message where Go has one, the YAML path of
 * the offending node and its 1-based line and column.
 */
import { type AppError, appError, type ErrorCode } from '../errors/index.js';

/** Errors reject the SDL; warnings (JSON-schema rules Go only logs) do not, unless `strict`. */
export type Severity = 'error' | 'warning';

/** One positioned problem in an SDL file. */
export interface SdlDiagnostic {
  readonly code: ErrorCode;
  readonly message: string;
  /** YAML path of the node, e.g. `services.web.expose[0].to[0].ip`; "" for the whole document. */
  readonly path: string;
  readonly line: number;
  readonly col: number;
  readonly file: string;
  readonly severity: Severity;
}

/** A problem found by a check, before it is positioned. */
export interface Problem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly path: readonly (string | number)[];
  /** Point at the mapping key rather than its value (e.g. an unused endpoint's name). */
  readonly atKey?: boolean;
}

export function problem(
  code: ErrorCode,
  message: string,
  path: readonly (string | number)[],
  atKey = false,
): Problem {
  return atKey ? { code, message, path, atKey } : { code, message, path };
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a path as `a.b[0]["odd key"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (PLAIN_KEY.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** Longest value a message quotes in full; Go's messages quote whatever the SDL held, a 1 MiB string included. */
export const MAX_QUOTED_VALUE = 96;

const QUOTED = /"((?:[^"\\]|\\.)*)"/g;
const BARE = /[^\s"]+/g;

function capValue(value: string): string {
  return value.length <= MAX_QUOTED_VALUE
    ? value
    : `${value.slice(0, MAX_QUOTED_VALUE - 32)}… (${value.length} characters)`;
}

/** `message` with each quoted value, and each unquoted run of text, cut to {@link MAX_QUOTED_VALUE} characters. */
export function capQuotedValues(message: string): string {
  if (message.length <= MAX_QUOTED_VALUE) return message;
  return message
    .replace(QUOTED, (_, inner: string) => `"${capValue(inner)}"`)
    .replace(BARE, (run) => capValue(run));
}

/** `FILE:LINE:COL: CODE: message`, with `warning: ` before the code for warnings. */
export function formatDiagnostic(d: SdlDiagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  return d.severity === 'warning'
    ? `${where}: warning: ${d.code}: ${d.message}`
    : `${where}: ${d.code}: ${d.message}`;
}

/** Folds diagnostics into one AppError (code of the first error) for callers that speak AppError. */
export function toAppError(diagnostics: readonly SdlDiagnostic[]): AppError {
  const first = diagnostics.find((d) => d.severity === 'error') ?? diagnostics[0];
  if (first === undefined) return appError('SDL_INVALID', 'SDL invalid');
  return appError(first.code, diagnostics.map(formatDiagnostic).join('\n'), { diagnostics });
}
