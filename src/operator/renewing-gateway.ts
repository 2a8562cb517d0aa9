/**
 * In a pod the kubelet rewrites the service-account token before it expires. This gateway re-reads the
 * connection (token and CA) at most once a minute and, when it changed, sends new requests and watches
 * through a connection that presents the new one. The connection it replaced is closed at the next change,
 * by when its watches have long been re-opened on the new one (watches end every few minutes).
 */
import type { AppError, Result } from '../errors/index.js';
import type { KubeConnection, KubeGateway, KubeRequest, KubeWatchRequest } from '../k8s/index.js';

type Connection = Omit<KubeConnection, 'timeoutMs'>;

export interface RenewingGatewayOptions {
  /** Reads the connection afresh (the token and CA files). */
  readonly read: () => Promise<Result<Connection>>;
  /** Opens a gateway on a connection. */
  readonly open: (connection: Connection) => KubeGateway;
  /** The connection read at start. */
  readonly initial: Connection;
  /** Default 60 000. */
  readonly everyMs?: number;
  readonly now?: () => number;
}

export class RenewingGateway implements KubeGateway {
  readonly #options: RenewingGatewayOptions;
  readonly #now: () => number;
  #current: KubeGateway;
  #connection: Connection;
  #retired: KubeGateway | undefined;
  #checkedAt: number;
  #checking: Promise<void> | undefined;

  constructor(options: RenewingGatewayOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#connection = options.initial;
    this.#current = options.open(options.initial);
    this.#checkedAt = this.#now();
  }

  async request(req: KubeRequest) {
    await this.#renew();
    return this.#current.request(req);
  }

  async *watch(req: KubeWatchRequest, signal: AbortSignal) {
    await this.#renew();
    yield* this.#current.watch(req, signal);
  }

  close(): void {
    this.#retired?.close();
    this.#current.close();
  }

  #renew(): Promise<void> {
    if (this.#now() - this.#checkedAt < (this.#options.everyMs ?? 60_000)) return Promise.resolve();
    this.#checking ??= (async () => {
      const read: Result<Connection, AppError> = await this.#options.read();
      this.#checkedAt = this.#now();
      this.#checking = undefined;
      // An unreadable file keeps the connection that works; the next check tries again.
      if (!read.ok) return;
      const next = read.value;
      if (next.token === this.#connection.token && next.ca === this.#connection.ca) return;
      this.#retired?.close();
      this.#retired = this.#current;
      this.#connection = next;
      this.#current = this.#options.open(next);
    })();
    return this.#checking;
  }
}
