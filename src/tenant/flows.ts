/**
 * The tenant's flows, shared by `deploy`, `update`, `lease-status` and `start`: create a deployment, watch
 * the bids arrive and explain the providers that will not bid, accept one bid per order, hand the manifest
 * to each winning provider and wait until every IP endpoint is either leased or withheld with a reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AppError, appError, fail, ok, type Result } from '../errors/index.js';
import { checkAgainstSpec, declarationsOf, orderPath } from '../lease/index.js';
import {
  type Bid,
  type BidId,
  DENOM,
  type Deployment,
  type Group,
  type Lease,
  leasedIpCount,
  matchRequirements,
  type Order,
  type OrderId,
  type Provider,
} from '../market/index.js';
import { goJson, type ManifestGroup, type Sdl } from '../sdl/index.js';
import { type EndpointStatus, freeIps, type LeaseStatus } from './provider-client.js';
import type { Session } from './session.js';

/** Progress for anything that waits: one line per step, written where the face shows it (the CLI's stderr, the console's stream). */
export type Progress = (message: string) => void;

/** How long the flows poll between looks at the ledger or a provider. */
const POLL_MS = 250;

/** How to choose among bids: the cheapest (ties: earliest), or one provider's bid only. */
export type BidChoice = { readonly pick: 'cheapest' } | { readonly provider: string };

/** A provider that will not bid on an order, and why. */
export interface Refusal {
  readonly provider: string;
  readonly error: AppError;
}

/**
 * What a deploy tells as it goes, for faces that show more than progress lines (the web console): the
 * deployment once created, each bid as it arrives, each provider that will not bid, each lease accepted.
 */
export type DeployEvent =
  | { readonly type: 'created'; readonly deployment: Deployment; readonly orders: readonly Order[] }
  | { readonly type: 'bid'; readonly bid: Bid }
  | { readonly type: 'refusal'; readonly order: OrderId; readonly refusal: Refusal }
  | { readonly type: 'lease'; readonly lease: Lease };

/** Where the bids of one order stand. */
export interface OrderBids {
  readonly order: Order;
  readonly bids: readonly Bid[];
  readonly refusals: readonly Refusal[];
  /** Providers that could still bid. */
  readonly waiting: readonly string[];
}

/** Orders a bid list cheapest first: price, then arrival, then provider address. */
export function compareBids(a: Bid, b: Bid): number {
  const price = comparePrices(a.price.amount, b.price.amount);
  if (price !== 0) return price;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id.provider < b.id.provider ? -1 : a.id.provider > b.id.provider ? 1 : 0;
}

/** Compares two non-negative decimal strings exactly. */
function comparePrices(a: string, b: string): number {
  const [ai = '0', af = ''] = a.split('.');
  const [bi = '0', bf = ''] = b.split('.');
  const width = Math.max(af.length, bf.length);
  const x = BigInt(ai + af.padEnd(width, '0'));
  const y = BigInt(bi + bf.padEnd(width, '0'));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The bid `choice` accepts among `bids` (open bids of one order), if any. */
export function chooseBid(bids: readonly Bid[], choice: BidChoice): Bid | undefined {
  const open = bids.filter((bid) => bid.state === 'open');
  if ('provider' in choice) return open.find((bid) => bid.id.provider === choice.provider);
  return [...open].sort(compareBids)[0];
}

/** Whether waiting can stop: the chosen provider has answered, or every candidate has. */
export function biddingSettled(state: OrderBids, choice: BidChoice): boolean {
  if ('provider' in choice) {
    return (
      state.bids.some((bid) => bid.id.provider === choice.provider) ||
      state.refusals.some((refusal) => refusal.provider === choice.provider)
    );
  }
  return state.waiting.length === 0;
}

/** The message for an order nobody (acceptable) bid on: each provider's reason and what to try next. */
export function noBidMessage(
  state: OrderBids,
  choice: BidChoice,
  label: (address: string) => string,
  timeoutSeconds: number,
): string {
  const order = `order ${orderPath(state.order.id)}`;
  const reasons = state.refusals.map(
    (refusal) => `provider ${label(refusal.provider)}: ${refusal.error.message} (${refusal.error.code})`,
  );
  const silent = state.waiting.map(
    (address) => `provider ${label(address)}: no answer in ${timeoutSeconds}s`,
  );
  const why = [...reasons, ...silent].join('; ');
  if ('provider' in choice) {
    const others = state.bids.filter((bid) => bid.id.provider !== choice.provider);
    const hint =
      others.length > 0
        ? `; ${others.map((bid) => label(bid.id.provider)).join(', ')} did bid: try --pick cheapest`
        : '; try --pick cheapest, or a smaller SDL';
    const mine = state.refusals.find((refusal) => refusal.provider === choice.provider);
    const reason =
      mine === undefined
        ? `provider ${label(choice.provider)} did not bid within ${timeoutSeconds}s`
        : `provider ${label(choice.provider)}: ${mine.error.message} (${mine.error.code})`;
    return `no bid from the chosen provider on ${order}: ${reason}${hint}`;
  }
  return `no provider bid on ${order}${why === '' ? ' (no provider is registered)' : `: ${why}`}; try a smaller SDL, or --bid-timeout to wait longer`;
}

/** The code an order without bids fails with: the chosen provider's refusal, or the refusals' shared code, else UNAVAILABLE. */
export function noBidCode(state: OrderBids, choice: BidChoice): AppError['code'] {
  if ('provider' in choice) {
    return (
      state.refusals.find((refusal) => refusal.provider === choice.provider)?.error.code ?? 'UNAVAILABLE'
    );
  }
  const codes = new Set(state.refusals.map((refusal) => refusal.error.code));
  const [only] = codes;
  return codes.size === 1 && only !== undefined && state.waiting.length === 0 ? only : 'UNAVAILABLE';
}

/**
 * Why `provider` will not bid on `order`, judged from the outside: its attributes do not meet the
 * placement, its daemon does not answer, or the order needs leased IPs and its inventory has too few free.
 */
async function refusalOf(session: Session, provider: Provider, order: Order): Promise<AppError | undefined> {
  const label = session.providerLabel(provider.address);
  if (!matchRequirements(order.spec, provider.attributes)) {
    const wanted = (order.spec.requirements.attributes ?? []).map((a) => `${a.key}=${a.value}`).join(', ');
    return appError('ATTRIBUTE_MISMATCH', `${label} lacks attributes the placement requires (${wanted})`);
  }
  const client = await session.providerClient(provider.address);
  if (!client.ok) return client.error;
  const status = await client.value.status();
  // a provider still rebuilding its state may yet bid
  if (!status.ok) return status.error.code === 'NOT_READY' ? undefined : status.error;
  const needed = leasedIpCount(order.spec);
  if (needed === 0) return undefined;
  const inventory = status.value.cluster.inventory.leased_ip;
  if (inventory === undefined || inventory === null || inventory.capacity === 0n) {
    return appError('NO_IP_SUPPORT', `${label} offers no leased IPs`);
  }
  const free = freeIps(status.value);
  if (free < BigInt(needed)) {
    return appError(
      'INSUFFICIENT_IPS',
      `${label} has no free IPs (${needed} needed, ${free} of ${inventory.capacity} free)`,
    );
  }
  return undefined;
}

/**
 * Watches the bids of a new deployment's orders until `choice` can be settled for every order or
 * `timeoutMs` passes, reporting each bid and refusal once. A bid always overrides a refusal seen earlier
 * (the provider may have reserved its IPs for this very order between two looks).
 */
async function collectBids(
  session: Session,
  orders: readonly Order[],
  choice: BidChoice,
  timeoutMs: number,
  progress: Progress,
  onEvent: (event: DeployEvent) => void,
): Promise<Result<readonly OrderBids[], AppError>> {
  const listed = await session.ledger.listProviders();
  if (!listed.ok) return listed;
  const owner = session.key.address;
  const providers = listed.value.filter((provider) => provider.address !== owner);
  const refusals = new Map<string, Map<string, AppError>>();
  const reported = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  const dseq = orders[0]?.id.dseq;
  let states: OrderBids[] = [];
  for (;;) {
    const bids = await session.ledger.listBids({ owner, ...(dseq === undefined ? {} : { dseq }) });
    if (!bids.ok) return bids;
    states = [];
    for (const order of orders) {
      const key = `${order.id.gseq}/${order.id.oseq}`;
      const mine = bids.value.filter((bid) => bid.id.gseq === order.id.gseq && bid.id.oseq === order.id.oseq);
      const bidders = new Set(mine.map((bid) => bid.id.provider));
      const refused = refusals.get(key) ?? new Map<string, AppError>();
      refusals.set(key, refused);
      for (const bid of mine) {
        const note = `bid ${key} ${bid.id.provider}`;
        if (reported.has(note)) continue;
        reported.add(note);
        progress(
          `bid on order ${key} from ${session.providerLabel(bid.id.provider)}: ${formatPrice(bid.price.amount)}`,
        );
        onEvent({ type: 'bid', bid });
      }
      for (const provider of providers) {
        if (bidders.has(provider.address) || refused.has(provider.address)) continue;
        const refusal = await refusalOf(session, provider, order);
        if (refusal === undefined) continue;
        refused.set(provider.address, refusal);
      }
      states.push({
        order,
        bids: mine,
        refusals: [...refused]
          .filter(([address]) => !bidders.has(address))
          .map(([provider, error]) => ({ provider, error })),
        waiting: providers
          .map((provider) => provider.address)
          .filter((address) => !bidders.has(address) && !refused.has(address)),
      });
    }
    if (states.every((state) => biddingSettled(state, choice))) {
      // One more look: a refusal judged from the inventory may have raced the provider's own bid.
      const again = await session.ledger.listBids({ owner, ...(dseq === undefined ? {} : { dseq }) });
      if (!again.ok) return again;
      if (again.value.length === bids.value.length) break;
      continue;
    }
    if (Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  for (const state of states) {
    for (const refusal of state.refusals) {
      const note = `refusal ${state.order.id.gseq}/${state.order.id.oseq} ${refusal.provider}`;
      if (reported.has(note)) continue;
      reported.add(note);
      progress(`${session.providerLabel(refusal.provider)} will not bid: ${refusal.error.message}`);
      onEvent({ type: 'refusal', order: state.order.id, refusal });
    }
  }
  return ok(states);
}

/** A per-block price for people: at most 4 decimals (truncated, `<0.0001` below that), trailing zeros dropped. */
export function formatPrice(amount: string): string {
  const [whole = '0', fraction = ''] = amount.split('.');
  const shown = fraction.slice(0, 4).replace(/0+$/, '');
  if (whole === '0' && shown === '' && /[1-9]/.test(fraction)) return `<0.0001 ${DENOM}/block`;
  return `${shown === '' ? whole : `${whole}.${shown}`} ${DENOM}/block`;
}

/** Options of {@link deploy}. */
export interface DeployOptions {
  readonly choice: BidChoice;
  /** uakt. */
  readonly deposit: bigint;
  readonly bidTimeoutMs: number;
  readonly timeoutMs: number;
  /** Told each step as it happens (see {@link DeployEvent}). */
  readonly onEvent?: (event: DeployEvent) => void;
  /**
   * Chooses an order's bid once its bidding has settled (a person picking in the console); by default
   * {@link chooseBid} with `choice`. A failure closes the deployment and is returned.
   */
  readonly pick?: (state: OrderBids) => Promise<Result<Bid, AppError>>;
}

/** A deployment with its leases and what each lease's provider reports. */
export interface DeploymentState {
  readonly deployment: Deployment;
  readonly leases: readonly LeaseState[];
}

/** One lease and the provider's lease-status (absent when the provider could not be asked). */
export interface LeaseState {
  readonly lease: Lease;
  readonly status?: LeaseStatus;
  readonly error?: AppError;
}

/** A group of a deployment as its provider checks a manifest against it: its sequence and its spec. */
export type GroupOnLedger = Pick<Group, 'gseq' | 'spec'>;

/**
 * What a provider would refuse in `sdl`'s manifest for `groups`, judged here with the provider's own checks
 * before anything changes: the manifest as it goes on the wire through the daemon's parser, then per group
 * the IP exposes (`declarationsOf`) and the IP endpoints against the group spec (`checkAgainstSpec`).
 */
export async function manifestRefusal(
  sdl: Sdl,
  groups: readonly GroupOnLedger[],
): Promise<AppError | undefined> {
  // Loaded here only: deploy and update wait seconds for the ledger anyway, the other commands pay nothing.
  const { parseManifest } = await import('../manifest/index.js');
  const wire = parseManifest(JSON.parse(goJson(sdl.manifest)));
  if (!wire.ok) return wire.error;
  for (const { gseq, spec } of groups) {
    const group = wire.value.find((candidate) => candidate.name === spec.name);
    if (group === undefined) {
      return appError('MANIFEST_MISMATCH', `the SDL has no placement group "${spec.name}" (group ${gseq})`);
    }
    const declared = declarationsOf(group);
    if (!declared.ok) return declared.error;
    const matches = checkAgainstSpec(group, spec);
    if (!matches.ok) return matches.error;
  }
  return undefined;
}

/** The IP endpoint names a manifest group declares (its global exposes with an `ip`). */
function endpointNames(group: ManifestGroup | undefined): ReadonlySet<string> {
  return new Set(
    (group?.services ?? []).flatMap((service) =>
      service.expose.filter((expose) => expose.global && expose.ip !== '').map((expose) => expose.ip),
    ),
  );
}

/** An address a lease holds now and would give up. */
export interface Release {
  readonly lease: Lease['id'];
  readonly endpoint: string;
  readonly addresses: readonly string[];
}

/**
 * The addresses a lease gives up when its provider takes `group`: each endpoint that holds one now and that
 * the new manifest no longer names (a renamed endpoint is a new one; the old name's address is released).
 */
export function releasedBy(lease: Lease, status: LeaseStatus, group: ManifestGroup | undefined): Release[] {
  const kept = endpointNames(group);
  return Object.entries(status.ip_endpoints ?? {})
    .filter(([name, endpoint]) => endpoint.addresses.length > 0 && !kept.has(name))
    .map(([endpoint, { addresses }]) => ({ lease: lease.id, endpoint, addresses }));
}

/**
 * What an active lease holds on its provider now: its lease-status, or nothing when the provider has not seen
 * the lease (no manifest yet); a provider that cannot be asked is an error, since it might hold addresses.
 */
export async function holdings(
  session: Session,
  lease: Lease,
): Promise<Result<LeaseStatus | undefined, AppError>> {
  const state = await fetchLeaseState(session, lease);
  if (state.error === undefined) return ok(state.status);
  return NOT_SEEN.has(state.error.code) ? ok(undefined) : fail(state.error);
}

/** `203.0.113.1 (endpoint "api" of lease 5/1/1 on provider-1)`, joined. */
export function releasesText(releases: readonly Release[], label: (address: string) => string): string {
  return releases
    .map(
      (release) =>
        `${release.addresses.join(', ')} (endpoint "${release.endpoint}" of lease ${orderPath(release.lease)} on ${label(release.lease.provider)})`,
    )
    .join('; ');
}

/** Whether `releases` are exactly the addresses a person agreed to release (none named: any). */
function agreed(releases: readonly Release[], addresses: readonly string[] | undefined): boolean {
  if (addresses === undefined) return true;
  const found = new Set(releases.flatMap((release) => release.addresses));
  const named = new Set(addresses);
  return found.size === named.size && [...found].every((address) => named.has(address));
}

/**
 * Closes a deployment `deploy` created and could not finish, so no lease keeps paying or holding an IP,
 * and returns `error` saying so.
 */
async function abandon(
  session: Session,
  deployment: Deployment,
  leases: number,
  error: AppError,
): Promise<Result<never, AppError>> {
  const dseq = deployment.id.dseq;
  const closed = await session.ledger.closeDeployment(deployment.id);
  const ended = leases === 0 ? '' : `, its ${leases} lease(s) ended`;
  const cleanup = closed.ok
    ? ` (deployment ${dseq} closed${ended}, the unspent deposit refunded)`
    : ` (deployment ${dseq} is still open: close it with \`akash-ip close --dseq ${dseq}\`)`;
  return fail(appError(error.code, `${error.message}${cleanup}`, { ...error.details, dseq }));
}

/**
 * Creates the deployment, takes one bid per order, sends the manifest and waits for its IPs. A manifest the
 * providers would refuse is refused before anything is created; a failure after the deployment exists closes it.
 */
export async function deploy(
  session: Session,
  sdl: Sdl,
  options: DeployOptions,
  progress: Progress,
): Promise<Result<DeploymentState, AppError>> {
  const refused = await manifestRefusal(
    sdl,
    sdl.groups.map((spec, index) => ({ gseq: index + 1, spec })),
  );
  if (refused !== undefined) {
    return fail(
      appError(
        refused.code,
        `a provider would refuse this SDL's manifest, so nothing was created: ${refused.message}`,
        refused.details,
      ),
    );
  }
  const created = await session.ledger.createDeployment({
    owner: session.key.address,
    groups: sdl.groups,
    hash: sdl.manifestVersion,
    deposit: { denom: DENOM, amount: options.deposit.toString() },
  });
  if (!created.ok) return created;
  const { deployment, orders } = created.value;
  const dseq = deployment.id.dseq;
  const onEvent = options.onEvent ?? (() => undefined);
  onEvent({ type: 'created', deployment, orders });
  progress(
    `deployment ${dseq} created (version ${sdl.manifestVersion.slice(0, 12)}…); waiting for bids on ${orders.length} order(s)`,
  );
  const settled = await collectBids(session, orders, options.choice, options.bidTimeoutMs, progress, onEvent);
  if (!settled.ok) return abandon(session, deployment, 0, settled.error);

  const winners: BidId[] = [];
  for (const state of settled.value) {
    const picked =
      options.pick === undefined ? pickByChoice(session, state, options) : await options.pick(state);
    if (!picked.ok) return abandon(session, deployment, 0, picked.error);
    winners.push(picked.value.id);
  }
  const leases: Lease[] = [];
  for (const bid of winners) {
    const lease = await session.ledger.createLease(bid);
    if (!lease.ok) return abandon(session, deployment, leases.length, lease.error);
    progress(
      `lease ${orderPath(bid)} accepted on ${session.providerLabel(bid.provider)} at ${formatPrice(lease.value.price.amount)}`,
    );
    onEvent({ type: 'lease', lease: lease.value });
    leases.push(lease.value);
  }
  const delivered = await deliver(session, deployment, leases, sdl, options.timeoutMs, progress);
  return delivered.ok ? delivered : abandon(session, deployment, leases.length, delivered.error);
}

/** Options of {@link update}. */
export interface UpdateOptions {
  readonly dseq: string;
  /** The SDL's path, for the commands a refusal suggests. */
  readonly file: string;
  /** Release the addresses of endpoints the new SDL no longer names. */
  readonly yes: boolean;
  /**
   * With `yes`, the addresses the person was shown and agreed to release (the console's confirmation): an
   * update that would now release a different set asks again. None: `yes` releases whatever it finds (`--yes`).
   */
  readonly releasing?: readonly string[];
  readonly timeoutMs: number;
}

/**
 * Updates a deployment to a new SDL. Everything a provider would refuse, and every address the update would
 * release without `yes`, is found before the ledger changes; a provider refusing the manifest anyway puts the
 * deployment's previous version back, so a refused update leaves the ledger and the providers as they were.
 */
export async function update(
  session: Session,
  sdl: Sdl,
  options: UpdateOptions,
  progress: Progress,
): Promise<Result<DeploymentState, AppError>> {
  const { dseq } = options;
  const id = { owner: session.key.address, dseq };
  const current = await session.ledger.getDeployment(id);
  if (!current.ok) return current;
  const before = current.value;
  if (before.state !== 'active') {
    return fail(
      appError(
        'DEPLOYMENT_CLOSED',
        `deployment ${dseq} is closed; deploy the SDL anew with \`akash-ip deploy\``,
      ),
    );
  }
  const redeploy =
    `To run this SDL, deploy it anew (\`akash-ip deploy ${options.file}\`), move any endpoint whose IP you keep with ` +
    `\`akash-ip migrate-endpoints --dseq NEW --source-dseq ${dseq} NAME\`, then \`akash-ip close --dseq ${dseq}\``;
  if (before.groups.length !== sdl.groups.length) {
    return fail(
      appError(
        'MANIFEST_MISMATCH',
        `deployment ${dseq} has ${before.groups.length} group(s) and the SDL ${sdl.groups.length}: an update keeps ` +
          `the placement groups; nothing was changed. ${redeploy}`,
      ),
    );
  }
  const refused = await manifestRefusal(sdl, before.groups);
  if (refused !== undefined) {
    const rule =
      refused.code === 'MANIFEST_MISMATCH'
        ? ' Akash does not let an update change what a group leases (its IP endpoints are part of the group spec its providers bid on).'
        : '';
    return fail(
      appError(
        refused.code,
        `deployment ${dseq} cannot take this SDL: its provider would refuse it: ${refused.message}.${rule} Nothing was changed. ${redeploy}`,
        refused.details,
      ),
    );
  }

  const leases = await session.ledger.listLeases({ owner: id.owner, dseq, state: 'active' });
  if (!leases.ok) return leases;
  const releases: Release[] = [];
  for (const lease of leases.value) {
    const status = await holdings(session, lease);
    if (!status.ok) {
      return fail(
        appError(
          status.error.code,
          `cannot check what the update would change on ${session.providerLabel(lease.id.provider)}: ${status.error.message}; nothing was changed`,
        ),
      );
    }
    if (status.value === undefined) continue;
    const name = before.groups.find((group) => group.gseq === lease.id.gseq)?.spec.name;
    const group = sdl.manifest.find((candidate) => candidate.name === name);
    releases.push(...releasedBy(lease, status.value, group));
  }
  if (releases.length > 0) {
    const text = releasesText(releases, session.providerLabel);
    if (!options.yes || !agreed(releases, options.releasing)) {
      return fail(
        appError(
          'CONFIRMATION_REQUIRED',
          `the new SDL no longer names ${releases.length === 1 ? 'an endpoint that holds' : 'endpoints that hold'} an IP, so the update would release ${text}. ` +
            'Nothing was changed: keep the endpoint names to keep their IPs, or pass --yes to release them',
          { releases },
        ),
      );
    }
    progress(`releasing ${text}`);
  }

  let deployment = before;
  if (before.hash === sdl.manifestVersion) {
    progress(
      `deployment ${dseq} already has version ${sdl.manifestVersion.slice(0, 12)}…; sending the manifest again`,
    );
  } else {
    const updated = await session.ledger.updateDeployment({ id, hash: sdl.manifestVersion });
    if (!updated.ok) return updated;
    deployment = updated.value;
    progress(`deployment ${dseq} updated to version ${sdl.manifestVersion.slice(0, 12)}…`);
  }
  const delivered = await deliver(session, deployment, leases.value, sdl, options.timeoutMs, progress);
  if (delivered.ok || before.hash === sdl.manifestVersion) return delivered;
  const restored = await session.ledger.updateDeployment({ id, hash: before.hash });
  const note = restored.ok
    ? ` (deployment ${dseq} is back at its previous version ${before.hash.slice(0, 12)}…)`
    : ` (the ledger keeps the new version while the provider runs the old one: run the update again)`;
  return fail(appError(delivered.error.code, `${delivered.error.message}${note}`, delivered.error.details));
}

/** The bid `options.choice` takes on a settled order, or why there is none. */
function pickByChoice(session: Session, state: OrderBids, options: DeployOptions): Result<Bid, AppError> {
  const bid = chooseBid(state.bids, options.choice);
  if (bid !== undefined) return ok(bid);
  const message = noBidMessage(
    state,
    options.choice,
    session.providerLabel,
    Math.round(options.bidTimeoutMs / 1000),
  );
  return fail(appError(noBidCode(state, options.choice), message));
}

/** Sends the manifest to every lease's provider, then waits for the IPs; shared by deploy and update. */
async function deliver(
  session: Session,
  deployment: Deployment,
  leases: readonly Lease[],
  sdl: Sdl,
  timeoutMs: number,
  progress: Progress,
): Promise<Result<DeploymentState, AppError>> {
  const deadline = Date.now() + timeoutMs;
  const manifest = goJson(sdl.manifest);
  const providers = [...new Set(leases.map((lease) => lease.id.provider))];
  for (const provider of providers) {
    const sent = await sendManifest(session, provider, deployment.id.dseq, manifest, deadline);
    if (!sent.ok) return sent;
    progress(`manifest sent to ${session.providerLabel(provider)}`);
  }
  const states = await waitForEndpoints(session, leases, deadline, progress);
  return ok({ deployment, leases: states });
}

/** Codes a provider answers for a lease it has not seen (no manifest yet), though the ledger holds it. */
const NOT_SEEN = new Set(['LEASE_NOT_FOUND', 'NOT_FOUND', 'DEPLOYMENT_NOT_FOUND']);

/** Codes a provider answers while it has not yet seen a lease that the ledger already holds. */
const NOT_YET = new Set([...NOT_SEEN, 'NOT_READY', 'UNAVAILABLE']);

async function sendManifest(
  session: Session,
  provider: string,
  dseq: string,
  manifest: string,
  deadline: number,
): Promise<Result<void, AppError>> {
  const client = await session.providerClient(provider);
  if (!client.ok) return client;
  for (;;) {
    const sent = await client.value.sendManifest(dseq, manifest);
    if (sent.ok) return ok(undefined);
    if (!NOT_YET.has(sent.error.code) || Date.now() >= deadline) {
      return fail(
        appError(
          sent.error.code,
          `${session.providerLabel(provider)} refused the manifest of deployment ${dseq}: ${sent.error.message}`,
          sent.error.details,
        ),
      );
    }
    await sleep(POLL_MS);
  }
}

/** Whether an endpoint has reached a state worth reporting: leased, or not leased with a reason. */
function endpointSettled(endpoint: EndpointStatus): boolean {
  return endpoint.state === 'active' ? endpoint.addresses.length > 0 : endpoint.reason !== undefined;
}

/** Whether a lease-status shows every IP endpoint of the lease settled. */
export function statusSettled(status: LeaseStatus, needsIps: boolean): boolean {
  if (!needsIps) return true;
  const endpoints = Object.values(status.ip_endpoints ?? {});
  if (endpoints.length > 0) return endpoints.every(endpointSettled);
  return status.ips !== null && Object.keys(status.ips).length > 0;
}

/** Polls each lease's status until its IP endpoints settle or the deadline passes; never fails as a whole. */
async function waitForEndpoints(
  session: Session,
  leases: readonly Lease[],
  deadline: number,
  progress: Progress,
): Promise<LeaseState[]> {
  const out: LeaseState[] = [];
  const specs = new Map<string, boolean>();
  for (const lease of leases) {
    const order = await session.ledger.getOrder(lease.id);
    specs.set(orderPath(lease.id), order.ok ? leasedIpCount(order.value.spec) > 0 : true);
  }
  for (const lease of leases) {
    const needsIps = specs.get(orderPath(lease.id)) ?? true;
    let told = false;
    for (;;) {
      const state = await fetchLeaseState(session, lease);
      const done = state.status !== undefined && statusSettled(state.status, needsIps);
      if (done || Date.now() >= deadline || (state.error !== undefined && !NOT_YET.has(state.error.code))) {
        out.push(state);
        break;
      }
      if (!told) {
        progress(
          `waiting for ${session.providerLabel(lease.id.provider)} to assign IPs to ${orderPath(lease.id)}`,
        );
        told = true;
      }
      await sleep(POLL_MS);
    }
  }
  return out;
}

/** One lease's lease-status from its provider; a failure is kept in the state, not raised. */
export async function fetchLeaseState(session: Session, lease: Lease): Promise<LeaseState> {
  if (lease.state !== 'active') return { lease };
  const client = await session.providerClient(lease.id.provider);
  if (!client.ok) return { lease, error: client.error };
  const status = await client.value.leaseStatus(lease.id);
  return status.ok ? { lease, status: status.value } : { lease, error: status.error };
}
