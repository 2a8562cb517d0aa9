/**
 * A kubeconfig file → the connection one of its contexts describes: server, CA, bearer token and/or client
 * certificate. Read at every connection attempt, like the token and CA files, so rotated credentials are
 * picked up; paths inside it are relative to its folder, as kubectl reads them. What a long-running process cannot honour
 * is refused with the line and column, never ignored: credential plugins (`exec`, `auth-provider`), basic
 * auth, proxies, and skipping the server's certificate check.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { located, positionOf } from '../config-file/index.js';
import { appError, fail, ok, type Result } from '../errors/index.js';
import type { KubeConnection } from './gateway.js';

/** Largest kubeconfig read (a real one with many embedded certificates stays far below). */
const MAX_KUBECONFIG_BYTES = 1 << 20;

const unsupported = (what: string) => z.never({ error: `${what} is not supported` }).optional();

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64')
  .transform((text) => Buffer.from(text, 'base64').toString('utf8'));

const clusterSchema = z.object({
  server: z
    .string()
    .refine((text) => /^https:\/\/[^\s/]+\/?$/.test(text), 'must be an https URL without a path'),
  'certificate-authority': z.string().min(1).optional(),
  'certificate-authority-data': base64.optional(),
  'insecure-skip-tls-verify': z
    .literal(false, { error: "must be false: the server's certificate is always checked" })
    .optional(),
  'tls-server-name': unsupported('tls-server-name'),
  'proxy-url': unsupported('proxy-url'),
});

const userSchema = z.object({
  token: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  'client-certificate': z.string().min(1).optional(),
  'client-certificate-data': base64.optional(),
  'client-key': z.string().min(1).optional(),
  'client-key-data': base64.optional(),
  exec: unsupported('a credential plugin (exec); give a token, tokenFile or client certificate'),
  'auth-provider': unsupported('an auth-provider; give a token, tokenFile or client certificate'),
  username: unsupported('basic auth (username)'),
  password: unsupported('basic auth (password)'),
});

const kubeconfigSchema = z.object({
  clusters: z.array(z.object({ name: z.string().min(1), cluster: clusterSchema })).default([]),
  users: z
    .array(z.object({ name: z.string().min(1), user: userSchema.nullish().transform((user) => user ?? {}) }))
    .default([]),
  contexts: z
    .array(
      z.object({
        name: z.string().min(1),
        context: z.object({ cluster: z.string().min(1), user: z.string().min(1) }),
      }),
    )
    .default([]),
  'current-context': z.string().optional(),
});

/** What a kubeconfig gives the gateway (the per-request timeout comes from the caller's configuration). */
export type KubeconfigConnection = Omit<KubeConnection, 'timeoutMs'>;

/**
 * Reads `file` and returns the connection of `context`, or of the file's `current-context` when none is
 * given. Every refusal is `INVALID_INPUT` naming the file, line and column.
 */
export async function loadKubeconfig(file: string, context?: string): Promise<Result<KubeconfigConnection>> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_KUBECONFIG_BYTES) {
      return fail(appError('INVALID_INPUT', `${file}: a kubeconfig is at most 1 MiB`));
    }
    text = bytes.toString('utf8');
  } catch (error) {
    return fail(
      appError('INVALID_INPUT', `cannot read the kubeconfig ${file}: ${(error as Error).message}`, { file }),
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    return located(file, lines.linePos(syntax.pos[0]), [], syntax.message.split('\n')[0] ?? 'invalid YAML');
  }
  const refuse = (path: readonly PropertyKey[], message: string) =>
    located(file, positionOf(doc.contents, path, lines), path, message);
  const parsed = kubeconfigSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(issue?.path ?? [], issue?.message ?? 'invalid');
  }
  const config = parsed.data;

  const name = context ?? config['current-context'];
  if (name === undefined || name === '') {
    return refuse([], 'no current-context: name the context to use');
  }
  const at = config.contexts.findIndex((entry) => entry.name === name);
  const chosen = config.contexts[at];
  if (chosen === undefined) {
    return refuse(context === undefined ? ['current-context'] : ['contexts'], `no context named "${name}"`);
  }
  const clusterAt = config.clusters.findIndex((entry) => entry.name === chosen.context.cluster);
  const cluster = config.clusters[clusterAt]?.cluster;
  if (cluster === undefined) {
    return refuse(['contexts', at, 'context', 'cluster'], `no cluster named "${chosen.context.cluster}"`);
  }
  const userAt = config.users.findIndex((entry) => entry.name === chosen.context.user);
  const user = config.users[userAt]?.user;
  if (user === undefined) {
    return refuse(['contexts', at, 'context', 'user'], `no user named "${chosen.context.user}"`);
  }

  const folder = dirname(resolve(file));
  /** Inline data, or the named file's text; refused when both are given. */
  const material = async (
    path: readonly PropertyKey[],
    key: string,
    data: string | undefined,
    named: string | undefined,
  ): Promise<Result<string | undefined>> => {
    if (data !== undefined && named !== undefined) {
      return refuse([...path, `${key}-data`], `give one of ${key} and ${key}-data`);
    }
    if (named === undefined) return ok(data);
    const target = resolve(folder, named);
    try {
      return ok(await readFile(target, 'utf8'));
    } catch (error) {
      return refuse([...path, key], `cannot read ${target}: ${(error as Error).message}`);
    }
  };

  const clusterPath = ['clusters', clusterAt, 'cluster'];
  const ca = await material(
    clusterPath,
    'certificate-authority',
    cluster['certificate-authority-data'],
    cluster['certificate-authority'],
  );
  if (!ca.ok) return ca;
  const userPath = ['users', userAt, 'user'];
  const cert = await material(
    userPath,
    'client-certificate',
    user['client-certificate-data'],
    user['client-certificate'],
  );
  if (!cert.ok) return cert;
  const key = await material(userPath, 'client-key', user['client-key-data'], user['client-key']);
  if (!key.ok) return key;
  if ((cert.value === undefined) !== (key.value === undefined)) {
    return refuse(userPath, 'a client certificate needs its key, and a key its certificate');
  }
  // As kubectl: an inline token wins over tokenFile.
  let token = user.token;
  if (token === undefined && user.tokenFile !== undefined) {
    const target = resolve(folder, user.tokenFile);
    try {
      token = (await readFile(target, 'utf8')).trim();
    } catch (error) {
      return refuse([...userPath, 'tokenFile'], `cannot read ${target}: ${(error as Error).message}`);
    }
  }
  if (token === undefined && cert.value === undefined) {
    return refuse(userPath, 'no credentials: give token, tokenFile, or client-certificate and client-key');
  }
  return ok({
    server: cluster.server.replace(/\/+$/, ''),
    ...(ca.value === undefined ? {} : { ca: ca.value }),
    ...(token === undefined ? {} : { token }),
    ...(cert.value === undefined || key.value === undefined
      ? {}
      : { clientCert: { cert: cert.value, key: key.value } }),
  });
}
