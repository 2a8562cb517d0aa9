/**
 * The console page: its views behind hash links, each built when shown. A tenant's console has all three; the
 * provider daemon's has the provider view alone, and the links to the others are removed.
 */
import type { SessionJson, ViewName } from '../api-types.js';
import { call } from './api.js';
import { deployView } from './deploy.js';
import { h, say } from './dom.js';
import { leasesView } from './leases.js';
import { providerView } from './provider.js';

async function start(): Promise<void> {
  const main = document.getElementById('main') as HTMLElement;
  const who = document.getElementById('who') as HTMLElement;
  const session = await call<SessionJson>('GET', '/api/session');
  if (!session.ok) {
    say(main, `${session.error.code}: ${session.error.error}`, 'error');
    return;
  }
  const { views, tenant, provider } = session.value;
  if (tenant !== undefined) who.replaceChildren(`tenant “${tenant.key}” `, h('code', {}, tenant.address));
  else who.replaceChildren("provider operator's console ", h('code', {}, provider ?? ''));
  for (const link of document.querySelectorAll('[data-view]')) {
    if (!(views as readonly string[]).includes(link.getAttribute('data-view') ?? ''))
      link.closest('li')?.remove();
  }
  let current: ViewName | undefined;
  const show = async () => {
    const wanted = location.hash.slice(1);
    const view = views.find((name) => name === wanted) ?? views[0] ?? 'provider';
    if (view === current) return;
    current = view;
    for (const link of document.querySelectorAll('[data-view]')) {
      if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const box = h('div', { 'data-view-root': view });
    main.replaceChildren(box);
    document.title = `${view[0]?.toUpperCase()}${view.slice(1)} · akash-ip console`;
    if (view === 'deploy') await deployView(box);
    else if (view === 'leases') await leasesView(box);
    else await providerView(box, session.value, () => current === 'provider');
    main.setAttribute('data-ready', view);
  };
  window.addEventListener('hashchange', () => void show());
  await show();
}

void start();
