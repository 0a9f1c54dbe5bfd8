// smtp-server (3.21.6) waits a fixed 100 ms after accepting a connection before
// its 220 banner, to catch clients that talk before the greeting (RFC 5321 §4.3.1
// early talkers, a spam-bot tell), and has no option for it. That is worth having
// on the MX, and pure latency for an authenticated submission client, so the
// delay becomes a per-listener option here: `greetingDelay` in milliseconds
// (0: greet at once). The replaced method mirrors smtp-server's own init().
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export const smtpServerGreetingDelay = 100;

interface ConnectionInternals {
  _server: { options: { maxClients?: number; greetingDelay?: number }; connections: Set<unknown> };
  name: string;
  _setListeners(callback: () => void): void;
  send(code: number, data: string, context?: unknown): void;
  connectionReady(): void;
}

let installed = false;

export function installGreetingDelayOption(): void {
  if (installed) return;
  installed = true;
  (SMTPConnection.prototype as unknown as { init(this: ConnectionInternals): void }).init = function (this: ConnectionInternals) {
    this._setListeners(() => {
      const options = this._server.options;
      if (options.maxClients && this._server.connections.size > options.maxClients) {
        return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
      }
      const delay = options.greetingDelay ?? smtpServerGreetingDelay;
      if (delay <= 0) return this.connectionReady();
      setTimeout(() => this.connectionReady(), delay).unref();
    });
  };
}
