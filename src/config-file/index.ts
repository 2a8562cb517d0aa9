/**
 * Positioned refusals for configuration files read as YAML: the daemon's config and kubeconfigs. A problem
 * is reported as `FILE:LINE:COL: path: message`, so a user goes straight to the value that is refused.
 */
import { isMap, isSeq, type LineCounter, type Node } from 'yaml';
import { type AppError, appError, fail } from '../errors/index.js';

/** Where a problem is: the line and column a document path resolves to. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** An `INVALID_INPUT` refusal naming the file, line and column (and the path) of what is refused. */
export function located(
  file: string,
  position: Position,
  path: readonly PropertyKey[],
  message: string,
): { readonly ok: false; readonly error: AppError } {
  const where = path.length === 0 ? '' : `${formatPath(path)}: `;
  return fail(
    appError('INVALID_INPUT', `${file}:${position.line}:${position.col}: ${where}${message}`, {
      file,
      line: position.line,
      col: position.col,
      path: formatPath(path),
    }),
  );
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * The deepest node of `path` that exists, so a missing key points at its parent; `atKey` points at the
 * last key rather than its value.
 */
export function positionOf(
  root: Node | null,
  path: readonly PropertyKey[],
  lines: LineCounter,
  atKey = false,
): Position {
  let node: unknown = root;
  let offset = root?.range?.[0] ?? 0;
  for (const [index, part] of path.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => (item.key as { value?: unknown } | null)?.value === part || item.key === part,
      );
      next = atKey && index === path.length - 1 ? pair?.key : (pair?.value ?? pair?.key);
    } else if (isSeq(node) && typeof part === 'number') {
      next = node.items[part];
    }
    const range = (next as { range?: [number, number, number] } | undefined)?.range;
    if (range === undefined) break;
    node = next;
    offset = range[0];
  }
  return lines.linePos(offset);
}
