/**
 * The Deploy view: the SDL editor with its examples and live diagnostics, then deploy (bids as they
 * arrive, who will not bid and why, pick one or the cheapest, the lease and its IPs) or update an existing
 * deployment. A broken SDL is refused here, before anything is sent.
 */
import { formatDiagnostic } from '../../sdl/index.js';
import type {
  BidJson,
  DeployEventJson,
  DeploymentJson,
  ErrorJson,
  ExampleJson,
  ProvidersJson,
  ReleaseJson,
  UpdateRequest,
} from '../api-types.js';
import { call, deployStream, type Reply } from './api.js';
import { confirmDialog, h, say } from './dom.js';
import { checkSdl, createEditor, type SdlCheck } from './editor.js';
import { deploymentCard } from './leases.js';

/** The IPs an update would release, when the console refused it for want of the person's confirmation. */
function releasesOf(error: ErrorJson): readonly ReleaseJson[] | undefined {
  const releases = error.details?.releases;
  return error.code === 'CONFIRMATION_REQUIRED' && Array.isArray(releases) && releases.length > 0
    ? (releases as readonly ReleaseJson[])
    : undefined;
}

export async function deployView(root: HTMLElement): Promise<void> {
  // the view's three reads go out together: the first load waits for the slowest, not for their sum
  const [examples, providers, deployments] = await Promise.all([
    call<ExampleJson[]>('GET', '/api/examples'),
    call<ProvidersJson>('GET', '/api/providers'),
    call<DeploymentJson[]>('GET', '/api/deployments'),
  ]);
  const list = examples.ok ? examples.value : [];
  const status = h('div', { id: 'sdl-status', role: 'status', 'aria-live': 'polite' });
  const problems = h('ul', { class: 'diagnostics', id: 'diagnostics', 'aria-label': 'SDL problems' });
  let latest: SdlCheck = { ok: false, diagnostics: [] };

  const deployButton = h('button', { type: 'submit', class: 'primary', id: 'deploy' }, 'Deploy');
  const updateButton = h('button', { type: 'submit', class: 'secondary', id: 'update' }, 'Update');
  const showCheck = (check: SdlCheck) => {
    latest = check;
    const errors = check.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = check.diagnostics.length - errors;
    status.replaceChildren(
      h(
        'p',
        { class: `note ${errors === 0 ? 'ok' : 'error'}` },
        errors === 0
          ? `SDL valid${warnings === 0 ? '' : ` (${warnings} warning${warnings === 1 ? '' : 's'})`}`
          : `${errors} problem${errors === 1 ? '' : 's'}: fix ${errors === 1 ? 'it' : 'them'} to deploy`,
      ),
    );
    problems.replaceChildren(
      ...check.diagnostics.map((d) =>
        h(
          'li',
          { class: d.severity },
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => editor.reveal(d), 'data-code': d.code },
            formatDiagnostic(d),
          ),
        ),
      ),
    );
    deployButton.disabled = !check.ok;
    updateButton.disabled = !check.ok;
  };

  const editorBox = h('div', { class: 'editor', id: 'editor' });
  const editor = createEditor(editorBox, list[0]?.text ?? '', showCheck);
  const exampleSelect = h(
    'select',
    {
      id: 'example',
      onchange: () => {
        const chosen = list.find((example) => example.id === exampleSelect.value);
        if (chosen !== undefined) editor.setText(chosen.text);
      },
    },
    ...list.map((example) => h('option', { value: example.id }, example.title)),
  );

  const progress = h('ol', { class: 'progress', id: 'progress', 'aria-label': 'Deploy progress' });
  const bids = h('div', { id: 'bids', 'aria-live': 'polite' });
  const outcome = h('div', { id: 'outcome', 'aria-live': 'polite' });

  const providerSelect = h('select', { id: 'pick-provider', 'aria-label': 'Provider' });
  if (providers.ok) {
    for (const provider of providers.value.providers) {
      providerSelect.append(h('option', { value: provider.address }, provider.label));
    }
  }
  const pickRadio = (value: string, label: string, checked = false) =>
    h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'pick', value, checked }), ` ${label}`);
  const deployForm = h(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'deploy-title',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void runDeploy();
      },
    },
    h('h2', { id: 'deploy-title' }, 'Deploy'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Which bid to take'),
      pickRadio('ask', 'Let me choose once bids arrive', true),
      pickRadio('cheapest', 'The cheapest'),
      h('span', { class: 'radio' }, pickRadio('provider', 'Only this provider:'), ' ', providerSelect),
    ),
    deployButton,
  );

  const dseqSelect = h('select', { id: 'update-dseq' });
  const listActive = (deployments: Reply<DeploymentJson[]>) => {
    const active = (deployments.ok ? deployments.value : []).filter((d) => d.state === 'active');
    dseqSelect.replaceChildren(
      ...(active.length === 0
        ? [h('option', { value: '' }, 'no active deployment')]
        : active.map((d) => h('option', { value: d.dseq }, `deployment ${d.dseq}`))),
    );
  };
  const refreshDeployments = async () => listActive(await call<DeploymentJson[]>('GET', '/api/deployments'));
  listActive(deployments);
  const updateOutcome = h('div', { id: 'update-outcome', 'aria-live': 'polite' });
  const updateForm = h(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'update-title',
      onsubmit: (event: Event) => {
        event.preventDefault();
        void runUpdate();
      },
    },
    h('h2', { id: 'update-title' }, 'Update a deployment'),
    h('label', { for: 'update-dseq' }, 'Deployment'),
    dseqSelect,
    h(
      'p',
      { class: 'muted small' },
      'Sends the SDL above as the new version; its IPs stay, unless it drops or renames an endpoint: then you are asked first.',
    ),
    updateButton,
    updateOutcome,
  );

  const runDeploy = async () => {
    if (!latest.ok) return;
    const mode =
      (deployForm.querySelector('input[name=pick]:checked') as HTMLInputElement | null)?.value ?? 'ask';
    const pick = mode === 'provider' ? { provider: providerSelect.value } : mode;
    deployButton.disabled = true;
    progress.replaceChildren();
    bids.replaceChildren();
    outcome.replaceChildren();
    const seen: BidJson[] = [];
    const refusals = h('ul', {
      class: 'refusals',
      id: 'refusals',
      'aria-label': 'Providers that will not bid',
    });
    const bidRows = h('tbody', {});
    bids.append(
      h('h3', {}, 'Bids'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'bid-table' },
          h('caption', { class: 'visually-hidden' }, 'Bids as they arrive'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Provider', 'Per block', 'Per month', ''].map((text) => h('th', { scope: 'col' }, text)),
            ),
          ),
          bidRows,
        ),
      ),
      refusals,
    );
    let job = '';
    const choose = async (body: unknown) => {
      for (const button of bids.querySelectorAll('button')) button.disabled = true;
      const answer = await call('POST', `/api/deploy/${job}/choose`, body);
      if (!answer.ok) say(outcome, `${answer.error.code}: ${answer.error.error}`, 'error');
    };
    const onEvent = (event: DeployEventJson) => {
      if (event.type === 'job') job = event.job;
      else if (event.type === 'progress') progress.append(h('li', {}, event.message));
      else if (event.type === 'bid') {
        seen.push(event.bid);
        bidRows.append(
          h(
            'tr',
            { 'data-provider': event.bid.label },
            h('td', {}, event.bid.label),
            h('td', {}, event.bid.price.perBlock),
            h('td', {}, event.bid.price.perMonth),
            h('td', { class: 'choose-cell' }),
          ),
        );
      } else if (event.type === 'refusal') {
        refusals.append(
          h(
            'li',
            {},
            h('strong', {}, event.refusal.label),
            ` will not bid: ${event.refusal.message} `,
            h('code', {}, event.refusal.code),
          ),
        );
      } else if (event.type === 'choose') {
        for (const row of bidRows.querySelectorAll('tr')) {
          const bid = seen.find((b) => b.label === row.getAttribute('data-provider'));
          const cell = row.querySelector('.choose-cell');
          if (bid === undefined || cell === null) continue;
          cell.replaceChildren(
            h(
              'button',
              {
                type: 'button',
                class: 'primary small',
                onclick: () => void choose({ provider: bid.provider }),
              },
              `Take ${bid.label}’s bid`,
            ),
          );
        }
        bids.append(
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                id: 'take-cheapest',
                onclick: () => void choose({ pick: 'cheapest' }),
              },
              'Take the cheapest',
            ),
            h(
              'button',
              { type: 'button', class: 'secondary', onclick: () => void choose({ cancel: true }) },
              'Cancel (close the deployment)',
            ),
          ),
        );
        (bidRows.querySelector('button') as HTMLButtonElement | null)?.focus();
      } else if (event.type === 'done') {
        // a fix or a close from here continues in the Leases view, which shows every deployment it touches
        const toLeases = () => {
          location.hash = '#leases';
        };
        outcome.replaceChildren(h('h3', {}, 'Your lease'), deploymentCard(event.deployment, toLeases));
        void refreshDeployments();
      } else if (event.type === 'error') {
        say(outcome, `${event.error.code}: ${event.error.error}`, 'error');
      }
    };
    await deployStream({ sdl: editor.text(), pick }, onEvent);
    deployButton.disabled = !latest.ok;
  };

  const sendUpdate = (release?: readonly string[]) => {
    const body: UpdateRequest = {
      dseq: dseqSelect.value,
      sdl: editor.text(),
      ...(release === undefined ? {} : { release }),
    };
    return call<DeploymentJson>('POST', '/api/update', body);
  };
  const runUpdate = async () => {
    if (!latest.ok || dseqSelect.value === '') return;
    updateButton.disabled = true;
    const dseq = dseqSelect.value;
    say(updateOutcome, `updating deployment ${dseq}…`);
    let updated = await sendUpdate();
    // an update that gives up IPs goes ahead only once the person has seen which and agreed
    const releases = updated.ok ? undefined : releasesOf(updated.error);
    if (releases !== undefined) {
      say(updateOutcome, `deployment ${dseq} is unchanged: the update waits for your confirmation`);
      const go = await confirmDialog({
        title: `Release IPs of deployment ${dseq}?`,
        body: [
          h(
            'p',
            {},
            'The new SDL no longer names these endpoints, so the update releases their IPs (quarantined, then leased to others). Keep the endpoint names to keep the IPs.',
          ),
          h(
            'ul',
            { id: 'update-released', 'aria-label': 'IPs the update releases' },
            ...releases.flatMap((release) =>
              release.addresses.map((ip) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'ip' }, ip),
                  ` (endpoint “${release.endpoint}” of lease ${release.lease} on ${release.label})`,
                ),
              ),
            ),
          ),
        ],
        confirm: 'Release them and update',
        danger: true,
      });
      if (!go) {
        say(updateOutcome, 'update cancelled: nothing was sent');
        updateButton.disabled = !latest.ok;
        return;
      }
      say(updateOutcome, `updating deployment ${dseq}…`);
      updated = await sendUpdate(releases.flatMap((release) => release.addresses));
    }
    if (updated.ok) {
      updateOutcome.replaceChildren(
        h('p', { class: 'note ok' }, `deployment ${updated.value.dseq} updated`),
        deploymentCard(updated.value, () => {
          location.hash = '#leases';
        }),
      );
    } else {
      updateOutcome.replaceChildren(
        h(
          'p',
          { class: 'note error', role: 'alert', id: 'update-refusal' },
          h('strong', {}, updated.error.code),
          `: ${updated.error.error}`,
        ),
      );
    }
    updateButton.disabled = !latest.ok;
  };

  root.replaceChildren(
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'panel editor-panel', 'aria-labelledby': 'sdl-title' },
        h('h2', { id: 'sdl-title' }, 'SDL'),
        h('label', { for: 'example' }, 'Start from an example'),
        exampleSelect,
        h(
          'p',
          { id: 'sdl-help', class: 'muted small' },
          'Checked as you type by the same engine as akash-ip sdl validate. Tab leaves the editor; indent with spaces.',
        ),
        editorBox,
        status,
        problems,
      ),
      h(
        'div',
        { class: 'stack' },
        deployForm,
        h(
          'section',
          { class: 'panel', 'aria-labelledby': 'bids-title' },
          h('h2', { id: 'bids-title' }, 'Bids and lease'),
          h(
            'p',
            { class: 'muted small' },
            'Bids appear here as providers send them, with the reason of each provider that will not bid.',
          ),
          progress,
          bids,
          outcome,
        ),
        updateForm,
      ),
    ),
  );
  showCheck(checkSdl(editor.text()));
}
