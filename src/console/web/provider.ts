/**
 * The Provider view: every provider's pools (capacity, allocated, reserved, quarantined, available) as
 * numbers and as a chart over time, refreshed at the console's sampling rate while shown, and each
 * provider's recent IP audit trail with the current holder of each address.
 */
import type { AuditJson, DecisionJson, ProviderJson, ProvidersJson, SessionJson } from '../api-types.js';
import { call } from './api.js';
import { poolChart } from './chart.js';
import { h, say, table } from './dom.js';

/** Who holds each address now, from the audit trail: the lease of its last allocate or bind, unless released since. */
function holders(audit: readonly AuditJson[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const event of audit) {
    if (event.address === undefined) continue;
    if (event.action === 'allocate' || event.action === 'bind' || event.action === 'migrate')
      out.set(event.address, event.lease);
    else if (event.action === 'release') out.delete(event.address);
  }
  return out;
}

/** `dseq/gseq/oseq` of a lease (or order) key `owner/dseq/gseq/oseq[/provider]`, with the owner shortened. */
function leaseCell(key: string): HTMLElement {
  const [owner = '', dseq = '', gseq = '', oseq = ''] = key.split('/');
  const short = owner.length > 20 ? `${owner.slice(0, 10)}…${owner.slice(-6)}` : owner;
  return h(
    'span',
    { title: key },
    `${dseq}/${gseq}/${oseq}`,
    h('span', { class: 'muted small' }, ` ${short}`),
  );
}

async function auditOf(provider: ProviderJson, into: HTMLElement): Promise<void> {
  const [audit, decisions] = await Promise.all([
    call<AuditJson[]>('GET', `/api/providers/${provider.address}/audit`),
    call<DecisionJson[]>('GET', `/api/providers/${provider.address}/decisions`),
  ]);
  if (!audit.ok) {
    say(into, `${audit.error.code}: ${audit.error.error}`, 'error');
    return;
  }
  const decided = !decisions.ok
    ? h('p', { class: 'note error' }, `${decisions.error.code}: ${decisions.error.error}`)
    : decisions.value.length === 0
      ? h(
          'p',
          { class: 'muted', id: 'no-decisions' },
          'No bid decision yet (a provider bids on a ledger’s orders).',
        )
      : table(
          `Bid decisions of ${provider.label}`,
          ['Order', 'Decision', 'Price', 'Why'],
          decisions.value
            .slice(0, 50)
            .map((d) => [
              d.order,
              h('span', { class: `badge ${d.outcome === 'bid' ? 'active' : 'withheld'}` }, d.outcome),
              d.price === undefined ? '' : `${d.price.perBlock} (${d.price.perMonth})`,
              d.code === undefined ? d.message : h('span', {}, h('code', {}, d.code), ` ${d.message}`),
            ]),
        );
  const held = [...holders(audit.value)];
  into.replaceChildren(
    h('h4', {}, 'Bid decisions'),
    decided,
    h('h4', {}, 'Who holds each address'),
    held.length === 0
      ? h('p', { class: 'muted' }, 'No address is held.')
      : table(
          `Holders of ${provider.label}'s addresses`,
          ['IP', 'Held by lease'],
          held.map(([ip, lease]) => [ip, leaseCell(lease)]),
        ),
    h('h4', {}, 'Audit trail'),
    table(
      `Recent audit trail of ${provider.label}`,
      ['Time', 'Action', 'Lease', 'Endpoint', 'IP', 'Detail'],
      [...audit.value]
        .reverse()
        .slice(0, 50)
        .map((e) => [
          new Date(e.at).toLocaleTimeString(),
          e.action,
          leaseCell(e.lease),
          e.endpoint ?? '',
          e.address ?? '',
          e.detail ?? '',
        ]),
    ),
  );
}

function providerCard(provider: ProviderJson, data: ProvidersJson): HTMLElement {
  const audit = h('div', { class: 'audit-box' });
  const details = h(
    'details',
    { ontoggle: () => details.open && void auditOf(provider, audit) },
    h('summary', {}, 'Bid decisions, IP holders and audit trail'),
    audit,
  );
  return h(
    'article',
    { class: 'card', 'data-provider': provider.label, 'aria-labelledby': `provider-${provider.label}` },
    h('h3', { id: `provider-${provider.label}` }, provider.label),
    h('p', { class: 'muted small addr' }, provider.address, ' · ', provider.url),
    provider.error !== undefined
      ? h('p', { class: 'note error' }, `${provider.error.code}: ${provider.error.error}`)
      : provider.pools.length === 0
        ? h('p', { class: 'muted' }, 'Offers no leased IPs (no pool).')
        : table(
            `Pools of ${provider.label}`,
            ['Pool', 'Family', 'Capacity', 'Allocated', 'Reserved', 'Quarantined', 'Available'],
            provider.pools.map((pool) => [
              pool.name,
              pool.family,
              pool.capacity,
              pool.allocated,
              pool.reserved,
              pool.quarantined,
              pool.available,
            ]),
          ),
    provider.pools.length === 0 ? null : poolChart(provider.label, provider.address, data.history),
    provider.kubernetes === undefined
      ? null
      : h(
          'details',
          {},
          h('summary', {}, 'Kubernetes sync'),
          h('pre', {}, JSON.stringify(provider.kubernetes, null, 2)),
        ),
    provider.pools.length === 0 ? null : details,
  );
}

export async function providerView(
  root: HTMLElement,
  session: SessionJson,
  shown: () => boolean,
): Promise<void> {
  const list = h('div', { class: 'cards', id: 'providers' });
  const status = h('div', { role: 'status' });
  const render = async () => {
    const data = await call<ProvidersJson>('GET', '/api/providers');
    if (!data.ok) {
      say(status, `${data.error.code}: ${data.error.error}`, 'error');
      return;
    }
    status.replaceChildren();
    // A card with an open audit panel, or with the keyboard focus in it, keeps its elements across refreshes (only
    // its chart and numbers are redrawn): replaced, an open panel would shut and the focus fall back to the page,
    // so a keyboard user could never press Enter on a summary between two samples.
    const cards = data.value.providers.map((provider) => providerCard(provider, data.value));
    const kept = new Set(
      [...list.querySelectorAll('article[data-provider]')]
        .filter((a) => a.querySelector('details[open]') !== null || a.contains(document.activeElement))
        .map((a) => a.getAttribute('data-provider')),
    );
    if (kept.size === 0) list.replaceChildren(...cards);
    else {
      for (const card of cards) {
        const label = card.getAttribute('data-provider');
        const old = list.querySelector(`article[data-provider="${label}"]`);
        if (old === null) list.append(card);
        else if (!kept.has(label)) old.replaceWith(card);
        else old.querySelector('.chart')?.replaceWith(card.querySelector('.chart') ?? h('span'));
      }
    }
  };
  root.replaceChildren(
    h(
      'section',
      { 'aria-labelledby': 'providers-title' },
      h('h2', { id: 'providers-title' }, 'Providers'),
      h(
        'p',
        { class: 'muted small' },
        `Pools sampled every ${Math.round(session.sampleMs / 100) / 10} s; the chart keeps the last samples in memory.`,
      ),
      status,
      list,
    ),
  );
  await render();
  const tick = async () => {
    if (!shown()) return;
    await render();
    setTimeout(() => void tick(), session.sampleMs);
  };
  setTimeout(() => void tick(), session.sampleMs);
}
