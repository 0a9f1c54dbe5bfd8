// smtp-server (3.21.6) calls onData only after it has decided to send 354, so an
// application cannot refuse DATA itself: a sender would upload a whole message
// only to hear 452 after the dot. This adds a per-listener option,
// `onDataCommand(session)`, asked when a DATA command with recipients arrives; an
// error it returns is the reply to DATA (RFC 5321 §4.3.2 lists 452 and 451 for
// DATA) and the connection stays in the transaction, able to RSET or try again.
import type { SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

export type DataCommandCheck = (session: SMTPServerSession) => (Error & { responseCode?: number }) | null;

interface ConnectionInternals {
  _server: { options: { onDataCommand?: DataCommandCheck } };
  session: SMTPServerSession;
  send(code: number, data: string, context?: unknown): void;
}

type DataHandler = (this: ConnectionInternals, command: Buffer, callback: () => void) => void;

let installed = false;

export function installDataCommandHook(): void {
  if (installed) return;
  installed = true;
  const prototype = SMTPConnection.prototype as unknown as { handler_DATA: DataHandler };
  const original = prototype.handler_DATA;
  prototype.handler_DATA = function (this: ConnectionInternals, command: Buffer, callback: () => void) {
    const check = this._server.options.onDataCommand;
    // Without recipients smtp-server answers 503 itself; that answer comes first.
    if (check && this.session.envelope.rcptTo.length > 0) {
      const refusal = check(this.session);
      if (refusal) {
        this.send(refusal.responseCode ?? 451, refusal.message);
        return callback();
      }
    }
    return original.call(this, command, callback);
  };
}
