/**
 * The Leases view: each deployment with its leases, each IP endpoint's state (active, pending, or withheld
 * with its reason and the button that fixes it), IP, ports, the workload's variables and the audit trail;
 * migrate endpoints with a dry-run preview first, and close with a confirmation naming the IPs released.
 */
import type { CloseJson, DeploymentJson, EndpointJson, LeaseJson, MigrateJson } from '../api-types.js';
import { call } from './api.js';
import { type Child, confirmDialog, h, say, table } from './dom.js';

function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge ${state}` }, state);
}

function endpointNote(endpoint: EndpointJson, migrate: () => void): Child {
  if (endpoint.state !== 'withheld') return endpoint.reason ?? '';
  return h(
    'div',
    {},
    h('p', { class: 'reason' }, endpoint.reason ?? 'withheld'),
    endpoint.heldBy === undefined
      ? null
      : h(
          'button',
          { type: 'button', class: 'primary small', onclick: migrate, 'data-fix': endpoint.name },
          `Move “${endpoint.name}” here from deployment ${endpoint.heldBy}…`,
        ),
    endpoint.fix === undefined
      ? null
      : h('p', { class: 'muted small' }, 'or run: ', h('code', {}, endpoint.fix)),
  );
}

function auditTable(lease: LeaseJson): HTMLElement {
  return h(
    'details',
    { class: 'audit' },
    h('summary', {}, `Audit trail (${lease.audit.length})`),
    table(
      `Audit trail of lease ${lease.id}`,
      ['Time', 'Action', 'Endpoint', 'IP', 'Port', 'Detail'],
      [...lease.audit]
        .reverse()
        .map((event) => [
          new Date(event.at).toLocaleTimeString(),
          event.action,
          event.endpoint ?? '',
          event.address ?? '',
          event.port === undefined ? '' : `${event.port}/${event.protocol ?? ''}`,
          event.detail ?? '',
        ]),
    ),
  );
}

function envList(lease: LeaseJson): Child {
  const services = Object.entries(lease.env).filter(([, vars]) => Object.keys(vars).length > 0);
  if (services.length === 0) return null;
  return h(
    'div',
    { class: 'env' },
    h('h4', {}, 'Workload environment'),
    ...services.map(([service, vars]) =>
      h(
        'dl',
        { 'aria-label': `variables of ${service}` },
        h('dt', {}, service),
        ...Object.entries(vars).map(([name, value]) => h('dd', {}, h('code', {}, `${name}=${value}`))),
      ),
    ),
  );
}

/** What a migration moved or would move. */
function migrationTable(result: MigrateJson): HTMLElement {
  if (result.moves.length === 0) {
    return h(
      'p',
      { class: 'note' },
      result.unchanged.length > 0 ? `already here: ${result.unchanged.join(', ')}` : 'nothing to move',
    );
  }
  return table(
    result.dryRun ? 'What would move' : 'What moved',
    ['Endpoint', 'From lease', 'To lease', 'IP'],
    result.moves.map((move) => [move.endpoint, move.from, move.to, move.addresses.join(', ')]),
  );
}

async function migrateFlow(
  deployment: DeploymentJson,
  endpoint: string,
  source: string | undefined,
  region: HTMLElement,
  changed: (message: string) => void,
): Promise<void> {
  const request = {
    dseq: deployment.dseq,
    endpoints: [endpoint],
    ...(source === undefined ? {} : { sourceDseq: source }),
  };
  const preview = await call<MigrateJson>('POST', '/api/migrate', { ...request, dryRun: true });
  if (!preview.ok) {
    say(region, `${preview.error.code}: ${preview.error.error}`, 'error');
    return;
  }
  const go = await confirmDialog({
    title: `Move “${endpoint}” to deployment ${deployment.dseq}?`,
    body: [h('p', {}, 'Dry run: nothing has moved yet.'), migrationTable(preview.value)],
    confirm: 'Move it',
  });
  if (!go) {
    say(region, 'migration cancelled: nothing moved');
    return;
  }
  const moved = await call<MigrateJson>('POST', '/api/migrate', { ...request, dryRun: false });
  if (!moved.ok) say(region, `${moved.error.code}: ${moved.error.error}`, 'error');
  else {
    const message = `moved ${moved.value.transferred.join(', ') || 'nothing'} to deployment ${deployment.dseq}`;
    say(region, message, 'ok');
    changed(message);
  }
}

async function closeFlow(
  deployment: DeploymentJson,
  region: HTMLElement,
  changed: (message: string) => void,
): Promise<void> {
  const held = deployment.leases.flatMap((lease) =>
    lease.endpoints
      .filter((e) => e.state === 'active')
      .flatMap((e) => e.addresses.map((ip) => `${ip} (${e.name})`)),
  );
  const go = await confirmDialog({
    title: `Close deployment ${deployment.dseq}?`,
    body: [
      h('p', {}, 'Its leases end and the deposit left is refunded.'),
      held.length === 0
        ? h('p', {}, 'It holds no IP: no address is released.')
        : h(
            'div',
            {},
            h('p', {}, 'These IPs are released (quarantined, then leased to others):'),
            h('ul', { id: 'released' }, ...held.map((ip) => h('li', {}, ip))),
          ),
    ],
    confirm: 'Close it',
    danger: true,
  });
  if (!go) return;
  const closed = await call<CloseJson>('POST', '/api/close', { dseq: deployment.dseq });
  if (!closed.ok) say(region, `${closed.error.code}: ${closed.error.error}`, 'error');
  else {
    const message = `deployment ${closed.value.dseq} closed${closed.value.released.length === 0 ? '; no IP released' : `; released ${closed.value.released.join(', ')}`}`;
    say(region, message, 'ok');
    changed(message);
  }
}

/** One deployment: its leases, endpoints and the actions on it. */
export function deploymentCard(deployment: DeploymentJson, changed: (message: string) => void): HTMLElement {
  const region = h('div', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
  const active = deployment.state === 'active';
  const leases = deployment.leases.map((lease) =>
    h(
      'div',
      { class: 'lease' },
      h(
        'p',
        { class: 'lease-head' },
        h('strong', {}, `lease ${lease.id}`),
        ' ',
        stateBadge(lease.state),
        ` on ${lease.label} · ${lease.price.perBlock} (${lease.price.perMonth})`,
      ),
      lease.error === undefined
        ? null
        : h('p', { class: 'note error' }, `${lease.error.code}: ${lease.error.error}`),
      lease.endpoints.length === 0
        ? null
        : table(
            `IP endpoints of lease ${lease.id}`,
            ['Endpoint', 'State', 'IP', 'Ports', 'Note'],
            lease.endpoints.map((endpoint) => [
              endpoint.name,
              stateBadge(endpoint.state),
              endpoint.addresses.length === 0
                ? '—'
                : h('span', { class: 'ip' }, endpoint.addresses.join(', ')),
              endpoint.ports.join(', '),
              endpointNote(
                endpoint,
                () => void migrateFlow(deployment, endpoint.name, endpoint.heldBy, region, changed),
              ),
            ]),
          ),
      envList(lease),
      lease.audit.length === 0 ? null : auditTable(lease),
    ),
  );
  return h(
    'article',
    { class: 'card', 'data-dseq': deployment.dseq, 'aria-labelledby': `deployment-${deployment.dseq}` },
    h(
      'h3',
      { id: `deployment-${deployment.dseq}` },
      `Deployment ${deployment.dseq} `,
      stateBadge(deployment.state),
    ),
    h('p', { class: 'muted small' }, `version ${deployment.version.slice(0, 12)}…`),
    ...leases,
    active
      ? h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-close': deployment.dseq,
              onclick: () => void closeFlow(deployment, region, changed),
            },
            `Close deployment ${deployment.dseq}…`,
          ),
        )
      : null,
    region,
  );
}

export async function leasesView(root: HTMLElement): Promise<void> {
  const list = h('div', { class: 'cards', id: 'deployments', 'aria-live': 'polite' });
  const status = h('div', { role: 'status', id: 'leases-status' });
  /** Reloads the deployments; `message` (what an action just did) stays shown above them. */
  const refresh = async (message?: string) => {
    const deployments = await call<DeploymentJson[]>('GET', '/api/deployments');
    if (!deployments.ok) {
      say(status, `${deployments.error.code}: ${deployments.error.error}`, 'error');
      return;
    }
    if (message === undefined) status.replaceChildren();
    else say(status, message, 'ok');
    list.replaceChildren(
      ...(deployments.value.length === 0
        ? [h('p', { class: 'muted' }, 'No deployments yet: deploy one from the Deploy view.')]
        : deployments.value.map((deployment) =>
            deploymentCard(deployment, (message) => void refresh(message)),
          )),
    );
    list.setAttribute('data-loaded', String(Date.now()));
  };
  root.replaceChildren(
    h(
      'section',
      { 'aria-labelledby': 'leases-title' },
      h(
        'div',
        { class: 'title-row' },
        h('h2', { id: 'leases-title' }, 'Your deployments'),
        h(
          'button',
          { type: 'button', class: 'secondary', id: 'refresh-leases', onclick: () => void refresh() },
          'Refresh',
        ),
      ),
      status,
      list,
    ),
  );
  await refresh();
}
