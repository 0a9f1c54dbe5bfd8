// Message submission (RFC 6409): port 587 with STARTTLS required before AUTH, or
// 465 with implicit TLS (RFC 8314). AUTH PLAIN and LOGIN against the store; the
// envelope sender and every From: address must belong to the authenticated
// account (553 5.7.1). Local recipients are delivered directly; remote ones are
// DKIM-signed and queued. The 250 comes after both are durable.
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { authenticate } from '../auth/authenticate.js';
import { PasswordCheckBusy } from '../errors.js';
import { bounceFailedRecipients, deliverLocally, replyFor } from './local-delivery.js';
import type { MessageSpool } from './message-spool.js';
import { dkimSignatureFor } from './outbound/dkim-signature.js';
import { countReceived, receivedHeader } from './received-header.js';
import { checkSenderFields } from './sender-check.js';
import { checkAddressEncoding } from './address-encoding.js';
import { checkRecipient, domainOf, resolveLocalRecipient } from './recipient-policy.js';
import { checkMessageRate, commonOptions, declaredSize, hook, receiveData, type SmtpContext } from './smtp-context.js';
import { SmtpReply } from './smtp-reply.js';

interface SubmissionUser {
  login: string;
}

export function createSubmissionServer(context: SmtpContext, options: { implicitTls: boolean }): SMTPServer {
  const role = options.implicitTls ? 'submissions' : 'submission';
  const common = commonOptions(context, role);
  return new SMTPServer({
    ...common,
    // RFC 8314 §3.3 / RFC 4954 §4: no AUTH, not even advertised, until the connection is encrypted.
    onConnect(session, callback) {
      if (!options.implicitTls) session.disabledCommands = ['AUTH'];
      common.onConnect!(session, callback);
    },
    onSecure(_socket, session, callback) {
      session.disabledCommands = [];
      callback();
    },
    secure: options.implicitTls,
    authMethods: ['PLAIN', 'LOGIN'],
    // smtp-server offers AUTH only on a TLS connection unless allowInsecureAuth is set; it is not.
    authOptional: false,
    authRequiredMessage: '5.7.0 Authentication required',
    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback) {
      const failed = () => callback(null, { message: '5.7.8 Authentication credentials invalid', responseCode: 535 });
      const username = auth.username ?? '';
      // RFC 4616: an authorization identity other than the user's own would be acting for someone else.
      if (auth.method === 'PLAIN' && auth.authzid && auth.authzid !== username) return failed();
      // authenticate() paces, logs auth.succeeded / auth.failed (an empty name or password as malformed).
      authenticate(context.store, { login: username, password: auth.password ?? '', protocol: 'smtp', address: session.remoteAddress, secure: session.secure }, context.log).then(
        (account) => {
          if (!account) return failed();
          (session as SMTPServerSession & { postkeepUser?: SubmissionUser }).postkeepUser = { login: account.login };
          callback(null, { user: account.login });
        },
        (error: Error) => {
          // RFC 4954 §6: 454 4.7.0 for any temporary failure; a full password-check queue is expected under a storm.
          if (!(error instanceof PasswordCheckBusy)) context.log.error('smtp.internal_error', { role, error: String(error) });
          callback(new SmtpReply(454, '4.7.0', 'Temporary authentication failure'));
        },
      );
    },
    onMailFrom: hook(context, role, async (address: SMTPServerAddress, session: SMTPServerSession) => {
      checkAddressEncoding(address.address, session, 'sender');
      checkMessageRate(context, session, role);
      await requireOwnAddress(context, session, address.address, 'Sender address');
    }),
    onRcptTo: hook(context, role, async (address: SMTPServerAddress, session: SMTPServerSession) => {
      checkAddressEncoding(address.address, session, 'recipient');
      await checkRecipient(context.store, address.address, { authenticated: true, declaredSize: declaredSize(session), postmaster: context.postmaster });
    }),
    onData: hook(context, role, async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
      const spool = await receiveData(context, stream, session);
      try {
        return await acceptSubmission(context, spool, session);
      } finally {
        await spool.dispose();
      }
    }),
  });
}

function userOf(session: SMTPServerSession): SubmissionUser {
  const user = (session as SMTPServerSession & { postkeepUser?: SubmissionUser }).postkeepUser;
  if (!user) throw new SmtpReply(530, '5.7.0', 'Authentication required');
  return user;
}

async function mayUse(context: SmtpContext, user: SubmissionUser, address: string): Promise<boolean> {
  const owner = address ? await context.store.admin.resolveAddress(address) : null;
  return owner !== null && owner.toLowerCase() === user.login.toLowerCase();
}

async function requireOwnAddress(context: SmtpContext, session: SMTPServerSession, address: string, what: string): Promise<void> {
  if (!(await mayUse(context, userOf(session), address))) {
    throw new SmtpReply(553, '5.7.1', `${what} <${address}> is not yours to send from`);
  }
}

async function acceptSubmission(context: SmtpContext, spool: MessageSpool, session: SMTPServerSession): Promise<string> {
  const user = userOf(session);
  const headerSection = spool.headerText();
  if (countReceived(headerSection) > context.config.maxReceivedHeaders) throw new SmtpReply(554, '5.4.6', 'Too many Received headers: mail loop detected');
  // Every From: and Sender: address, read strictly and the same way other parsers read it (sender-check.ts).
  const fromAddresses = await checkSenderFields(spool.head, spool.size, (address) => mayUse(context, user, address));

  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const recipients = session.envelope.rcptTo.map((entry) => entry.address);
  const logins = await Promise.all(recipients.map((address) => resolveLocalRecipient(context.store, context.postmaster, address)));
  const local = logins.filter((login): login is string => login !== null);
  const remote = recipients.filter((_, index) => logins[index] === null);
  const received = receivedHeader(session, context.hostname, recipients);
  const withReceived = async function* () {
    yield Buffer.from(received, 'latin1');
    yield* spool.chunks();
  };
  const maxSize = context.config.maxMessageSize + 64 * 1024;
  // One DATA reply covers every recipient (RFC 5321 §4.2.5 leaves per-recipient
  // results to LMTP), so what fails once another recipient's copy is committed can
  // only be reported in a DSN. Local copies go first, while nothing is accepted yet:
  // a transient store failure is then a 4xx the client retries, with no copy made
  // twice and no bounce. A permanent refusal of every local copy (the message is
  // too big for the mailbox) with remote recipients present is a DSN for the local
  // ones, and the remote ones are still sent. Once local copies are committed, a
  // failure to queue the remote ones is a 451: the client sends again and local
  // recipients may get a second copy (at least once, like the outbound queue),
  // rather than remote mail bouncing over a passing fault.
  const localAddresses = recipients.filter((_, index) => logins[index] !== null);
  let failedLocally: { login: string; error: Error }[] = [];
  if (local.length > 0) {
    try {
      failedLocally = (await deliverLocally(context.store, withReceived(), local, { maxSize, log: context.log, sessionId: session.id })).failed;
    } catch (error) {
      if (remote.length === 0 || !(error instanceof SmtpReply) || error.responseCode < 500) throw error;
      context.log.warn('smtp.local_part_failed', { session: session.id, error: String(error) });
      failedLocally = local.map((login) => ({ login, error }));
    }
  }
  let queuedId: number | null = null;
  if (remote.length > 0) {
    let signature: string;
    try {
      signature = await dkimSignatureFor(context.store.dkimKeys, domainOf(fromAddresses[0]!), withReceived());
    } catch (error) {
      context.log.error('smtp.dkim_failed', { session: session.id, error: String(error) });
      throw new SmtpReply(451, '4.3.0', 'Could not sign the message, try again later');
    }
    const signed = async function* () {
      if (signature) yield Buffer.from(signature, 'latin1');
      yield* withReceived();
    };
    try {
      const queued = await context.store.outbound.enqueue(signed(), { sender, recipients: remote }, { expiresAt: new Date(Date.now() + context.outbound.maxAgeHours * 3_600_000), maxSize: maxSize + signature.length });
      queuedId = queued.id;
    } catch (error) {
      throw replyFor(error as Error);
    }
    context.log.info('smtp.queued', { session: session.id, queueId: queuedId, recipients: remote.length, signed: signature !== '' });
    context.queued();
  }
  await bounceFailedRecipients(context, session, localAddresses, local, failedLocally, headerSection);
  return `2.6.0 Message accepted${queuedId !== null ? ` (queued as ${queuedId})` : ''}`;
}
