/**
 * The page's side of the console API: JSON calls (the token travels in the run's same-site cookie) and
 * the deploy stream (server-sent events over a POST, read from the response body).
 */
import type { DeployEventJson, ErrorJson } from '../api-types.js';

export type Reply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ErrorJson };

function asError(status: number, body: unknown): ErrorJson {
  const json = body as Partial<ErrorJson> | null;
  return typeof json?.error === 'string' && typeof json.code === 'string'
    ? (json as ErrorJson)
    : { error: `the console answered HTTP ${status}`, code: status === 403 ? 'FORBIDDEN' : 'UNAVAILABLE' };
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    return {
      ok: false,
      error: { error: 'the console does not answer: is akash-ip still running?', code: 'UNAVAILABLE' },
    };
  }
  const json: unknown = await response.json().catch(() => null);
  return response.ok ? { ok: true, value: json as T } : { ok: false, error: asError(response.status, json) };
}

/** Posts a deploy and hands each event of its stream to `onEvent` until the stream ends. */
export async function deployStream(body: unknown, onEvent: (event: DeployEventJson) => void): Promise<void> {
  let response: Response;
  try {
    response = await fetch('/api/deploy', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    onEvent({ type: 'error', error: { error: 'the console does not answer', code: 'UNAVAILABLE' } });
    return;
  }
  if (!response.ok || response.body === null) {
    onEvent({ type: 'error', error: asError(response.status, await response.json().catch(() => null)) });
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = message
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data !== '') onEvent(JSON.parse(data) as DeployEventJson);
      end = buffer.indexOf('\n\n');
    }
  }
}
