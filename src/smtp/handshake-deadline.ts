// smtp-server times the implicit-TLS handshake (port 465) with socketTimeout, which
// is the session's idle timeout (smtp.idleTimeoutSeconds, minutes): a client that
// opens connections and never sends a ClientHello would hold each for that long.
// The handshake gets its own deadline here (smtp.handshakeTimeoutSeconds).
import type * as net from 'node:net';
import type { SMTPServer } from 'smtp-server';
import type { Logger } from '../log.js';

export function limitHandshakeTime(server: SMTPServer, milliseconds: number, log: Logger, role: string): void {
  server.server.on('connection', (socket: net.Socket) => {
    const timer = setTimeout(() => {
      // smtp-server keeps each accepted socket that has not reached its SMTP session
      // in _pendingSockets, mapped to the socket on top of it (the TLS socket once the
      // handshake began); its own close() destroys that one too, never the raw socket
      // under a handshake in progress.
      const top = server._pendingSockets.get(socket);
      if (!top) return;
      log.info('smtp.handshake_timeout', { role, remoteAddress: socket.remoteAddress ?? '' });
      top.destroy();
    }, milliseconds);
    socket.once('close', () => clearTimeout(timer));
  });
}
