/** The console page: three views behind hash links, each built when shown. */
import type { SessionJson } from '../api-types.js';
import { call } from './api.js';
import { deployView } from './deploy.js';
import { h, say } from './dom.js';
import { leasesView } from './leases.js';
import { providerView } from './provider.js';

const VIEWS = ['deploy', 'leases', 'provider'] as const;
type View = (typeof VIEWS)[number];

async function start(): Promise<void> {
  const main = document.getElementById('main') as HTMLElement;
  const who = document.getElementById('who') as HTMLElement;
  const session = await call<SessionJson>('GET', '/api/session');
  if (!session.ok) {
    say(main, `${session.error.code}: ${session.error.error}`, 'error');
    return;
  }
  who.replaceChildren(`tenant “${session.value.key}” `, h('code', {}, session.value.tenant));
  let current: View | undefined;
  const show = async () => {
    const wanted = location.hash.slice(1);
    const view: View = (VIEWS as readonly string[]).includes(wanted) ? (wanted as View) : 'deploy';
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
