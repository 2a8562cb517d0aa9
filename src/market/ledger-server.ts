/** Running the devnet ledger: its HTTP server on loopback, and the block clock that drives escrow. */
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import type { AppError } from '../errors/index.js';
import type { Ledger } from './ledger.js';
import { createLedgerApi, type LedgerApiOptions } from './ledger-api.js';
import type { LedgerStatus, MarketLedger } from './types.js';

/** A running ledger server. */
export interface LedgerServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and waits for open ones to finish. */
  close(): Promise<void>;
}

/** Serves the ledger API on `host` (default 127.0.0.1) and `port` (default 0: any free port). */
export function serveLedger(
  ledger: Ledger,
  options: LedgerApiOptions & { readonly host?: string; readonly port?: number } = {},
): Promise<LedgerServer> {
  const app = createLedgerApi(ledger, options);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info) => {
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}

export interface BlockClockOptions {
  /** Wall time per block. Mainnet averages 6098 ms; a devnet usually wants faster. */
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly onBlock?: (status: LedgerStatus) => void;
  readonly onError?: (error: AppError) => void;
}

/** Advances the ledger one block every `intervalMs` until `signal` aborts. */
export async function runBlockClock(
  ledger: Pick<MarketLedger, 'advanceBlocks'>,
  options: BlockClockOptions,
): Promise<void> {
  while (!options.signal.aborted) {
    try {
      await sleep(options.intervalMs, undefined, { signal: options.signal });
    } catch {
      return;
    }
    const advanced = await ledger.advanceBlocks(1);
    if (advanced.ok) options.onBlock?.(advanced.value);
    else options.onError?.(advanced.error);
  }
}
