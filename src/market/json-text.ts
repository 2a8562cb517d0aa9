/**
 * JSON text from the network, parsed with its nesting bounded first. `JSON.parse` itself copes with any depth,
 * but every recursive walk after it (schema checks, hashing, freezing, `JSON.stringify`) overflows the stack
 * somewhere past a few thousand levels: a 10 KB body of `{"a":{"a":…}}` would fail as a JavaScript exception
 * deep inside a handler instead of a refusal at the door. The scan below is one pass over the text, without
 * recursion and before any object is built.
 */
import { quoteLargeIntegers } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';

/** Deepest nesting of arrays and objects accepted in a request body (Akash's manifests need about 10). */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of `[` and `{` in `text` (strings skipped), counting no further than `limit + 1`. */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Parses JSON text whose arrays and objects nest at most `maxDepth` deep: INPUT_TOO_DEEP beyond that (checked
 * before parsing), INVALID_INPUT when it is not JSON. `what` names the text in messages ("the request body").
 */
export function parseJsonText(
  text: string,
  what: string,
  maxDepth: number = MAX_JSON_DEPTH,
): Result<unknown, AppError> {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    return fail(
      appError('INPUT_TOO_DEEP', `${what} nests arrays and objects more than ${maxDepth} levels deep`, {
        maxDepth,
      }),
    );
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return fail(appError('INVALID_INPUT', `${what} is not JSON`));
  }
}

/** {@link parseJsonText} with integers beyond 2^53 − 1 kept exact as decimal strings ({@link quoteLargeIntegers}). */
export function parseJsonExact(
  text: string,
  what: string,
  maxDepth: number = MAX_JSON_DEPTH,
): Result<unknown, AppError> {
  return parseJsonText(quoteLargeIntegers(text), what, maxDepth);
}
