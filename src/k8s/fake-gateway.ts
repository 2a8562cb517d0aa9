/**
 * An in-memory Kubernetes API server behind the {@link KubeGateway} port, for fast unit tests of everything
 * that talks to the cluster. It keeps real semantics rather than scripted answers: objects by path, one global
 * resourceVersion, label and field selectors, paged lists, optimistic concurrency, merge patches, delete
 * preconditions, a status subresource, and watches that replay history, filter by selector, send bookmarks and
 * expire (410) after a compaction. Tests steer it: failures injected per request, the whole server down,
 * MetalLB's status writes, a log of the requests made.
 */
import { isDeepStrictEqual } from 'node:util';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type {
  KubeGateway,
  KubeMethod,
  KubeRequest,
  KubeResponse,
  KubeWatchEvent,
  KubeWatchRequest,
} from './gateway.js';

/** One request as the fake received it; watches are logged with the method `WATCH`. */
export interface FakeRequest {
  readonly method: KubeMethod | 'WATCH';
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The object's name: the last segment of an item path, or `metadata.name` of a created body. */
  readonly name?: string;
}

/** Which requests an injected failure hits; every given field must match. */
export interface FakeMatch {
  readonly method?: KubeMethod | 'WATCH';
  /** A path prefix, or a pattern tested against the path. */
  readonly path?: string | RegExp;
  /** The object's name: the last segment of an item path, or `metadata.name` of a created body. */
  readonly name?: string;
}

/** What an injected failure answers: an HTTP status with a `Status` body, or no answer at all. */
export type FakeFailure = (
  | { readonly status: number; readonly reason?: string; readonly message?: string }
  | { readonly unavailable: true }
) & {
  /** How many matching requests fail; default all of them. */
  readonly times?: number;
};

export interface FakeKubeGatewayOptions {
  /** Namespaced objects may be created only in an existing Namespace (as the apiserver); default true. */
  readonly requireNamespaces?: boolean;
  /** API groups (`/apis/<group>`) whose kinds have a `status` subresource; the core group always has one. */
  readonly statusSubresourceGroups?: readonly string[];
  /** Awaited before each request and watch is answered, to model a slow server. */
  readonly latency?: (req: FakeRequest) => Promise<void>;
}

type Json = Record<string, unknown>;

/** A parsed API path: `base` is `/api/v1` or `/apis/<group>/<version>`. */
interface Address {
  readonly base: string;
  readonly group: string;
  readonly plural: string;
  /** `undefined`: every namespace (a collection) or a cluster-scoped kind. */
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

interface Stored {
  readonly address: Required<Pick<Address, 'base' | 'plural' | 'name'>> & { readonly namespace: string };
  readonly object: Json;
}

interface HistoryEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly stored: Stored;
  /** For `MODIFIED`: the object before, so a selector watch can tell "left the selection" from "changed". */
  readonly before?: Json;
}

interface Watcher {
  readonly address: Address;
  readonly matches: (object: Json) => boolean;
  readonly bookmarks: boolean;
  readonly queue: Result<KubeWatchEvent, AppError>[];
  ended: boolean;
  wake: () => void;
}

const DEFAULT_STATUS_GROUPS = ['apiextensions.k8s.io', 'metallb.io'];
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

function statusBody(code: number, reason: string, message: string, name?: string, kind?: string): Json {
  const details = { ...(name === undefined ? {} : { name }), ...(kind === undefined ? {} : { kind }) };
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(Object.keys(details).length === 0 ? {} : { details }),
    code,
  };
}

/** Kinds of the core collections tests use, for bodies that leave `kind` out (the apiserver fills it in). */
const CORE_KINDS: Readonly<Record<string, string>> = {
  namespaces: 'Namespace',
  services: 'Service',
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  events: 'Event',
  pods: 'Pod',
  endpoints: 'Endpoints',
};

function copy<T>(value: T): T {
  return structuredClone(value);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function metaOf(object: Json): Json {
  return isObject(object.metadata) ? object.metadata : {};
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return copy(patch);
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * Parses `/api/v1/...` and `/apis/<group>/<version>/...`: `namespaces/<ns>/<plural>[/<name>[/<sub>]]` is
 * namespaced; otherwise `<plural>[/<name>[/<sub>]]` is a cluster-scoped kind or a list across namespaces.
 */
function parsePath(path: string): Address | undefined {
  const parts = path
    .split('?')[0]!
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  let base: string;
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    base = '/api/v1';
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    base = `/apis/${parts[1]}/${parts[2]}`;
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  const namespaced =
    rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize';
  const [namespace, plural, name, subresource, extra] = namespaced ? rest.slice(1) : [undefined, ...rest];
  if (plural === undefined || extra !== undefined) return undefined;
  return {
    base,
    group,
    plural,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

function keyOf(base: string, plural: string, namespace: string, name: string): string {
  // The namespace before the name: lists come out sorted by namespace, then name, as from etcd.
  return `${base}/${plural}\u0000${namespace}\u0000${name}`;
}

/** Splits on commas outside parentheses (`a in (x,y),b`). */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((term) => term.trim()).filter((term) => term !== '');
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

type Predicate = (value: (key: string) => string | undefined) => boolean;

/** Label selector terms: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`. */
function parseLabelSelector(text: string): Predicate | string {
  const tests: Predicate[] = [];
  for (const term of splitTerms(text)) {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set !== null) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((value) => value.trim()));
      const invalid = [...values].find((value) => !LABEL_VALUE.test(value));
      if (invalid !== undefined) return `invalid label value: "${invalid}"`;
      tests.push((get) => {
        const have = get(key);
        return op === 'in' ? have !== undefined && values.has(have) : have === undefined || !values.has(have);
      });
      continue;
    }
    const compare = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (compare !== null) {
      const [, key, op, want] = compare as unknown as [string, string, string, string];
      if (!LABEL_VALUE.test(want)) return `invalid label value: "${want}"`;
      tests.push(op === '!=' ? (get) => get(key) !== want : (get) => get(key) === want);
      continue;
    }
    const exists = /^(!?)([^=!\s()]+)$/.exec(term);
    if (exists === null) return `unable to parse requirement: ${term}`;
    const [, not, key] = exists as unknown as [string, string, string];
    tests.push(not === '!' ? (get) => get(key) === undefined : (get) => get(key) !== undefined);
  }
  return (get) => tests.every((test) => test(get));
}

/** Field selector terms on dotted paths: `metadata.name=x`, `involvedObject.name==x`, `spec.x!=y`. */
function parseFieldSelector(text: string): Predicate | string {
  const tests: Predicate[] = [];
  for (const term of splitTerms(text)) {
    const compare = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (compare === null) return `invalid field selector: ${term}`;
    const [, key, op, want] = compare as unknown as [string, string, string, string];
    tests.push(op === '!=' ? (get) => get(key.trim()) !== want : (get) => get(key.trim()) === want);
  }
  return (get) => tests.every((test) => test(get));
}

function fieldOf(object: Json, path: string): string | undefined {
  let value: unknown = object;
  for (const part of path.split('.')) value = isObject(value) ? value[part] : undefined;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Field selector names the apiserver computes rather than reads at a path: an Event's `source` is its
 * `source.component`, or its `reportingController` when that is empty (Events written through events.k8s.io).
 */
const COMPUTED_FIELDS: Readonly<Record<string, (object: Json) => string | undefined>> = {
  source: (object) => fieldOf(object, 'source.component') || fieldOf(object, 'reportingController'),
};

function selectableField(object: Json, name: string): string | undefined {
  const computed = COMPUTED_FIELDS[name];
  return computed === undefined ? fieldOf(object, name) : computed(object);
}

function labelsOf(object: Json): Record<string, string> {
  const labels = metaOf(object).labels;
  return isObject(labels) ? (labels as Record<string, string>) : {};
}

interface ListSnapshot {
  readonly rv: number;
  readonly items: readonly Json[];
}

/** The fake API server; see the module comment. */
export class FakeKubeGateway implements KubeGateway {
  readonly #objects = new Map<string, Stored>();
  readonly #history: HistoryEntry[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #snapshots = new Map<string, ListSnapshot>();
  readonly #failures: { match: FakeMatch; failure: FakeFailure; left: number }[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #requireNamespaces: boolean;
  readonly #statusGroups: ReadonlySet<string>;
  readonly #latency: ((req: FakeRequest) => Promise<void>) | undefined;
  #log: FakeRequest[] = [];
  #rv = 0;
  /** Events at or below this resourceVersion are forgotten: a watch from before it gets 410 Gone. */
  #compacted = 0;
  #down = false;
  #uid = 0;
  #clusterIps = 0;
  #nodePorts = 0;

  constructor(options: FakeKubeGatewayOptions = {}) {
    this.#requireNamespaces = options.requireNamespaces ?? true;
    this.#statusGroups = new Set(options.statusSubresourceGroups ?? DEFAULT_STATUS_GROUPS);
    this.#latency = options.latency;
  }

  // ---- the port ----

  async request(req: KubeRequest): Promise<Result<KubeResponse, AppError>> {
    const name = parsePath(req.path)?.name ?? nameOfBody(req.body);
    const logged: FakeRequest = {
      method: req.method,
      path: req.path,
      query: { ...req.query },
      ...(name === undefined ? {} : { name }),
    };
    this.#log.push(logged);
    if (this.#latency !== undefined) await this.#latency(logged);
    try {
      const injected = this.#injected(logged);
      if (injected !== undefined) return injected;
      return ok(this.#serve(req));
    } finally {
      this.#notify();
    }
  }

  async *watch(req: KubeWatchRequest, signal: AbortSignal): AsyncGenerator<Result<KubeWatchEvent, AppError>> {
    const logged: FakeRequest = { method: 'WATCH', path: req.path, query: { ...req.query } };
    this.#log.push(logged);
    this.#notify();
    if (this.#latency !== undefined) await this.#latency(logged);
    if (signal.aborted) return;
    const injected = this.#injected(logged);
    if (injected !== undefined && !injected.ok) {
      yield injected;
      return;
    }
    const watcher = injected?.value ?? this.#openWatch(req);
    if (!('queue' in watcher)) {
      // As the https adapter reports a watch the server answers with an error status.
      yield fail(
        appError('K8S_UNAVAILABLE', `kube-apiserver WATCH ${req.path}: HTTP ${watcher.status}`, {
          status: watcher.status,
        }),
      );
      return;
    }
    const onAbort = () => {
      watcher.ended = true;
      watcher.wake();
    };
    signal.addEventListener('abort', onAbort);
    this.#watchers.add(watcher);
    this.#notify();
    try {
      for (;;) {
        if (signal.aborted) return;
        const next = watcher.queue.shift();
        if (next !== undefined) {
          yield next;
          if (!next.ok || next.value.type === 'ERROR') return;
          continue;
        }
        if (watcher.ended) return;
        await new Promise<void>((resolve) => {
          watcher.wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#watchers.delete(watcher);
      this.#notify();
    }
  }

  close(): void {
    this.endWatches();
  }

  // ---- test controls ----

  /** Every request and watch received since the last {@link resetCounts}, in order. */
  get requests(): readonly FakeRequest[] {
    return this.#log;
  }

  /** How many logged requests match (by method, path prefix or pattern, name). */
  count(match: FakeMatch = {}): number {
    return this.#log.filter((req) => matches(match, req)).length;
  }

  /** Logged POST, PUT, PATCH and DELETE requests. */
  writes(): number {
    return this.#log.filter((req) => req.method !== 'GET' && req.method !== 'WATCH').length;
  }

  resetCounts(): void {
    this.#log = [];
  }

  /** Makes matching requests (and watches) fail: with an HTTP status and a `Status` body, or unanswered. */
  fail(match: FakeMatch, failure: FakeFailure): void {
    this.#failures.push({ match, failure, left: failure.times ?? Number.POSITIVE_INFINITY });
  }

  /** Drops every injected failure. */
  clearFailures(): void {
    this.#failures.length = 0;
  }

  /** The whole server unreachable: every request and watch fails with `K8S_UNAVAILABLE`; open watches break. */
  down(): void {
    this.#down = true;
    for (const watcher of this.#watchers) {
      watcher.queue.push(
        fail(appError('K8S_UNAVAILABLE', 'kube-apiserver WATCH: connection reset (fake down)')),
      );
      watcher.wake();
    }
    this.#notify();
  }

  /** Reachable again (after {@link down}); injected failures stay. */
  up(): void {
    this.#down = false;
    this.#notify();
  }

  /** The current (global) resourceVersion. */
  resourceVersion(): string {
    return String(this.#rv);
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const watcher of this.#watchers) {
      if (!watcher.bookmarks) continue;
      watcher.queue.push(ok({ type: 'BOOKMARK', object: this.#bookmarkObject(watcher.address) }));
      watcher.wake();
    }
  }

  /** Forgets all history up to now, as etcd's compaction: a watch or a list continuation from before gets 410. */
  compact(): void {
    this.#compacted = this.#rv;
    this.#history.length = 0;
    this.#snapshots.clear();
  }

  /** Ends every open watch stream cleanly, as the apiserver does at a watch's `timeoutSeconds`. */
  endWatches(): void {
    for (const watcher of this.#watchers) {
      watcher.ended = true;
      watcher.wake();
    }
  }

  /** Open watch streams, on a collection path (exactly) or all. */
  watchCount(path?: string): number {
    let count = 0;
    for (const watcher of this.#watchers) {
      if (path === undefined || watchPathOf(watcher.address) === path) count++;
    }
    return count;
  }

  /** Resolves once `condition` holds; re-checked after every request, write and watch change of the fake. */
  waitFor(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /**
   * Sets an object's `status` (as MetalLB sets `status.loadBalancer.ingress` on a Service): a write of its
   * own, with a new resourceVersion and a MODIFIED event. `undefined` removes the status.
   */
  setStatus(path: string, status: unknown): void {
    const stored = this.#itemAt(path);
    const object = copy(stored.object);
    if (status === undefined) delete object.status;
    else object.status = copy(status);
    this.#update(stored, object);
    this.#notify();
  }

  /** Copies of the objects at a path: an item, a namespaced collection, or a collection across namespaces. */
  objects(path: string): Json[] {
    const address = parsePath(path);
    if (address === undefined) throw new Error(`fake kube: not an API path: ${path}`);
    return this.#select(address).map((stored) => copy(stored.object));
  }

  /** Creates an object without a request (not logged): a test's fixture, or another writer's object. */
  add(collectionPath: string, body: unknown): Json {
    const answer = this.#serve({ method: 'POST', path: collectionPath, body });
    if (answer.status !== 201)
      throw new Error(`fake kube: add ${collectionPath}: ${JSON.stringify(answer.body)}`);
    this.#notify();
    return answer.body as Json;
  }

  /**
   * Replaces an object's whole content without a request (not logged; no resourceVersion check and no
   * validation, so a test can plant what a careless writer would; defaults are still filled in).
   */
  replace(path: string, body: unknown): Json {
    const stored = this.#itemAt(path);
    const object = copy(body) as Json;
    object.metadata = { ...metaOf(object), ...pick(metaOf(stored.object), IMMUTABLE_META) };
    const address = parsePath(path)!;
    this.#settle(address, object, stored.object);
    const updated = this.#update(stored, object);
    this.#notify();
    return copy(updated);
  }

  /** Deletes an object without a request (not logged). */
  remove(path: string): void {
    this.#delete(this.#itemAt(path));
    this.#notify();
  }

  // ---- the server ----

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #unavailable(req: FakeRequest, why: string): AppError {
    return appError('K8S_UNAVAILABLE', `kube-apiserver ${req.method} ${req.path}: ${why}`);
  }

  /** The answer of an injected failure or of the server being down, if any applies. */
  #injected(req: FakeRequest): Result<KubeResponse, AppError> | undefined {
    if (this.#down) return fail(this.#unavailable(req, 'connect ECONNREFUSED (fake down)'));
    const rule = this.#failures.find((entry) => entry.left > 0 && matches(entry.match, req));
    if (rule === undefined) return undefined;
    rule.left--;
    const { failure } = rule;
    if ('unavailable' in failure) return fail(this.#unavailable(req, 'connection reset (injected)'));
    const reason = failure.reason ?? REASONS[failure.status] ?? 'Unknown';
    return ok({
      status: failure.status,
      body: statusBody(failure.status, reason, failure.message ?? `injected ${reason}`, req.name),
    });
  }

  #serve(req: KubeRequest): KubeResponse {
    const address = parsePath(req.path);
    if (address === undefined)
      return error(404, `the server could not find the requested resource (${req.path})`);
    if (address.name === undefined) {
      if (req.method === 'GET') return this.#list(address, req.query ?? {});
      if (req.method === 'POST') return this.#create(address, req.body);
      return error(405, `${req.method} is not allowed on a collection`, 'MethodNotAllowed');
    }
    if (address.subresource !== undefined && address.subresource !== 'status') {
      return error(404, `the server could not find the requested resource (${req.path})`);
    }
    const stored = this.#objects.get(this.#keyOfItem(address));
    const notFound = () =>
      error(404, `${address.plural} "${address.name}" not found`, 'NotFound', address.name, address.plural);
    switch (req.method) {
      case 'GET':
        return stored === undefined ? notFound() : { status: 200, body: copy(stored.object) };
      case 'PUT':
        if (stored !== undefined) return this.#put(stored, address, req.body);
        // Services (only, of the kinds tests use) may be created by a PUT, as the apiserver allows.
        if (address.base !== '/api/v1' || address.plural !== 'services') return notFound();
        if (nameOfBody(req.body) !== address.name) {
          return error(400, `the name of the object does not match the name on the URL (${address.name})`);
        }
        return this.#create(
          {
            base: address.base,
            group: address.group,
            plural: address.plural,
            ...(address.namespace === undefined ? {} : { namespace: address.namespace }),
          },
          req.body,
        );
      case 'PATCH': {
        if (stored === undefined) return notFound();
        const type = req.contentType ?? 'application/merge-patch+json';
        if (type !== 'application/merge-patch+json') {
          return error(415, `the fake supports merge patches only, not ${type}`);
        }
        return this.#patch(stored, address, req.body);
      }
      case 'DELETE':
        return stored === undefined ? notFound() : this.#deleteChecked(stored, req.body);
      default:
        return error(405, `${req.method} is not allowed on an object`, 'MethodNotAllowed');
    }
  }

  #keyOfItem(address: Address): string {
    return keyOf(address.base, address.plural, address.namespace ?? '', address.name ?? '');
  }

  #itemAt(path: string): Stored {
    const address = parsePath(path);
    const stored = address?.name === undefined ? undefined : this.#objects.get(this.#keyOfItem(address));
    if (stored === undefined) throw new Error(`fake kube: no object at ${path}`);
    return stored;
  }

  /** Objects of a collection (one namespace, or all when the path names none), or the one item, sorted. */
  #select(address: Address): Stored[] {
    if (address.name !== undefined) {
      const stored = this.#objects.get(this.#keyOfItem(address));
      return stored === undefined ? [] : [stored];
    }
    const prefix = `${address.base}/${address.plural}\u0000`;
    const out: Stored[] = [];
    for (const [key, stored] of this.#objects) {
      if (!key.startsWith(prefix)) continue;
      if (address.namespace !== undefined && stored.address.namespace !== address.namespace) continue;
      out.push(stored);
    }
    return out.sort((a, b) => (this.#sortKey(a) < this.#sortKey(b) ? -1 : 1));
  }

  #sortKey(stored: Stored): string {
    return keyOf(stored.address.base, stored.address.plural, stored.address.namespace, stored.address.name);
  }

  #hasStatusSubresource(address: Address): boolean {
    return address.group === '' || this.#statusGroups.has(address.group);
  }

  /** A predicate from the request's selectors, or the 400 answer they deserve. */
  #filter(query: Readonly<Record<string, string>>): ((object: Json) => boolean) | KubeResponse {
    const labels = parseLabelSelector(query.labelSelector ?? '');
    if (typeof labels === 'string') return error(400, labels);
    const fields = parseFieldSelector(query.fieldSelector ?? '');
    if (typeof fields === 'string') return error(400, fields);
    return (object) => {
      const objectLabels = labelsOf(object);
      return labels((key) => objectLabels[key]) && fields((path) => selectableField(object, path));
    };
  }

  #list(address: Address, query: Readonly<Record<string, string>>): KubeResponse {
    const filter = this.#filter(query);
    if (typeof filter !== 'function') return filter;
    let snapshot: ListSnapshot;
    let offset = 0;
    if (query.continue !== undefined && query.continue !== '') {
      const [token, at] = query.continue.split(':');
      const found = this.#snapshots.get(token ?? '');
      if (found === undefined) {
        return error(
          410,
          'The provided continue parameter is too old to display a consistent list result.',
          'Expired',
        );
      }
      snapshot = found;
      offset = Number(at);
    } else {
      snapshot = {
        rv: this.#rv,
        items: this.#select(address)
          .map((stored) => stored.object)
          .filter(filter)
          .map(copy),
      };
    }
    const limit = Number(query.limit ?? '0');
    const end = limit > 0 ? offset + limit : snapshot.items.length;
    const metadata: Json = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      // A continuation reads the same snapshot, as the apiserver reads etcd at the first page's revision.
      const token = `${snapshot.rv}-${this.#snapshots.size}-${this.#uid++}`;
      this.#snapshots.set(token, snapshot);
      metadata.continue = `${token}:${end}`;
      metadata.remainingItemCount = snapshot.items.length - end;
    }
    const items = snapshot.items.slice(offset, end).map(copy);
    const itemKind = items[0]?.kind ?? (address.base === '/api/v1' ? CORE_KINDS[address.plural] : undefined);
    if (address.base === '/api/v1') {
      // Built-in kinds' list items carry no kind and apiVersion (custom resources' do).
      for (const item of items) {
        delete item.kind;
        delete item.apiVersion;
      }
    }
    const kind = typeof itemKind === 'string' ? `${itemKind}List` : 'List';
    return { status: 200, body: { kind, apiVersion: apiVersionOf(address), metadata, items } };
  }

  #create(address: Address, body: unknown): KubeResponse {
    if (!isObject(body)) return error(400, 'the body is not an object');
    const object = copy(body);
    const meta = { ...metaOf(object) };
    if (typeof meta.name !== 'string' && typeof meta.generateName === 'string') {
      meta.name = `${meta.generateName}${(this.#uid++).toString(36).padStart(5, '0')}`;
    }
    const name = meta.name;
    if (typeof name !== 'string' || name === '')
      return error(422, 'metadata.name: Required value', 'Invalid');
    const namespace = address.namespace ?? '';
    if (meta.namespace !== undefined && meta.namespace !== namespace) {
      return error(
        400,
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (
      namespace !== '' &&
      this.#requireNamespaces &&
      !this.#objects.has(keyOf('/api/v1', 'namespaces', '', namespace))
    ) {
      return error(404, `namespaces "${namespace}" not found`, 'NotFound', namespace, 'namespaces');
    }
    const key = keyOf(address.base, address.plural, namespace, name);
    if (this.#objects.has(key)) {
      return error(409, `${address.plural} "${name}" already exists`, 'AlreadyExists', name, address.plural);
    }
    this.#rv++;
    meta.uid = `00000000-0000-4000-8000-${String(++this.#uid).padStart(12, '0')}`;
    meta.resourceVersion = String(this.#rv);
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // Custom resources (and the other groups' kinds) count spec changes; core kinds like Service do not.
    if (address.group !== '') meta.generation = 1;
    else delete meta.generation;
    if (namespace !== '') meta.namespace = namespace;
    else delete meta.namespace;
    delete meta.deletionTimestamp;
    object.metadata = meta;
    if (this.#hasStatusSubresource(address)) delete object.status;
    this.#settle(address, object, undefined);
    const invalid = validate(address, object);
    if (invalid !== undefined) {
      this.#rv--;
      return invalid;
    }
    const stored: Stored = {
      address: { base: address.base, plural: address.plural, namespace, name },
      object,
    };
    this.#objects.set(key, stored);
    this.#record('ADDED', stored);
    return { status: 201, body: copy(object) };
  }

  /** Stores a new version of an object; an identical one is no write (no new resourceVersion, no event). */
  #update(stored: Stored, next: Json): Json {
    const before = stored.object;
    const comparable = (object: Json) => ({
      ...object,
      metadata: { ...metaOf(object), resourceVersion: '' },
    });
    if (isDeepStrictEqual(comparable(before), comparable(next))) return before;
    const meta = { ...metaOf(next) };
    const specChanged = !isDeepStrictEqual(
      { ...before, metadata: undefined, status: undefined },
      { ...next, metadata: undefined, status: undefined },
    );
    const generation = metaOf(before).generation;
    if (specChanged && typeof generation === 'number') meta.generation = generation + 1;
    this.#rv++;
    meta.resourceVersion = String(this.#rv);
    next.metadata = meta;
    const updated: Stored = { address: stored.address, object: next };
    this.#objects.set(this.#sortKey(stored), updated);
    this.#record('MODIFIED', updated, before);
    return next;
  }

  /** The new version an update asks for, keeping what a main-resource write (or a status write) cannot change. */
  #merged(stored: Stored, address: Address, next: Json): Json {
    const current = stored.object;
    const meta = { ...metaOf(next), ...pick(metaOf(current), IMMUTABLE_META) };
    if (address.subresource === 'status') {
      // A status write changes only the status.
      const out: Json = { ...copy(current) };
      if (next.status === undefined) delete out.status;
      else out.status = next.status;
      return out;
    }
    const out: Json = { ...next, metadata: meta };
    if (this.#hasStatusSubresource(address)) {
      // A write of the main resource leaves the status alone (the status subresource owns it).
      if (current.status === undefined) delete out.status;
      else out.status = copy(current.status);
    }
    return out;
  }

  #put(stored: Stored, address: Address, body: unknown): KubeResponse {
    if (!isObject(body)) return error(400, 'the body is not an object');
    const meta = metaOf(body);
    if (meta.name !== undefined && meta.name !== stored.address.name) {
      return error(400, `the name of the object (${String(meta.name)}) does not match the name on the URL`);
    }
    const conflict = this.#staleVersion(stored, meta.resourceVersion);
    if (conflict !== undefined) return conflict;
    const next = this.#merged(stored, address, copy(body));
    this.#settle(address, next, stored.object);
    const invalid = validate(address, next);
    if (invalid !== undefined) return invalid;
    return { status: 200, body: copy(this.#update(stored, next)) };
  }

  #patch(stored: Stored, address: Address, body: unknown): KubeResponse {
    if (!isObject(body)) return error(400, 'a merge patch must be an object');
    const conflict = this.#staleVersion(stored, metaOf(body).resourceVersion);
    if (conflict !== undefined) return conflict;
    const patched = mergePatch(copy(stored.object), body) as Json;
    const next = this.#merged(stored, address, patched);
    this.#settle(address, next, stored.object);
    const invalid = validate(address, next);
    if (invalid !== undefined) return invalid;
    return { status: 200, body: copy(this.#update(stored, next)) };
  }

  #staleVersion(stored: Stored, resourceVersion: unknown): KubeResponse | undefined {
    if (resourceVersion === undefined || resourceVersion === metaOf(stored.object).resourceVersion)
      return undefined;
    return error(
      409,
      `Operation cannot be fulfilled on ${stored.address.plural} "${stored.address.name}": ` +
        'the object has been modified; please apply your changes to the latest version and try again',
      'Conflict',
      stored.address.name,
      stored.address.plural,
    );
  }

  #deleteChecked(stored: Stored, body: unknown): KubeResponse {
    const preconditions = isObject(body) && isObject(body.preconditions) ? body.preconditions : {};
    const meta = metaOf(stored.object);
    if (preconditions.uid !== undefined && preconditions.uid !== meta.uid) {
      return error(
        409,
        `Operation cannot be fulfilled on ${String(stored.object.kind ?? stored.address.plural)} "${stored.address.name}": ` +
          `the UID in the precondition (${String(preconditions.uid)}) does not match the UID in record ` +
          `(${String(meta.uid)}). The object might have been deleted and then recreated`,
        'Conflict',
        stored.address.name,
        String(stored.object.kind ?? stored.address.plural),
      );
    }
    const conflict = this.#staleVersion(stored, preconditions.resourceVersion);
    if (conflict !== undefined) return conflict;
    return { status: 200, body: copy(this.#delete(stored)) };
  }

  /** Deletes an object; a Namespace takes its objects with it (at once, where the apiserver takes a while). */
  #delete(stored: Stored): Json {
    if (stored.address.base === '/api/v1' && stored.address.plural === 'namespaces') {
      for (const other of [...this.#objects.values()]) {
        if (other.address.namespace === stored.address.name) this.#delete(other);
      }
    }
    this.#objects.delete(this.#sortKey(stored));
    this.#rv++;
    const object = copy(stored.object);
    object.metadata = { ...metaOf(object), resourceVersion: String(this.#rv) };
    this.#record('DELETED', { address: stored.address, object });
    return object;
  }

  #record(type: HistoryEntry['type'], stored: Stored, before?: Json): void {
    const entry: HistoryEntry = { rv: this.#rv, type, stored, ...(before === undefined ? {} : { before }) };
    this.#history.push(entry);
    for (const watcher of this.#watchers) this.#deliver(watcher, entry);
  }

  /** Queues the event a watcher sees for a change, if any: a selector watch sees objects enter and leave. */
  #deliver(watcher: Watcher, entry: HistoryEntry): void {
    const { address } = entry.stored;
    const want = watcher.address;
    if (address.base !== want.base || address.plural !== want.plural) return;
    if (want.namespace !== undefined && address.namespace !== want.namespace) return;
    const now = watcher.matches(entry.stored.object);
    const was = entry.before === undefined ? now : watcher.matches(entry.before);
    let type: KubeWatchEvent['type'];
    if (entry.type !== 'MODIFIED') type = entry.type;
    else if (now && was) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (was) type = 'DELETED';
    else return;
    if (entry.type !== 'MODIFIED' && !now) return;
    watcher.queue.push(ok({ type, object: copy(entry.stored.object) }));
    watcher.wake();
  }

  /** The watcher of a request, or the error status the server answers instead. */
  #openWatch(req: KubeWatchRequest): Watcher | KubeResponse {
    const query = req.query ?? {};
    const address = parsePath(req.path);
    if (address === undefined || address.name !== undefined) {
      return error(404, `the server could not find the requested resource (${req.path})`);
    }
    const filter = this.#filter(query);
    if (typeof filter !== 'function') return filter;
    const watcher: Watcher = {
      address,
      matches: filter,
      bookmarks: query.allowWatchBookmarks === 'true',
      queue: [],
      ended: false,
      wake: () => {},
    };
    const from = query.resourceVersion;
    if (from === undefined || from === '' || from === '0') {
      // No resourceVersion: the current state as ADDED events, then what follows.
      for (const stored of this.#select(address)) {
        if (filter(stored.object)) watcher.queue.push(ok({ type: 'ADDED', object: copy(stored.object) }));
      }
      return watcher;
    }
    const rv = Number(from);
    if (!Number.isInteger(rv) || rv < 0) return error(400, `invalid resourceVersion: ${from}`);
    if (rv < this.#compacted) {
      // As the apiserver: the stream opens, and its one event says the version is gone.
      watcher.queue.push(
        ok({
          type: 'ERROR',
          object: statusBody(410, 'Expired', `too old resource version: ${rv} (${this.#compacted})`),
        }),
      );
      return watcher;
    }
    for (const entry of this.#history) if (entry.rv > rv) this.#deliver(watcher, entry);
    return watcher;
  }

  /**
   * What the apiserver does to every write (defaulting, keeping allocated values) and what its controllers do
   * at once: a CRD becomes Established, a Namespace Active, a Service gets its defaults, ClusterIP and NodePorts.
   */
  #settle(address: Address, object: Json, before: Json | undefined): void {
    object.apiVersion = apiVersionOf(address);
    const kind =
      object.kind ?? before?.kind ?? (address.base === '/api/v1' ? CORE_KINDS[address.plural] : undefined);
    if (kind !== undefined) object.kind = kind;
    if (address.plural === 'customresourcedefinitions') {
      object.status = {
        conditions: [
          { type: 'NamesAccepted', status: 'True' },
          { type: 'Established', status: 'True' },
        ],
      };
    } else if (address.base === '/api/v1' && address.plural === 'namespaces') {
      const meta = metaOf(object);
      object.metadata = {
        ...meta,
        labels: { ...(isObject(meta.labels) ? meta.labels : {}), 'kubernetes.io/metadata.name': meta.name },
      };
      object.spec = { finalizers: ['kubernetes'], ...(isObject(object.spec) ? object.spec : {}) };
      object.status ??= { phase: 'Active' };
    } else if (address.base === '/api/v1' && address.plural === 'services') {
      object.spec = this.#serviceDefaults(
        isObject(object.spec) ? object.spec : {},
        isObject(before?.spec) ? before.spec : {},
      );
      object.status ??= { loadBalancer: {} };
    }
  }

  /** A Service spec as the apiserver stores it; allocated values (ClusterIP, NodePorts) survive updates that omit them. */
  #serviceDefaults(spec: Json, before: Json): Json {
    const out: Json = { type: 'ClusterIP', sessionAffinity: 'None', ...spec };
    if (out.type === 'ExternalName') return out;
    const families: unknown[] = Array.isArray(out.ipFamilies)
      ? out.ipFamilies
      : Array.isArray(before.ipFamilies)
        ? before.ipFamilies
        : ['IPv4'];
    out.ipFamilies = families;
    out.ipFamilyPolicy ??= before.ipFamilyPolicy ?? 'SingleStack';
    out.internalTrafficPolicy ??= 'Cluster';
    if (out.clusterIP === undefined || out.clusterIP === '') {
      // ClusterIPs from the harness's ranges (test/k8s), so no test ever sees another address space.
      const n = ++this.#clusterIps;
      out.clusterIP =
        (before.clusterIP as string | undefined) ??
        (families[0] === 'IPv6' ? `2001:db8:ffff::${n.toString(16)}` : `203.0.113.${(n % 126) + 1}`);
    }
    if (!Array.isArray(out.clusterIPs)) out.clusterIPs = [out.clusterIP];
    const external = out.type === 'LoadBalancer' || out.type === 'NodePort';
    if (external) out.externalTrafficPolicy ??= 'Cluster';
    if (out.type === 'LoadBalancer') out.allocateLoadBalancerNodePorts ??= true;
    const nodePorts =
      out.type === 'NodePort' || (out.type === 'LoadBalancer' && out.allocateLoadBalancerNodePorts);
    const ports = Array.isArray(out.ports) ? out.ports.filter(isObject) : [];
    // As the apiserver: a port that omits its NodePort keeps the one of the old port with the same name,
    // unless another port of the new spec already holds it.
    const oldByName = new Map(
      (Array.isArray(before.ports) ? before.ports.filter(isObject) : []).map((p) => [
        String(p.name ?? ''),
        p.nodePort,
      ]),
    );
    const held = new Set(ports.map((p) => p.nodePort).filter((n) => n !== undefined));
    out.ports = ports.map((port) => {
      const filled: Json = { protocol: 'TCP', ...port };
      filled.targetPort ??= filled.port;
      if (nodePorts && filled.nodePort === undefined) {
        const old = oldByName.get(String(filled.name ?? ''));
        const nodePort = old !== undefined && !held.has(old) ? old : 30000 + (this.#nodePorts++ % 2768);
        filled.nodePort = nodePort;
        held.add(nodePort);
      }
      return filled;
    });
    return out;
  }

  #bookmarkObject(address: Address): Json {
    return { apiVersion: apiVersionOf(address), metadata: { resourceVersion: String(this.#rv) } };
  }
}

/** Metadata only the server sets: a write cannot change it. */
const IMMUTABLE_META = [
  'uid',
  'creationTimestamp',
  'resourceVersion',
  'generation',
  'namespace',
  'name',
] as const;

function pick(source: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/** The apiserver's validation, as far as tests rely on it: a Service's ports. */
function validate(address: Address, object: Json): KubeResponse | undefined {
  if (address.base !== '/api/v1' || address.plural !== 'services' || !isObject(object.spec)) return undefined;
  const name = String(metaOf(object).name);
  const ports = Array.isArray(object.spec.ports) ? object.spec.ports.filter(isObject) : [];
  const problems: string[] = [];
  ports.forEach((port, index) => {
    if (ports.length > 1 && (typeof port.name !== 'string' || port.name === '')) {
      problems.push(`spec.ports[${index}].name: Required value`);
    }
    if (typeof port.port !== 'number' || port.port < 1 || port.port > 65535) {
      problems.push(`spec.ports[${index}].port: Invalid value: ${JSON.stringify(port.port)}`);
    }
  });
  if (problems.length === 0) return undefined;
  const message = `Service "${name}" is invalid: ${problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`}`;
  return error(422, message, 'Invalid', name, 'Service');
}

function apiVersionOf(address: Address): string {
  return address.base === '/api/v1' ? 'v1' : address.base.slice('/apis/'.length);
}

function watchPathOf(address: Address): string {
  const scope = address.namespace === undefined ? '' : `/namespaces/${address.namespace}`;
  return `${address.base}${scope}/${address.plural}`;
}

function nameOfBody(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const name = metaOf(body).name;
  return typeof name === 'string' ? name : undefined;
}

function matches(match: FakeMatch, req: FakeRequest): boolean {
  if (match.method !== undefined && match.method !== req.method) return false;
  if (typeof match.path === 'string' && !req.path.startsWith(match.path)) return false;
  if (match.path instanceof RegExp && !match.path.test(req.path)) return false;
  return match.name === undefined || match.name === req.name;
}

function error(code: number, message: string, reason?: string, name?: string, kind?: string): KubeResponse {
  return { status: code, body: statusBody(code, reason ?? REASONS[code] ?? 'Unknown', message, name, kind) };
}
