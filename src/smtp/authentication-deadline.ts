// Submission (RFC 6409) serves authenticated clients only, so a session that has not
// authenticated after smtp.preAuthenticationTimeoutSeconds is told 421 and closed,
// however active it is. smtp-server's own bounds do not cover this: socketTimeout is
// an idle timeout (any command resets it), and its cap on commands before AUTH does
// not count AUTH attempts.
import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import type { Logger } from '../log.js';

export function limitTimeBeforeAuthentication(server: SMTPServer, milliseconds: number, log: Logger, role: string): void {
  const timers = new Map<string, NodeJS.Timeout>();
  const onConnect = server.onConnect;
  const onClose = server.onClose;
  server.onConnect = (session: SMTPServerSession, callback: (error?: Error | null) => void) => {
    onConnect.call(server, session, (error?: Error | null) => {
      if (!error) timers.set(session.id, setTimeout(() => expire(session.id), milliseconds));
      callback(error);
    });
  };
  server.onClose = (session: SMTPServerSession, callback?: (error?: Error | null) => void) => {
    clearTimeout(timers.get(session.id));
    timers.delete(session.id);
    onClose.call(server, session, callback);
  };
  const expire = (id: string) => {
    timers.delete(id);
    const connection = [...server.connections].find((candidate) => candidate.id === id);
    if (!connection || connection.session.user) return;
    log.info('smtp.authentication_timeout', { role, session: id, remoteAddress: connection.session.remoteAddress });
    // A 421 reply makes smtp-server close the connection (RFC 5321 §3.8).
    connection.send(421, '4.7.0 Authentication timeout, closing connection');
  };
}
