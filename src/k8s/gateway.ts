/**
 * The port between the Kubernetes backend and the API server: one JSON request at a time, and watch
 * streams. HTTP statuses come back as values (the backend decides what a 404 or a 409 means); only a failed
 * exchange (no connection, timeout, a body that is not JSON) is an error, `K8S_UNAVAILABLE`.
 *
 * The one adapter speaks HTTPS with node:https: the backend needs six verbs on four resource kinds and
 * parses every object it reads with zod, so a generated client's typed models would add a dependency
 * tree and nothing the backend could use.
 */
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest {
  readonly method: KubeMethod;
  /** Absolute API path, e.g. `/api/v1/namespaces/x/services`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Defaults to `application/json`; PATCH uses `application/merge-patch+json`. */
  readonly contentType?: string;
}

export interface KubeResponse {
  readonly status: number;
  /** The decoded JSON body; `undefined` when there was none. */
  readonly body: unknown;
}

export type KubeWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch stream; `object` is the object (or, for `ERROR`, a `Status`), not parsed. */
export interface KubeWatchEvent {
  readonly type: KubeWatchEventType;
  readonly object: unknown;
}

export interface KubeWatchRequest {
  /** Collection path, e.g. `/api/v1/services` or `/apis/akash.network/v2beta2/namespaces/lease/providerleasedips`. */
  readonly path: string;
  /** Sent as query parameters together with `watch=true` (resourceVersion, labelSelector, allowWatchBookmarks, timeoutSeconds…). */
  readonly query?: Readonly<Record<string, string>>;
}

/** The backend's only way to the cluster. */
export interface KubeGateway {
  request(req: KubeRequest): Promise<Result<KubeResponse, AppError>>;
  /**
   * One watch stream: yields each decoded event; ends (returns) when the server closes the stream or `signal`
   * aborts; a failed exchange (no connection, non-200 status, a line that is not JSON, no data for longer than
   * the idle timeout) ends it with one final `{ok:false, error: K8S_UNAVAILABLE}` item. Never throws.
   */
  watch(req: KubeWatchRequest, signal: AbortSignal): AsyncIterable<Result<KubeWatchEvent, AppError>>;
  /** Drops pooled connections. */
  close(): void;
}

/** Where the API server is and how to prove who we are: a bearer token, a client certificate, or both. */
export interface KubeConnection {
  /** `https://host:port`. */
  readonly server: string;
  /** PEM of the CA that signed the server's certificate; without it, the system's trusted roots (as kubectl). */
  readonly ca?: string;
  /** Bearer token. */
  readonly token?: string;
  /** PEM certificate and key the TLS handshake presents (kubeconfig `client-certificate` / `client-key`). */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** Per request; default 15 000. */
  readonly timeoutMs?: number;
  /**
   * A watch stream silent for longer than this is taken for dead; default the request's `timeoutSeconds`
   * plus 30 s (the server closes the stream itself at `timeoutSeconds`), or 1 h without one.
   */
  readonly watchIdleMs?: number;
}

const WATCH_EVENT_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** A decoded watch line, or `undefined` when it is not one. */
function watchEventOf(line: string): KubeWatchEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, object } = value as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !WATCH_EVENT_TYPES.has(type) || object === undefined) return undefined;
  return { type: type as KubeWatchEventType, object };
}

/**
 * A {@link KubeGateway} over node:https with pooled keep-alive connections. Watches hold a connection each
 * for minutes, so they get an agent of their own: they never starve the requests' pool of 8 sockets.
 */
export function createHttpsGateway(connection: KubeConnection): KubeGateway {
  const base = new URL(connection.server);
  if (base.protocol !== 'https:') throw new Error(`kube server must be https, got ${connection.server}`);
  const tls = { ...(connection.ca === undefined ? {} : { ca: connection.ca }), ...connection.clientCert };
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ...tls });
  const watchAgent = new Agent({ keepAlive: false, ...tls });
  const timeoutMs = connection.timeoutMs ?? 15_000;

  function urlOf(path: string, query: Readonly<Record<string, string>> | undefined): URL {
    const url = new URL(path, base);
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    return url;
  }

  function headersOf(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (connection.token !== undefined) headers.authorization = `Bearer ${connection.token}`;
    return headers;
  }

  function request(req: KubeRequest): Promise<Result<KubeResponse, AppError>> {
    const url = urlOf(req.path, req.query);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers = headersOf();
    if (payload !== undefined) {
      headers['content-type'] =
        req.contentType ?? (req.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['content-length'] = String(payload.length);
    }
    const what = `${req.method} ${url.pathname}`;
    return new Promise((resolve) => {
      const call = httpsRequest(url, { method: req.method, agent, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => resolve(unavailable(what, error.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (text === '') {
            resolve(ok({ status: res.statusCode ?? 0, body: undefined }));
            return;
          }
          try {
            resolve(ok({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
          } catch {
            resolve(unavailable(what, `HTTP ${res.statusCode} with a body that is not JSON`));
          }
        });
      });
      call.on('timeout', () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      call.on('error', (error) => resolve(unavailable(what, error.message)));
      call.end(payload);
    });
  }

  async function* watch(
    req: KubeWatchRequest,
    signal: AbortSignal,
  ): AsyncGenerator<Result<KubeWatchEvent, AppError>> {
    const url = urlOf(req.path, { ...req.query, watch: 'true' });
    const what = `WATCH ${url.pathname}`;
    const timeoutSeconds = Number(req.query?.timeoutSeconds);
    const idleMs =
      connection.watchIdleMs ??
      (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 + 30_000 : 3_600_000);
    if (signal.aborted) return;
    const call = httpsRequest(url, { method: 'GET', agent: watchAgent, headers: headersOf(), signal });
    // A socket timeout measures silence, not the stream's length: a long watch is fine, a dead one is not.
    let silent: string | undefined;
    call.setTimeout(idleMs, () => {
      silent = `no data for ${idleMs} ms`;
      call.destroy(new Error(silent));
    });
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        call.once('response', resolve);
        call.once('error', reject);
        call.end();
      });
      // From here a failure reaches us through the response stream; the request's own error is a duplicate.
      call.on('error', () => {});
      if (res.statusCode !== 200) {
        const text = await readText(res);
        yield fail(
          appError(
            'K8S_UNAVAILABLE',
            `kube-apiserver ${what}: HTTP ${res.statusCode} ${statusMessage(text)}`,
            {
              status: res.statusCode,
            },
          ),
        );
        return;
      }
      res.setEncoding('utf8');
      let pending = '';
      for await (const chunk of res as AsyncIterable<string>) {
        pending += chunk;
        // A chunk may end mid-line: only complete lines are decoded, the rest waits for the next chunk.
        for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
          if (signal.aborted) return;
          const line = pending.slice(0, end).trim();
          pending = pending.slice(end + 1);
          if (line === '') continue;
          const event = watchEventOf(line);
          if (event === undefined) {
            yield unavailable(what, 'a line of the stream is not a watch event');
            return;
          }
          yield ok(event);
        }
      }
      if (silent !== undefined) {
        yield unavailable(what, silent);
        return;
      }
      const last = pending.trim();
      if (last !== '') {
        const event = watchEventOf(last);
        yield event === undefined ? unavailable(what, 'the stream ended inside an event') : ok(event);
      }
    } catch (error) {
      if (!signal.aborted) yield unavailable(what, silent ?? (error as Error).message);
    } finally {
      call.destroy();
    }
  }

  return {
    request,
    watch,
    close: () => {
      agent.destroy();
      watchAgent.destroy();
    },
  };
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The message of a `Status` body, or the start of whatever else the server sent. */
function statusMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: a proxy's page, say; its start is the best description there is
  }
  return text.slice(0, 200);
}

function unavailable(what: string, reason: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('K8S_UNAVAILABLE', `kube-apiserver ${what}: ${reason}`));
}
