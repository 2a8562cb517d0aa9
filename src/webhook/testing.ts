/** Test helpers shared by the webhook's unit tests and the real-cluster tests: reviews and a trusting client. */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** An AdmissionReview of a pod CREATE, as the apiserver sends it. */
export function podReview(
  namespace: string,
  pod: { labels?: Record<string, string>; containers?: unknown[] },
  overrides: { operation?: string; kind?: string; uid?: string } = {},
): unknown {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: overrides.uid ?? 'e911857d-c318-4f1c-9ef1-0d4dd19f7a36',
      kind: { group: '', version: 'v1', kind: overrides.kind ?? 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: overrides.operation ?? 'CREATE',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'web-', labels: pod.labels ?? {} },
        spec: { containers: pod.containers ?? [{ name: 'app', image: 'nginx' }] },
      },
    },
  };
}

/** Posts a body to the webhook over TLS, trusting only `ca`; the status and parsed JSON answer. */
export function post(
  port: number,
  ca: string,
  body: string | Buffer | readonly Buffer[],
  path = '/mutate',
): Promise<{ status: number; body: unknown; serial: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? undefined : (JSON.parse(text) as unknown),
            serial,
          });
        });
      },
    );
    call.on('error', reject);
    // Several chunks are sent without a content-length (chunked), as a streaming client would.
    if (Array.isArray(body)) {
      for (const chunk of body) call.write(chunk);
      call.end();
    } else call.end(body);
  });
}

/** The JSON patch of an AdmissionReview answer, decoded; `undefined` when it carries none. */
export function patchOf(answer: unknown): unknown[] | undefined {
  const response = (answer as { response?: { allowed?: boolean; patch?: string } }).response;
  if (response?.allowed !== true) throw new Error(`not allowed: ${JSON.stringify(answer)}`);
  return response.patch === undefined
    ? undefined
    : (JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as unknown[]);
}

/** The value of a result a test expects to succeed; its error message otherwise. */
export function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}
