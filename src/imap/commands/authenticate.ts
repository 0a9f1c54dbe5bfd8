// AUTHENTICATE PLAIN — RFC 9051 §6.2.2, RFC 4616 (PLAIN), RFC 4959 (SASL-IR).
// Not authenticated; refused before TLS like LOGIN.
import { authenticate } from '../../auth/authenticate.js';
import { parseAuthenticateResponse, ParseError } from '../parser/index.js';
import { bad, ImapReply, no } from '../response.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  async handler(session, command) {
    if (!session.loginAllowed) throw no('authentication is disabled before STARTTLS', 'PRIVACYREQUIRED');
    if (command.mechanism !== 'PLAIN') throw no(`unsupported mechanism ${command.mechanism}`, 'CANNOT');
    let response = command.initialResponse;
    if (response === null) {
      // RFC 9051 §6.2.2: an empty challenge, then the client's base64 line or "*".
      const frame = await session.connection.readContinuation('');
      const parsed = parseAuthenticateResponse(frame);
      if (parsed instanceof ParseError) throw bad(parsed.message);
      if (parsed.cancel) throw bad('AUTHENTICATE cancelled');
      response = parsed.data;
    }
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd
    const fields = response.toString('utf8').split('\0');
    if (fields.length !== 3) throw bad('malformed PLAIN response');
    const [authorization, login, password] = fields as [string, string, string];
    if (authorization !== '' && authorization !== login) throw no('authorization identity differs from the login', 'AUTHORIZATIONFAILED');
    // authenticate() logs auth.succeeded / auth.failed; every failure gets the same answer.
    const account = await authenticate(session.store, { login, password, protocol: 'imap', address: session.connection.remoteAddress, secure: session.connection.secure }, session.log);
    if (!account) throw no('invalid credentials', 'AUTHENTICATIONFAILED');
    session.login(account);
    return new ImapReply('OK', 'AUTHENTICATE completed', `CAPABILITY ${session.capabilities().join(' ')}`);
  },
});
