/**
 * MetalLB says why it did not assign an address only in Events on the Service: the newest Warning is the
 * reason a pending port is reported with.
 */
import { ok, type Result } from '../errors/index.js';
import type { KubeClient } from './client.js';
import { eventSchema } from './schemas.js';

/** The newest Warning event of a Service (`namespace/name`), as `reason: message`. */
export async function latestWarning(
  client: KubeClient,
  service: string,
): Promise<Result<string | undefined>> {
  const [namespace, name] = service.split('/') as [string, string];
  const events = await client.list(
    eventSchema,
    `/api/v1/namespaces/${namespace}/events`,
    '',
    `involvedObject.kind=Service,involvedObject.name=${name}`,
  );
  if (!events.ok) return events;
  const warnings = events.value.items
    .filter((event) => event.type === 'Warning')
    .map((event) => ({
      at: event.lastTimestamp ?? event.eventTime ?? '',
      text: `${event.reason ?? ''}: ${event.message ?? ''}`,
    }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return ok(warnings.at(-1)?.text);
}
