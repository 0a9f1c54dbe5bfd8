// Ports on 127.0.0.1 for the benchmarks: a free one to give a server, whether
// something listens on one, and waiting until something does.
import * as net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Polls until something listens on `port`; `gaveUp` is checked before every try
 * (say, a child process that exited) and its text thrown when it returns one.
 */
export async function waitForListener(port: number, options: { attempts?: number; intervalMilliseconds?: number; gaveUp?: () => string | null } = {}): Promise<void> {
  const attempts = options.attempts ?? 100;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const reason = options.gaveUp?.() ?? null;
    if (reason !== null) throw new Error(reason);
    if (await listening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMilliseconds ?? 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
