// LOGIN — RFC 9051 §6.2.3. Not authenticated. Refused before TLS (LOGINDISABLED,
// RFC 9051 §6.2.3 and §7.2.2) unless the config allows plaintext on loopback.
import { authenticate } from '../../auth/authenticate.js';
import { ImapReply, no } from '../response.js';
import { defineCommand } from './command.js';

export default defineCommand({
  name: 'LOGIN',
  states: ['not-authenticated'],
  async handler(session, command) {
    if (!session.loginAllowed) throw no('LOGIN is disabled before STARTTLS', 'PRIVACYREQUIRED');
    // authenticate() logs auth.succeeded / auth.failed; every failure gets the same answer.
    const account = await authenticate(
      session.store,
      { login: command.username, password: command.password, protocol: 'imap', address: session.connection.remoteAddress, secure: session.connection.secure },
      session.log,
    );
    if (!account) throw no('invalid credentials', 'AUTHENTICATIONFAILED');
    session.login(account);
    // RFC 9051 §6.2.3: the OK may carry the capabilities, since they change after login.
    return new ImapReply('OK', 'LOGIN completed', `CAPABILITY ${session.capabilities().join(' ')}`);
  },
});
