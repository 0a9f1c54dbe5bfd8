// A raw client connection for the attack suite: plain TCP or TLS from a chosen
// loopback source address, text received kept (bounded) for pattern waits, and
// every socket registered so an attack that times out can destroy all of its own.
import * as net from 'node:net';
import * as tls from 'node:tls';

/** Received text kept for matching; older text is dropped so a flood of replies costs the suite nothing. */
const keptCharacters = 256 * 1024;

export class SocketRegistry {
  private readonly sockets = new Set<net.Socket>();

  add(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  get open(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

export interface WireOptions {
  port: number;
  /** Source address in 127.0.0.0/8. */
  from?: string;
  tls?: boolean;
  /** Don't read what the server sends (a client that never reads its replies). */
  read?: boolean;
  registry?: SocketRegistry;
  connectTimeoutMilliseconds?: number;
}

export class Wire {
  private text = '';
  private waiters = new Set<() => void>();
  private closedAt: number | null = null;
  readonly openedAt = Date.now();
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  error: Error | null = null;

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        this.wake();
        resolve();
      }),
    );
    socket.on('error', (error) => {
      this.error = error;
    });
  }

  /** Connects (TCP, and the TLS handshake when `tls`); rejects on a refusal, a reset or the timeout. */
  static async open(options: WireOptions): Promise<Wire> {
    const plain = net.connect({ host: '127.0.0.1', port: options.port, localAddress: options.from ?? '127.0.0.1' });
    const socket: net.Socket = options.tls ? tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' }) : plain;
    options.registry?.add(plain);
    if (socket !== plain) options.registry?.add(socket);
    const wire = new Wire(socket);
    if (options.read !== false) {
      socket.on('data', (chunk: Buffer) => {
        wire.text += chunk.toString('latin1');
        if (wire.text.length > keptCharacters) wire.text = wire.text.slice(-keptCharacters);
        wire.wake();
      });
    } else {
      socket.pause();
    }
    const ready = options.tls ? 'secureConnect' : 'connect';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timed out'));
      }, options.connectTimeoutMilliseconds ?? 15_000);
      socket.once(ready, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed while connecting'));
      });
    });
    return wire;
  }

  get isClosed(): boolean {
    return this.closedAt !== null;
  }

  /** Milliseconds from opening to the close, or null while open. */
  get lifetime(): number | null {
    return this.closedAt === null ? null : this.closedAt - this.openedAt;
  }

  /** Everything received and not yet consumed (the last 256 KiB). */
  get received(): string {
    return this.text;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Waits for `pattern` in the received text and consumes through it; rejects when
   * the socket closes first or after `timeoutMilliseconds`.
   */
  until(pattern: RegExp, timeoutMilliseconds = 15_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = (outcome: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        outcome();
      };
      const check = () => {
        const match = pattern.exec(this.text);
        if (match) {
          this.text = this.text.slice(match.index + match[0].length);
          return done(() => resolve(match[0]));
        }
        if (this.isClosed) done(() => reject(new Error(`closed before ${pattern}; received ${JSON.stringify(this.text.slice(-200))}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMilliseconds} ms; received ${JSON.stringify(this.text.slice(-200))}`))), timeoutMilliseconds);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the close; true if it came within the time. */
  async closesWithin(milliseconds: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), milliseconds)));
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Writes and waits until the socket takes more (or has closed): a writer that respects backpressure. */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed) return false;
    if (this.socket.write(data)) return true;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    return !this.socket.destroyed;
  }

  /** Writes without waiting for room (bytes pile up in this process until the kernel takes them). */
  push(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** `"text"` as an IMAP quoted string. */
export function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (character) => `\\${character}`)}"`;
}

/** Source addresses for attackers, each handed out once: 127.1.0.1, 127.1.0.2, … */
export class SourceAddresses {
  private next = 0;

  take(): string {
    const index = this.next++;
    return `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;
  }

  /** `count` addresses in a row. */
  many(count: number): string[] {
    return Array.from({ length: count }, () => this.take());
  }
}

export const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));
