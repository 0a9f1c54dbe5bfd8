// smtp-server (3.21.6) starts an implicit-TLS handshake one event-loop turn after
// accepting the socket, and its close() destroys the sockets still waiting for one.
// A socket destroyed in that turn (a stop right after a connect) was still wrapped
// in a TLS socket, and that crashed the process with SIGSEGV during shutdown. A
// destroyed socket is not upgraded: smtp-server gets the error it would get from a
// failed handshake, and forgets the socket.
import type { SMTPServer } from 'smtp-server';

export function skipUpgradeOfClosedSockets(server: SMTPServer): void {
  const upgrade = server._upgrade;
  server._upgrade = function (this: SMTPServer, socket, callback) {
    if (socket.destroyed) return callback(Object.assign(new Error('connection closed before the TLS handshake'), { code: 'ECONNRESET' }));
    upgrade.call(this, socket, callback);
  };
}
