/**
 * A read-only face of the devnet ledger in the Akash REST (LCD) API's shape, so a reader of the real chain
 * (the IP operator's `--akash-rest`) can be pointed at the devnet: `GET
 * /akash/deployment/v1beta4/deployments/info?id.owner=…&id.dseq=…` (chain-sdk
 * `akash.deployment.v1beta4.Query/Deployment`), proto field names as the gateway writes them. Only what the
 * devnet records is filled in; a failure is the gateway's `{"code","message","details"}` with its gRPC code.
 */
import type { Context, Hono } from 'hono';
import type { Ledger } from './ledger.js';
import { deploymentIdSchema, parseWith } from './schemas.js';
import type { Deployment } from './types.js';

export const DEPLOYMENT_INFO_ROUTE = '/akash/deployment/v1beta4/deployments/info';

/** gRPC status codes the gateway puts in its error body, with their HTTP statuses. */
const INVALID_ARGUMENT = { code: 3, http: 400 } as const;
const NOT_FOUND = { code: 5, http: 404 } as const;

function grpcError(
  c: Context,
  status: typeof INVALID_ARGUMENT | typeof NOT_FOUND,
  message: string,
): Response {
  return c.json({ code: status.code, message, details: [] }, status.http);
}

/** A deployment as the gateway writes `QueryDeploymentResponse` (uint64 as strings, uint32 as numbers). */
function deploymentInfo(deployment: Deployment) {
  const { owner, dseq } = deployment.id;
  return {
    deployment: {
      id: { owner, dseq },
      state: deployment.state,
      hash: Buffer.from(deployment.hash, 'hex').toString('base64'),
      created_at: String(deployment.createdHeight),
    },
    groups: deployment.groups.map((group) => ({
      id: { owner, dseq, gseq: group.gseq },
      // Akash's group states: open, paused, insufficient_funds, closed; a leased order's group is open.
      state: group.state === 'closed' ? 'closed' : 'open',
      group_spec: group.spec,
      created_at: String(deployment.createdHeight),
    })),
  };
}

/** Mounts the Akash-shaped routes on the ledger's app. */
export function mountAkashRest(app: Hono, ledger: Ledger): void {
  app.get(DEPLOYMENT_INFO_ROUTE, (c) => {
    const id = parseWith(
      deploymentIdSchema,
      { owner: c.req.query('id.owner'), dseq: c.req.query('id.dseq') },
      'deployment id',
    );
    if (!id.ok) return grpcError(c, INVALID_ARGUMENT, id.error.message);
    const deployment = ledger.getDeployment(id.value);
    if (!deployment.ok) return grpcError(c, NOT_FOUND, 'deployment not found');
    return c.json(deploymentInfo(deployment.value));
  });
}
