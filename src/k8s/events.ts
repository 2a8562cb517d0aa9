/**
 * MetalLB says why it did not assign an address only in Events on the Service: its newest Warning (its
 * notices aside) is the reason a pending port is reported with. The operator and the daemon's backend keep
 * them current by one list + watch of all such Warnings ({@link ServiceWarnings}), so the cost does not grow
 * with the Services waiting or with the status calls made.
 */
import { appError, ok, type Result } from '../errors/index.js';
import type { KubeGateway } from './gateway.js';
import { Informer, type InformerLogger, type InformerStats } from './informer.js';
import { eventSchema } from './schemas.js';

/**
 * MetalLB warns of a deprecated annotation on every Service carrying Go's `metallb.universe.tf/allow-shared-ip`,
 * often after its allocation failure: a notice about the object, never why an address is missing.
 */
const NOT_A_REASON: readonly string[] = ['deprecatedAnnotation'];

/**
 * MetalLB's controller records its Events under this component. Other components warn about Services too (the
 * apiserver's ClusterIP repair loop: `ClusterIPNotAllocated … repairing` on a Service it has just seen made), and
 * none of that says why MetalLB gave no address.
 */
const METALLB_CONTROLLER = 'metallb-controller';

/** The Events worth reading, chosen by the server: MetalLB's Warnings on Services, its notices left out. */
const SERVICE_WARNINGS = [
  'involvedObject.kind=Service',
  'type=Warning',
  `source=${METALLB_CONTROLLER}`,
  ...NOT_A_REASON.map((reason) => `reason!=${reason}`),
].join(',');

/** One Warning on a Service, as much of it as a reason needs. */
interface ServiceWarning {
  /** The Service, `namespace/name`. */
  readonly service: string;
  /** The Service's uid when the Event names it: a Warning about an earlier Service of that name is not news. */
  readonly uid?: string;
  /** RFC 3339: the Event's last occurrence. */
  readonly at: string;
  /** `reason: message`. */
  readonly text: string;
}

function parseWarning(raw: unknown): Result<ServiceWarning> {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: appError('K8S_MALFORMED', 'Event: does not parse') };
  const event = parsed.data;
  const namespace = event.involvedObject?.namespace ?? event.metadata.namespace;
  const name = event.involvedObject?.name;
  if (namespace === undefined || name === undefined) {
    return { ok: false, error: appError('K8S_MALFORMED', `Event ${event.metadata.name}: names no Service`) };
  }
  const uid = event.involvedObject?.uid;
  return ok({
    service: `${namespace}/${name}`,
    ...(uid === undefined || uid === '' ? {} : { uid }),
    at: event.lastTimestamp ?? event.eventTime ?? '',
    text: `${event.reason ?? ''}: ${event.message ?? ''}`,
  });
}

function newest(warnings: Iterable<ServiceWarning>): ServiceWarning | undefined {
  let found: ServiceWarning | undefined;
  for (const warning of warnings) if (found === undefined || warning.at >= found.at) found = warning;
  return found;
}

export interface ServiceWarningsOptions {
  readonly gateway: KubeGateway;
  readonly logger?: InformerLogger;
  /** The informer's reconnect backoff (see Informer). */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
}

/**
 * Every Service's Warnings, cluster-wide, from one list + watch: what is held is what the apiserver still
 * keeps of them (Events expire, an hour by default), indexed by Service so a lookup reads only its own.
 */
export class ServiceWarnings {
  readonly #informer: Informer<ServiceWarning>;
  /** Service → its Warnings by Event key. */
  readonly #byService = new Map<string, Map<string, ServiceWarning>>();

  constructor(options: ServiceWarningsOptions) {
    this.#informer = new Informer({
      gateway: options.gateway,
      name: 'events',
      path: '/api/v1/events',
      fieldSelector: SERVICE_WARNINGS,
      parse: parseWarning,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
    this.#informer.subscribe((changes) => {
      for (const change of changes) {
        if (change.previous !== undefined) this.#forget(change.previous.service, change.key);
        if (change.object !== undefined) this.#remember(change.object, change.key);
      }
    });
  }

  start(): void {
    this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  stats(): InformerStats {
    return this.#informer.stats();
  }

  /**
   * The newest Warning on the Service (`namespace/name`) as `reason: message`; given the Service's uid, only
   * from Events about that very Service (or naming none).
   */
  latest(service: string, uid?: string): string | undefined {
    const warnings = this.#byService.get(service)?.values() ?? [];
    const own = [...warnings].filter((warning) => uid === undefined || (warning.uid ?? uid) === uid);
    return newest(own)?.text;
  }

  #remember(warning: ServiceWarning, event: string): void {
    let warnings = this.#byService.get(warning.service);
    if (warnings === undefined) {
      warnings = new Map();
      this.#byService.set(warning.service, warnings);
    }
    warnings.set(event, warning);
  }

  #forget(service: string, event: string): void {
    const warnings = this.#byService.get(service);
    if (warnings === undefined) return;
    warnings.delete(event);
    if (warnings.size === 0) this.#byService.delete(service);
  }
}
