/**
 * List then watch one collection, as client-go's reflector does: a paged list gives a cache and a
 * resourceVersion, a watch from that version keeps the cache current, bookmarks move the version on, an
 * expired version (410 Gone) means a fresh list whose difference with the cache is delivered as one batch,
 * and any failure means a backoff and a new watch. The loop only ends on {@link Informer.stop}: a cluster
 * that is away for a while is waited for, never given up on.
 */
import { z } from 'zod';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import type { KubeGateway, KubeWatchEvent } from './gateway.js';
import { listSchema, statusSchema } from './schemas.js';

export interface InformerOptions<T> {
  readonly gateway: KubeGateway;
  /** Collection path (namespaced or cluster-wide). */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Parses one raw object; a failure keeps the object in `malformed()` with the reason (never dropped silently). */
  readonly parse: (raw: unknown) => Result<T, AppError>;
  /** List page size; default 500. */
  readonly pageSize?: number;
  /** Reconnect backoff after a failure: doubles from min to max with jitter; defaults 250 ms / 30 s. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** Server-side watch timeout; default 300 s (the watch is then re-opened from the last resourceVersion). */
  readonly watchTimeoutSeconds?: number;
  /** For logs and stats. */
  readonly name: string;
  /** Where failures, refused objects and throwing handlers are reported (the daemon's `Logger` fits). */
  readonly logger?: InformerLogger;
  /** Waits out a backoff; resolves early when `signal` aborts. Default: a timer. Tests inject their own. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Milliseconds now; default `Date.now`. */
  readonly now?: () => number;
  /** In [0, 1): the backoff's jitter; default `Math.random`. */
  readonly random?: () => number;
  /**
   * For a collection its user can do without: a first list the server forbids (HTTP 403, e.g. RBAC from an older
   * install) counts as synced and empty, so whoever waits on `synced()` goes on; `stats().forbidden` says so, and
   * the list is retried with backoff until it is allowed. Default false: a forbidden list keeps it unsynced.
   */
  readonly optional?: boolean;
}

export interface InformerLogger {
  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    msg: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void;
}

export interface InformerItem<T> {
  /** `namespace/name`, or `name` for a cluster-scoped object. */
  readonly key: string;
  readonly object: T;
  readonly raw: unknown;
}

export interface InformerChange<T> {
  readonly type: 'added' | 'modified' | 'deleted';
  readonly key: string;
  /** The new object (undefined on delete, or when it is malformed: see `problem`). */
  readonly object?: T;
  /** The object as it was before this change, when the cache had it. */
  readonly previous?: T;
  /** Set when the new version of the object does not parse. */
  readonly problem?: AppError;
}

export interface InformerStats {
  readonly synced: boolean;
  readonly resourceVersion?: string;
  /** Complete lists. */
  readonly lists: number;
  /** Watch streams opened. */
  readonly watches: number;
  /** Lists made because the watch's resourceVersion had expired (410 Gone). */
  readonly relists: number;
  /** New watches (or lists) after a failure. */
  readonly reconnects: number;
  /** Watch events received, bookmarks included. */
  readonly events: number;
  readonly lastError?: string;
  readonly lastErrorAt?: number;
  /** An `optional` informer whose lists the server forbids: synced as empty until a list is allowed. */
  readonly forbidden?: boolean;
}

const DEFAULT_PAGE = 500;
const DEFAULT_BACKOFF = { minMs: 250, maxMs: 30_000 };
const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
/** A watch closed this soon with no event is a server refusing quietly: a failure, not a timeout (as client-go). */
const SHORT_WATCH_MS = 1000;
/** A list whose continuation expires is restarted this many times before it counts as a failure. */
const LIST_RESTARTS = 3;

const metaSchema = z.object({
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
});

const bookmarkSchema = z.object({ metadata: z.object({ resourceVersion: z.string().min(1) }) });

type WatchOutcome =
  | { readonly kind: 'closed' | 'expired' | 'stopped'; readonly events: number }
  | { readonly kind: 'failed'; readonly events: number; readonly error: AppError };

interface Entry<T> {
  readonly raw: unknown;
  readonly resourceVersion: string | undefined;
  readonly parsed: Result<T, AppError>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** The cache key of an object: `namespace/name`, or `name` when cluster-scoped. */
function keyOf(meta: { readonly name: string; readonly namespace?: string | undefined }): string {
  return meta.namespace === undefined || meta.namespace === '' ? meta.name : `${meta.namespace}/${meta.name}`;
}

export class Informer<T> {
  readonly #options: InformerOptions<T>;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #handlers = new Set<(changes: readonly InformerChange<T>[]) => void>();
  /** Every object of the collection as last seen, parsed or not, by key. */
  #entries = new Map<string, Entry<T>>();
  readonly #items = new Map<string, InformerItem<T>>();
  readonly #malformed = new Map<string, { readonly raw: unknown; readonly problem: AppError }>();
  #resourceVersion: string | undefined;
  #stats: {
    -readonly [K in keyof InformerStats]: InformerStats[K];
  } = { synced: false, lists: 0, watches: 0, relists: 0, reconnects: 0, events: 0 };
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => {};

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** Starts listing and watching in the background; idempotent. */
  start(): void {
    if (this.#running !== undefined) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#run(abort.signal);
  }

  /** Stops the watch and any pending retry; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
    this.#abort = undefined;
  }

  /** The name it was given, for logs and stats. */
  get name(): string {
    return this.#options.name;
  }

  /** Resolves after the first complete list has been delivered to subscribers. */
  synced(): Promise<void> {
    return this.#synced;
  }

  isSynced(): boolean {
    return this.#stats.synced;
  }

  /** The cache: every well-formed object by key. */
  items(): ReadonlyMap<string, InformerItem<T>> {
    return this.#items;
  }

  /** Objects whose current version does not parse, with why. */
  malformed(): ReadonlyMap<string, { readonly raw: unknown; readonly problem: AppError }> {
    return this.#malformed;
  }

  /**
   * Changes arrive in batches: the first list is one batch of `added`; a re-list delivers the diff against the
   * cache as one batch (adds, modifications, deletions of objects that vanished while disconnected); each watch
   * event is its own batch. Unchanged objects (same resourceVersion) are not re-delivered. Returns an
   * unsubscribe function. Handlers are called synchronously, in order; a throwing handler is logged and does
   * not stop the informer.
   */
  subscribe(handler: (changes: readonly InformerChange<T>[]) => void): () => void {
    // A wrapper per subscription, so one handler subscribed twice is called twice and unsubscribed once each.
    const entry = (changes: readonly InformerChange<T>[]) => handler(changes);
    this.#handlers.add(entry);
    return () => this.#handlers.delete(entry);
  }

  stats(): InformerStats {
    return {
      ...this.#stats,
      ...(this.#resourceVersion === undefined ? {} : { resourceVersion: this.#resourceVersion }),
    };
  }

  async #run(signal: AbortSignal): Promise<void> {
    /** Failures since the last watch that worked (delivered an event, or ran its course): the backoff's exponent. */
    let failures = 0;
    while (!signal.aborted) {
      const listing = this.#resourceVersion === undefined;
      if (listing) {
        const listed = await this.#list();
        if (signal.aborted) return;
        if (!listed.ok) {
          if (this.#options.optional === true && listed.error.details?.status === 403)
            this.#syncedForbidden();
          this.#failed(listed.error, 'list');
          this.#stats.reconnects++;
          await this.#backoff(failures++, signal);
          continue;
        }
      }
      const opened = this.#now();
      const outcome = await this.#watch(signal);
      if (outcome.kind === 'stopped' || signal.aborted) return;
      if (outcome.events > 0) failures = 0;
      if (outcome.kind === 'expired') {
        // The version is gone from the server's history: only a new list can tell what changed since.
        this.#log('info', 'watch expired (410 Gone); listing again', {});
        this.#resourceVersion = undefined;
        this.#stats.relists++;
        // A version that expires as soon as it was listed would have the list and the watch spin: wait first.
        if (listing && outcome.events === 0) await this.#backoff(failures++, signal);
        continue;
      }
      if (outcome.kind === 'closed' && (outcome.events > 0 || this.#now() - opened >= SHORT_WATCH_MS)) {
        failures = 0;
        continue;
      }
      const error =
        outcome.kind === 'failed'
          ? outcome.error
          : appError('K8S_UNAVAILABLE', `${this.#options.path}: the watch closed at once without an event`);
      this.#failed(error, 'watch');
      this.#stats.reconnects++;
      await this.#backoff(failures++, signal);
    }
  }

  #syncedForbidden(): void {
    this.#stats.forbidden = true;
    if (this.#stats.synced) return;
    this.#stats.synced = true;
    this.#markSynced();
  }

  async #backoff(attempt: number, signal: AbortSignal): Promise<void> {
    const { minMs, maxMs } = this.#options.backoff ?? DEFAULT_BACKOFF;
    const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
    // Jitter in [ceiling/2, ceiling): many informers failing together do not come back together.
    const delay = Math.max(minMs, Math.round(ceiling * (0.5 + this.#random() / 2)));
    await this.#sleep(Math.min(delay, maxMs), signal);
  }

  #failed(error: AppError, during: 'list' | 'watch'): void {
    this.#stats.lastError = error.message;
    this.#stats.lastErrorAt = this.#now();
    this.#log('warn', `${during} failed; retrying after a backoff`, {
      code: error.code,
      error: error.message,
    });
  }

  #log(level: 'info' | 'warn' | 'error', msg: string, fields: Readonly<Record<string, unknown>>): void {
    this.#options.logger?.log(level, `informer ${this.#options.name}: ${msg}`, {
      informer: this.#options.name,
      path: this.#options.path,
      ...fields,
    });
  }

  #selectors(): Record<string, string> {
    const query: Record<string, string> = {};
    if (this.#options.labelSelector !== undefined) query.labelSelector = this.#options.labelSelector;
    if (this.#options.fieldSelector !== undefined) query.fieldSelector = this.#options.fieldSelector;
    return query;
  }

  /** Lists every page, then delivers the difference with the cache as one batch. */
  async #list(): Promise<Result<void>> {
    const { path } = this.#options;
    let restarts = 0;
    for (;;) {
      const listed = await this.#listPages();
      if (listed.ok) {
        this.#replace(listed.value.items, listed.value.resourceVersion);
        return ok(undefined);
      }
      if (!('expired' in listed.error) || restarts++ >= LIST_RESTARTS) {
        return fail('expired' in listed.error ? listed.error.error : listed.error);
      }
      this.#log('info', 'list continuation expired (410 Gone); listing from the start', { path });
    }
  }

  async #listPages(): Promise<
    Result<
      { items: unknown[]; resourceVersion: string },
      AppError | { readonly expired: true; readonly error: AppError }
    >
  > {
    const { gateway, path } = this.#options;
    const items: unknown[] = [];
    let next: string | undefined;
    let resourceVersion = '';
    do {
      const query: Record<string, string> = {
        ...this.#selectors(),
        limit: String(this.#options.pageSize ?? DEFAULT_PAGE),
      };
      if (next !== undefined) query.continue = next;
      const answer = await gateway.request({ method: 'GET', path, query });
      if (!answer.ok) return answer;
      const { status, body } = answer.value;
      if (status !== 200) {
        const parsed = statusSchema.safeParse(body);
        const error = appError(
          'K8S_REJECTED',
          `kube-apiserver refused GET ${path}: HTTP ${status} ${parsed.success ? (parsed.data.message ?? '') : ''}`,
          { status, reason: parsed.success ? (parsed.data.reason ?? '') : '' },
        );
        return fail(status === 410 && next !== undefined ? { expired: true, error } : error);
      }
      const page = listSchema.safeParse(body);
      if (!page.success) return fail(appError('K8S_MALFORMED', `${path}: the list answer does not parse`));
      items.push(...page.data.items);
      // The first page's version is the list's: later pages are read at the same snapshot.
      if (next === undefined) resourceVersion = page.data.metadata?.resourceVersion ?? '';
      next = page.data.metadata?.continue || undefined;
    } while (next !== undefined);
    if (resourceVersion === '') {
      return fail(appError('K8S_MALFORMED', `${path}: the list answer has no resourceVersion to watch from`));
    }
    return ok({ items, resourceVersion });
  }

  /** Replaces the cache with a full list and delivers what differs as one batch. */
  #replace(raws: readonly unknown[], resourceVersion: string): void {
    const before = this.#entries;
    const after = new Map<string, Entry<T>>();
    const changes: InformerChange<T>[] = [];
    for (const raw of raws) {
      const meta = metaSchema.safeParse(raw);
      if (!meta.success) {
        this.#log('warn', 'an object without a name in the list; ignored', {});
        continue;
      }
      const key = keyOf(meta.data.metadata);
      const old = before.get(key);
      const version = meta.data.metadata.resourceVersion;
      if (old !== undefined && version !== undefined && old.resourceVersion === version) {
        after.set(key, old);
        continue;
      }
      const entry = this.#entry(key, raw, version);
      after.set(key, entry);
      changes.push(change(old === undefined ? 'added' : 'modified', key, entry, old));
    }
    for (const [key, old] of before) {
      if (!after.has(key)) changes.push(change('deleted', key, undefined, old));
    }
    this.#entries = after;
    this.#items.clear();
    this.#malformed.clear();
    for (const [key, entry] of after) this.#index(key, entry);
    this.#resourceVersion = resourceVersion;
    this.#stats.lists++;
    delete this.#stats.forbidden;
    if (changes.length > 0) this.#deliver(changes);
    if (!this.#stats.synced) {
      this.#stats.synced = true;
      this.#markSynced();
    }
  }

  /** Parses an object's new version; a refusal is logged here, once per version. */
  #entry(key: string, raw: unknown, resourceVersion: string | undefined): Entry<T> {
    const parsed = this.#options.parse(raw);
    if (!parsed.ok) {
      this.#log('warn', 'an object does not parse; kept aside as malformed', {
        key,
        code: parsed.error.code,
        error: parsed.error.message,
      });
    }
    return { raw, resourceVersion, parsed };
  }

  #index(key: string, entry: Entry<T>): void {
    if (entry.parsed.ok) this.#items.set(key, { key, object: entry.parsed.value, raw: entry.raw });
    else this.#malformed.set(key, { raw: entry.raw, problem: entry.parsed.error });
  }

  #deliver(changes: readonly InformerChange<T>[]): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler(changes);
      } catch (error) {
        this.#log('error', 'a subscriber threw; the informer goes on', { error: String(error) });
      }
    }
  }

  async #watch(signal: AbortSignal): Promise<WatchOutcome> {
    const { gateway, path } = this.#options;
    this.#stats.watches++;
    let events = 0;
    const query: Record<string, string> = {
      ...this.#selectors(),
      resourceVersion: this.#resourceVersion ?? '',
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.#options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS),
    };
    for await (const item of gateway.watch({ path, query }, signal)) {
      if (!item.ok) {
        // A server that answers the watch itself with 410 (instead of an ERROR event) means the same.
        const expired = item.error.details?.status === 410;
        return expired ? { kind: 'expired', events } : { kind: 'failed', events, error: item.error };
      }
      events++;
      this.#stats.events++;
      const outcome = this.#apply(item.value);
      if (outcome !== undefined) return { ...outcome, events };
    }
    return { kind: signal.aborted ? 'stopped' : 'closed', events };
  }

  /** Applies one watch event to the cache; an outcome when the event ends the watch. */
  #apply(
    event: KubeWatchEvent,
  ): { readonly kind: 'expired' } | { readonly kind: 'failed'; readonly error: AppError } | undefined {
    if (event.type === 'ERROR') {
      const status = statusSchema.safeParse(event.object);
      if (status.success && status.data.code === 410) return { kind: 'expired' };
      const message = status.success ? `HTTP ${status.data.code ?? '?'} ${status.data.message ?? ''}` : '';
      return {
        kind: 'failed',
        error: appError('K8S_REJECTED', `watch ${this.#options.path}: error event ${message}`.trim(), {
          ...(status.success && status.data.code !== undefined ? { status: status.data.code } : {}),
        }),
      };
    }
    if (event.type === 'BOOKMARK') {
      const bookmark = bookmarkSchema.safeParse(event.object);
      if (bookmark.success) this.#resourceVersion = bookmark.data.metadata.resourceVersion;
      return undefined;
    }
    const meta = metaSchema.safeParse(event.object);
    if (!meta.success) {
      this.#log('warn', `a ${event.type} event without an object name; ignored`, {});
      return undefined;
    }
    const key = keyOf(meta.data.metadata);
    const version = meta.data.metadata.resourceVersion;
    const old = this.#entries.get(key);
    if (version !== undefined) this.#resourceVersion = version;
    if (event.type === 'DELETED') {
      if (old === undefined) return undefined;
      this.#entries.delete(key);
      this.#items.delete(key);
      this.#malformed.delete(key);
      this.#deliver([change('deleted', key, undefined, old)]);
      return undefined;
    }
    if (old !== undefined && version !== undefined && old.resourceVersion === version) return undefined;
    const entry = this.#entry(key, event.object, version);
    this.#entries.set(key, entry);
    this.#items.delete(key);
    this.#malformed.delete(key);
    this.#index(key, entry);
    this.#deliver([change(old === undefined ? 'added' : 'modified', key, entry, old)]);
    return undefined;
  }
}

function change<T>(
  type: InformerChange<T>['type'],
  key: string,
  entry: Entry<T> | undefined,
  old: Entry<T> | undefined,
): InformerChange<T> {
  return {
    type,
    key,
    ...(entry?.parsed.ok === true ? { object: entry.parsed.value } : {}),
    ...(entry !== undefined && !entry.parsed.ok ? { problem: entry.parsed.error } : {}),
    ...(old?.parsed.ok === true ? { previous: old.parsed.value } : {}),
  };
}
