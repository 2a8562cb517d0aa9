/**
 * A TCP relay on 127.0.0.1 in front of the test apiserver that can play the apiserver's death: `cut()`
 * resets every relayed connection and resets each new one on accept until `restore()`. TLS passes through
 * untouched (the server's certificate names 127.0.0.1, whatever the port).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface CuttableProxy {
  /** `https://127.0.0.1:<port>`: the apiserver's URL through the relay. */
  readonly server: string;
  /** Resets every open connection, and every new one until {@link restore}. */
  cut(): void;
  restore(): void;
  /** Connections reset on accept since the last cut: how often a client has tried meanwhile. */
  refused(): number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<CuttableProxy> {
  const upstream = new URL(target);
  const open = new Set<Socket>();
  let cut = false;
  let refused = 0;
  const server = createServer((client) => {
    if (cut) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const relay = connect(Number(upstream.port), upstream.hostname);
    open.add(client);
    open.add(relay);
    const end = () => {
      open.delete(client);
      open.delete(relay);
      client.destroy();
      relay.destroy();
    };
    for (const socket of [client, relay]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(relay);
    relay.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');
  return {
    server: `https://127.0.0.1:${address.port}`,
    cut() {
      cut = true;
      refused = 0;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    refused: () => refused,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
