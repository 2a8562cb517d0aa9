/**
 * What the console does for its tenant, over the tenant flows the CLI runs too (src/tenant): the same deploy,
 * update, migrate and close, answered as the JSON the page reads (api-types.ts) instead of printed.
 */

import { compareDseq } from '../akash-id/index.js';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { orderPath } from '../lease/index.js';
import {
  type Bid,
  DEFAULT_BLOCK_SECONDS,
  DEFAULT_MONTH_DAYS,
  type Deployment,
  type Lease,
} from '../market/index.js';
import { parseSdl, type Sdl, type SdlDiagnostic } from '../sdl/index.js';
import {
  type BidChoice,
  chooseBid,
  type DeployEvent,
  type DeploymentState,
  deploy,
  endpointRows,
  fetchLeaseState,
  formatPrice,
  type LeaseState,
  nextSteps,
  type OrderBids,
  type Progress,
  type Release,
  type Session,
  update,
} from '../tenant/index.js';
import type {
  AuditJson,
  BidJson,
  CloseJson,
  DeployEventJson,
  DeploymentJson,
  ErrorJson,
  LeaseJson,
  MigrateJson,
  PriceJson,
  ReleaseJson,
} from './api-types.js';

/** The deposit (uakt) and the waits `akash-ip deploy` and `update` use by default. */
const DEPOSIT = 5_000_000n;
const BID_TIMEOUT_MS = 30_000;
const DELIVER_TIMEOUT_MS = 60_000;
/** Deployments the leases view lists, newest first. */
const LISTED_DEPLOYMENTS = 20;
/** Audit entries per lease the leases view shows, newest kept. */
const AUDIT_PER_LEASE = 50;

export function errorJson(error: AppError): ErrorJson {
  return error.details === undefined
    ? { error: error.message, code: error.code }
    : { error: error.message, code: error.code, details: error.details };
}

/** Blocks in a 30-day month at Akash's average block time: what turns a per-block price into a monthly one. */
const BLOCKS_PER_MONTH = (DEFAULT_MONTH_DAYS * 86_400) / DEFAULT_BLOCK_SECONDS;

export function priceJson(amount: string): PriceJson {
  const akt = (Number(amount) * BLOCKS_PER_MONTH) / 1e6;
  return {
    amount,
    perBlock: formatPrice(amount),
    perMonth: `≈ ${akt < 0.01 ? '<0.01' : akt.toFixed(2)} AKT/month`,
  };
}

function bidJson(session: Session, bid: Bid): BidJson {
  return {
    order: orderPath(bid.id),
    provider: bid.id.provider,
    label: session.providerLabel(bid.id.provider),
    price: priceJson(bid.price.amount),
  };
}

/** The SDL parsed as the CLI parses a file, or its diagnostics as one INVALID_INPUT-coded error. */
export function sdlFromText(text: string): Result<Sdl, AppError> {
  const parsed = parseSdl(new TextEncoder().encode(text), { file: 'sdl.yaml' });
  if (parsed.ok) return parsed;
  const diagnostics: readonly SdlDiagnostic[] = parsed.error;
  const first = diagnostics[0];
  return fail(
    appError(
      first?.code ?? 'SDL_INVALID',
      diagnostics.map((d) => `${d.line}:${d.col}: ${d.code}: ${d.message}`).join('\n'),
      { diagnostics },
    ),
  );
}

async function leaseJson(session: Session, state: LeaseState, steps: readonly string[]): Promise<LeaseJson> {
  const { lease } = state;
  const rows = endpointRows(state);
  const endpoints = rows.map((row) => {
    const status = state.status?.ip_endpoints?.[row.name];
    const heldBy = status?.held_by?.dseq;
    const fix = steps.find(
      (step) => step.includes(`--dseq ${lease.id.dseq} `) && step.endsWith(` ${row.name}`),
    );
    return {
      name: row.name,
      state: row.state,
      addresses: row.addresses,
      ports: row.ports,
      ...(row.note === '' ? {} : { reason: row.note }),
      ...(heldBy === undefined ? {} : { heldBy }),
      ...(fix === undefined ? {} : { fix }),
    };
  });
  let env: LeaseJson['env'] = {};
  let audit: AuditJson[] = [];
  let error = state.error;
  if (lease.state === 'active' && error === undefined) {
    const client = await session.providerClient(lease.id.provider);
    const details = client.ok ? await client.value.leaseDetails(lease.id) : client;
    if (details.ok) {
      env = details.value.env;
      audit = details.value.audit.slice(-AUDIT_PER_LEASE);
    } else error = details.error;
  }
  return {
    id: orderPath(lease.id),
    gseq: lease.id.gseq,
    provider: lease.id.provider,
    label: session.providerLabel(lease.id.provider),
    state: lease.state,
    price: priceJson(lease.price.amount),
    endpoints,
    env,
    audit,
    ...(error === undefined ? {} : { error: errorJson(error) }),
  };
}

export async function deploymentJson(session: Session, state: DeploymentState): Promise<DeploymentJson> {
  const steps = nextSteps(state, session.providerLabel);
  const leases: LeaseJson[] = [];
  for (const lease of state.leases) leases.push(await leaseJson(session, lease, steps));
  return {
    dseq: state.deployment.id.dseq,
    state: state.deployment.state,
    version: state.deployment.hash,
    leases,
  };
}

async function stateOf(session: Session, deployment: Deployment): Promise<Result<DeploymentState, AppError>> {
  const owner = session.key.address;
  const leases = await session.ledger.listLeases({ owner, dseq: deployment.id.dseq });
  if (!leases.ok) return leases;
  const states: LeaseState[] = [];
  for (const lease of leases.value) states.push(await fetchLeaseState(session, lease));
  return ok({ deployment, leases: states });
}

/** The tenant's deployments, newest first: active ones and the latest closed ones. */
export async function listDeployments(session: Session): Promise<Result<DeploymentJson[], AppError>> {
  const listed = await session.ledger.listDeployments({ owner: session.key.address });
  if (!listed.ok) return listed;
  const newest = [...listed.value]
    .sort((a, b) => compareDseq(b.id.dseq, a.id.dseq))
    .slice(0, LISTED_DEPLOYMENTS);
  // each deployment asks the ledger and its providers: together, not one after the other
  const states = await Promise.all(newest.map((deployment) => stateOf(session, deployment)));
  const failed = states.find((state) => !state.ok);
  if (failed !== undefined && !failed.ok) return failed;
  return ok(
    await Promise.all(states.flatMap((state) => (state.ok ? [deploymentJson(session, state.value)] : []))),
  );
}

/** A person's answer to "which bid?": a provider, the cheapest, or none (the deployment is closed). */
export type Choice =
  | { readonly provider: string }
  | { readonly pick: 'cheapest' }
  | { readonly cancel: true };

/**
 * Deploys `sdl` as `akash-ip deploy` does, telling `emit` each step. With `ask`, once an order's bidding
 * settles the bids go to the page and `choose` waits for the person's pick.
 */
export async function deployWithEvents(
  session: Session,
  sdl: Sdl,
  pick: 'ask' | 'cheapest' | { readonly provider: string },
  emit: (event: DeployEventJson) => void,
  choose: () => Promise<Choice>,
): Promise<void> {
  let choice: BidChoice = { pick: 'cheapest' };
  if (typeof pick === 'object') {
    const provider = session.resolveProvider(pick.provider);
    if (!provider.ok) {
      emit({ type: 'error', error: errorJson(provider.error) });
      return;
    }
    choice = { provider: provider.value };
  }
  const onEvent = (event: DeployEvent): void => {
    if (event.type === 'created') {
      emit({
        type: 'created',
        dseq: event.deployment.id.dseq,
        orders: event.orders.map((o) => orderPath(o.id)),
      });
    } else if (event.type === 'bid') emit({ type: 'bid', bid: bidJson(session, event.bid) });
    else if (event.type === 'refusal') {
      emit({
        type: 'refusal',
        refusal: {
          order: orderPath(event.order),
          provider: event.refusal.provider,
          label: session.providerLabel(event.refusal.provider),
          code: event.refusal.error.code,
          message: event.refusal.error.message,
        },
      });
    } else {
      emit({
        type: 'lease',
        lease: orderPath(event.lease.id),
        label: session.providerLabel(event.lease.id.provider),
        price: priceJson(event.lease.price.amount),
      });
    }
  };
  const progress: Progress = (message) => emit({ type: 'progress', message });
  const asked = async (state: OrderBids): Promise<Result<Bid, AppError>> => {
    const open = state.bids.filter((bid) => bid.state === 'open');
    const order = orderPath(state.order.id);
    if (open.length === 0) {
      const why = state.refusals
        .map((r) => `${session.providerLabel(r.provider)}: ${r.error.message}`)
        .join('; ');
      return fail(
        appError('UNAVAILABLE', `no provider bid on order ${order}${why === '' ? '' : `: ${why}`}`),
      );
    }
    const bids = open.map((bid) => bidJson(session, bid));
    const cheapest = chooseBid(open, { pick: 'cheapest' });
    emit({
      type: 'choose',
      order,
      bids,
      ...(cheapest === undefined ? {} : { cheapest: cheapest.id.provider }),
    });
    const answer = await choose();
    if ('cancel' in answer) return fail(appError('USAGE', `no bid taken on order ${order}: cancelled`));
    const bid = 'pick' in answer ? cheapest : open.find((b) => b.id.provider === answer.provider);
    if (bid === undefined) {
      const from = 'provider' in answer ? ` from ${session.providerLabel(answer.provider)}` : '';
      return fail(appError('BID_NOT_FOUND', `no open bid${from} on order ${order}`));
    }
    return ok(bid);
  };
  const deployed = await deploy(
    session,
    sdl,
    {
      choice,
      deposit: DEPOSIT,
      bidTimeoutMs: BID_TIMEOUT_MS,
      timeoutMs: DELIVER_TIMEOUT_MS,
      onEvent,
      ...(pick === 'ask' ? { pick: asked } : {}),
    },
    progress,
  );
  if (!deployed.ok) emit({ type: 'error', error: errorJson(deployed.error) });
  else emit({ type: 'done', deployment: await deploymentJson(session, deployed.value) });
}

/**
 * `akash-ip update`: the same refusals before anything is sent, then the new version and manifest. An update
 * that would release addresses goes ahead only with `release`, exactly those addresses (what the person
 * confirmed); otherwise it is refused with `CONFIRMATION_REQUIRED` and `details.releases` for the dialog.
 */
export async function updateDeployment(
  session: Session,
  dseq: string,
  text: string,
  release: readonly string[] | undefined,
): Promise<Result<DeploymentJson, AppError>> {
  const sdl = sdlFromText(text);
  if (!sdl.ok) return sdl;
  const updated = await update(
    session,
    sdl.value,
    {
      dseq,
      file: 'the edited SDL',
      yes: release !== undefined,
      ...(release === undefined ? {} : { releasing: release }),
      timeoutMs: DELIVER_TIMEOUT_MS,
    },
    () => undefined,
  );
  if (updated.ok) return ok(await deploymentJson(session, updated.value));
  const { error } = updated;
  if (error.code !== 'CONFIRMATION_REQUIRED') return updated;
  const releases = (error.details?.releases ?? []) as readonly Release[];
  const details: { releases: ReleaseJson[] } = {
    releases: releases.map((r) => ({
      endpoint: r.endpoint,
      lease: orderPath(r.lease),
      provider: r.lease.provider,
      label: session.providerLabel(r.lease.provider),
      addresses: r.addresses,
    })),
  };
  return fail(appError(error.code, error.message, details));
}

/** The one provider holding the deployment's active leases, which the migration goes to. */
async function providerOf(session: Session, dseq: string): Promise<Result<string, AppError>> {
  const leases = await session.ledger.listLeases({ owner: session.key.address, dseq, state: 'active' });
  if (!leases.ok) return leases;
  const providers = [...new Set(leases.value.map((lease: Lease) => lease.id.provider))];
  const [only] = providers;
  if (providers.length !== 1 || only === undefined) {
    return fail(
      appError(
        providers.length === 0 ? 'LEASE_NOT_FOUND' : 'USAGE',
        providers.length === 0
          ? `deployment ${dseq} has no active lease to migrate endpoints to`
          : `deployment ${dseq} has leases on several providers`,
      ),
    );
  }
  return ok(only);
}

interface MoveReply {
  readonly endpoint: string;
  readonly from: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
  readonly to: { readonly dseq: string; readonly gseq: number; readonly oseq: number };
  readonly addresses: readonly string[];
}

/** `akash-ip migrate-endpoints`, dry run or not. */
export async function migrateEndpoints(
  session: Session,
  request: { dseq: string; sourceDseq?: string | undefined; endpoints: readonly string[]; dryRun: boolean },
): Promise<Result<MigrateJson, AppError>> {
  const provider = await providerOf(session, request.dseq);
  if (!provider.ok) return provider;
  const client = await session.providerClient(provider.value);
  if (!client.ok) return client;
  const reply = await client.value.migrate({
    endpoints_to_migrate: request.endpoints,
    destination_dseq: request.dseq,
    destination_gseq: 1,
    ...(request.sourceDseq === undefined ? {} : { source_dseq: request.sourceDseq }),
    ...(request.dryRun ? { dry_run: true } : {}),
  });
  if (!reply.ok) return reply;
  const moves = (Array.isArray(reply.value.moves) ? reply.value.moves : []) as readonly MoveReply[];
  return ok({
    dryRun: request.dryRun,
    transferred: reply.value.transferred,
    moves: moves.map((move) => ({
      endpoint: move.endpoint,
      from: orderPath(move.from),
      to: orderPath(move.to),
      addresses: move.addresses,
    })),
    unchanged: (Array.isArray(reply.value.unchanged) ? reply.value.unchanged : []) as string[],
  });
}

/** `akash-ip close`, telling which addresses the deployment held and its providers now release. */
export async function closeDeployment(session: Session, dseq: string): Promise<Result<CloseJson, AppError>> {
  const id = { owner: session.key.address, dseq };
  const leases = await session.ledger.listLeases({ owner: id.owner, dseq, state: 'active' });
  if (!leases.ok) return leases;
  const released: string[] = [];
  for (const lease of leases.value) {
    const state = await fetchLeaseState(session, lease);
    for (const endpoint of Object.values(state.status?.ip_endpoints ?? {})) {
      if (endpoint.state === 'active') released.push(...endpoint.addresses);
    }
  }
  const closed = await session.ledger.closeDeployment(id);
  if (!closed.ok) return closed;
  return ok({ dseq, released });
}
