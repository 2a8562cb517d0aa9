/**
 * The port between the Kubernetes backend and the API server: one JSON request at a time. HTTP statuses
 * come back as values (the backend decides what a 404 or a 409 means); only a failed exchange (no
 * connection, timeout, a body that is not JSON) is an error, `K8S_UNAVAILABLE`.
 *
 * The one adapter speaks HTTPS with node:https: the backend needs six verbs on four resource kinds and
 * parses every object it reads with zod, so a generated client's typed models would add a dependency
 * tree and nothing the backend could use.
 */
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

/** The backend's only way to the cluster. */
export interface KubeGateway {
  request(req: KubeRequest): Promise<Result<KubeResponse, AppError>>;
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
}

/** A {@link KubeGateway} over node:https with pooled keep-alive connections. */
export function createHttpsGateway(connection: KubeConnection): KubeGateway {
  const base = new URL(connection.server);
  if (base.protocol !== 'https:') throw new Error(`kube server must be https, got ${connection.server}`);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 8,
    ...(connection.ca === undefined ? {} : { ca: connection.ca }),
    ...connection.clientCert,
  });
  const timeoutMs = connection.timeoutMs ?? 15_000;

  function request(req: KubeRequest): Promise<Result<KubeResponse, AppError>> {
    const url = new URL(req.path, base);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, value);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (connection.token !== undefined) headers.authorization = `Bearer ${connection.token}`;
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

  return { request, close: () => agent.destroy() };
}

function unavailable(what: string, reason: string): { readonly ok: false; readonly error: AppError } {
  return fail(appError('K8S_UNAVAILABLE', `kube-apiserver ${what}: ${reason}`));
}
