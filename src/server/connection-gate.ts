// Counts connections at accept, before any TLS handshake and before the protocol
// sees them (DESIGN.md invariant 7): one gate per protocol, in front of every
// listener of that protocol (IMAP 143 and 993; SMTP MX, submission and
// submissions; the admin API), so a client cannot hold more than the per-address
// limit across ports, and a client that never finishes its handshake still counts.
// The gate also owns the end of every socket it let in: at shutdown, whatever a
// peer does, what is still open after the grace period is destroyed.
import type * as net from 'node:net';
import type { Logger } from '../log.js';
import { addressGroup } from './address-group.js';
import { connectionClosed, connectionOpened } from '../metrics/metrics.js';

/** How long a refused socket has to flush its one-line refusal before it is destroyed. */
export const refusalLingerMilliseconds = 1_000;

export interface ConnectionGateOptions {
  /** Prefix of the log events: `<protocol>.connection_refused`. */
  protocol: string;
  log: Logger;
  /** Open connections over all the gate's listeners. */
  maxConnections: number;
  /** Open connections from one address (an IPv6 /64, see address-group.ts). */
  maxConnectionsPerAddress: number;
}

export interface GuardOptions {
  /**
   * The line a refused client is sent on a cleartext listener (IMAP `* BYE`, SMTP
   * 421). Null on an implicit-TLS listener: nothing can be said before a handshake,
   * and doing one for a client that is refused anyway is what a flood wants.
   */
  refusal: string | null;
}

export class ConnectionGate {
  private readonly open = new Set<net.Socket>();
  private readonly perAddress = new Map<string, number>();
  /** Refused sockets between their refusal and their destruction. */
  private readonly refused = new Set<net.Socket>();
  /** Waiting drain() calls, resolved when no socket is left. */
  private emptied: (() => void)[] = [];

  constructor(private readonly options: ConnectionGateOptions) {}

  /**
   * Puts the gate in front of `server`: its 'connection' listeners (for a tls.Server,
   * the one that starts the handshake) run only for sockets the gate admits. Call it
   * after every 'connection' listener is added and before listen().
   */
  guard(server: net.Server, guard: GuardOptions): void {
    const listeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: net.Socket) => {
      if (!this.admit(socket, guard)) return;
      for (const listener of listeners) listener.call(server, socket);
    });
  }

  /** Connections open now, over every guarded listener. */
  get size(): number {
    return this.open.size;
  }

  /** Connections open now from `address`'s group. */
  count(address: string): number {
    return this.perAddress.get(addressGroup(address)) ?? 0;
  }

  /** Destroys every socket still open: the end of a shutdown's grace period. */
  destroyAll(): void {
    for (const socket of [...this.open, ...this.refused]) socket.destroy();
  }

  /**
   * The second half of a shutdown, once the listeners are closed and the sessions
   * were asked to finish: resolves when every socket the gate saw is closed,
   * destroying those still open after `graceMilliseconds`. Bounded whatever the
   * peers do (a handshake never finished, a client that never reads).
   */
  async drain(graceMilliseconds: number): Promise<void> {
    if (this.open.size + this.refused.size === 0) return;
    const timer = setTimeout(() => this.destroyAll(), graceMilliseconds);
    await new Promise<void>((resolve) => this.emptied.push(resolve));
    clearTimeout(timer);
  }

  private admit(socket: net.Socket, guard: GuardOptions): boolean {
    const address = socket.remoteAddress ?? '';
    const group = addressGroup(address);
    const count = this.perAddress.get(group) ?? 0;
    const reason = this.open.size >= this.options.maxConnections ? 'connection_limit' : count >= this.options.maxConnectionsPerAddress ? 'per_address_limit' : null;
    if (reason !== null) {
      this.options.log.warn(`${this.options.protocol}.connection_refused`, { remoteAddress: address, addressGroup: group, reason });
      this.refuse(socket, guard.refusal);
      return false;
    }
    this.open.add(socket);
    connectionOpened(this.options.protocol);
    this.perAddress.set(group, count + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.open.delete(socket);
      connectionClosed(this.options.protocol);
      const remaining = (this.perAddress.get(group) ?? 1) - 1;
      if (remaining <= 0) this.perAddress.delete(group);
      else this.perAddress.set(group, remaining);
      this.checkEmpty();
    };
    // Released when the socket is destroyed, which is where net.Socket gives back its
    // own server's count, not only on 'close': smtp-server's STARTTLS calls
    // removeAllListeners() on the socket it upgrades, and a 'close' listener goes with it.
    const destroy = socket._destroy;
    socket._destroy = function (this: net.Socket, error: Error | null, callback: (error?: Error | null) => void) {
      release();
      destroy.call(this, error, callback);
    };
    socket.once('close', release);
    return true;
  }

  private refuse(socket: net.Socket, refusal: string | null): void {
    socket.on('error', () => {});
    if (refusal === null) {
      socket.destroy();
      return;
    }
    // end() alone is not enough: a socket nobody reads never sees the client's FIN,
    // so one whose client had sent anything stayed open for good (a descriptor each).
    // What the client sends is read and dropped, and the socket goes after a moment.
    this.refused.add(socket);
    socket.once('close', () => {
      this.refused.delete(socket);
      this.checkEmpty();
    });
    socket.resume();
    socket.end(refusal);
    setTimeout(() => socket.destroy(), refusalLingerMilliseconds).unref();
  }

  private checkEmpty(): void {
    if (this.open.size + this.refused.size > 0) return;
    for (const resolve of this.emptied.splice(0)) resolve();
  }
}
