// The inbound MX (RFC 5321): mail for local addresses from anyone, no AUTH, no
// relay. Recipients are checked at RCPT; DATA is spooled, checked (loop, SPF,
// DKIM, DMARC, ARC), and stored with Return-Path, Received and
// Authentication-Results on top; 250 only once the store says it is durable.
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import { verifyAuthentication } from './authentication-results.js';
import { findForgedAuthenticationResults, withoutRanges } from './forged-authentication-results.js';
import { checkLocalDomainClaims, type SenderProof } from './local-domain-spoofing.js';
import { bounceFailedRecipients, deliverLocally } from './local-delivery.js';
import { countReceived, receivedHeader } from './received-header.js';
import { checkAddressEncoding } from './address-encoding.js';
import { checkRecipient, resolveLocalRecipient } from './recipient-policy.js';
import { checkMessageRate, commonOptions, declaredSize, hook, receiveData, type SmtpContext } from './smtp-context.js';
import { SmtpReply } from './smtp-reply.js';
import type { MessageSpool } from './message-spool.js';
import { Readable } from 'node:stream';

export function createMxServer(context: SmtpContext): SMTPServer {
  const role = 'mx';
  return new SMTPServer({
    ...commonOptions(context, role),
    disabledCommands: ['AUTH'],
    authOptional: true,
    onMailFrom: hook(context, role, async (address: SMTPServerAddress, session: SMTPServerSession) => {
      checkAddressEncoding(address.address, session, 'sender');
      checkMessageRate(context, session, role);
    }),
    onRcptTo: hook(context, role, async (address: SMTPServerAddress, session: SMTPServerSession) => {
      checkAddressEncoding(address.address, session, 'recipient');
      await checkRecipient(context.store, address.address, { authenticated: false, declaredSize: declaredSize(session), postmaster: context.postmaster });
    }),
    onData: hook(context, role, async (stream: SMTPServerDataStream, session: SMTPServerSession) => {
      const spool = await receiveData(context, stream, session);
      try {
        return await acceptInbound(context, spool, session);
      } finally {
        await spool.dispose();
      }
    }),
  });
}

async function acceptInbound(context: SmtpContext, spool: MessageSpool, session: SMTPServerSession): Promise<string> {
  const recipients = session.envelope.rcptTo.map((entry) => entry.address);
  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const headerSection = spool.headerText();
  if (countReceived(headerSection) > context.config.maxReceivedHeaders) {
    // RFC 5321 §6.3: too many Received fields means a mail loop.
    throw new SmtpReply(554, '5.4.6', 'Too many Received headers: mail loop detected');
  }
  // Forged copies of our own Authentication-Results go (RFC 8601 §5), cut out byte-exactly.
  const forged = await findForgedAuthenticationResults(spool.chunks(), context.hostname);
  if (forged.hiddenByBareCarriageReturn) throw new SmtpReply(550, '5.6.0', 'A forged Authentication-Results field is delimited by a bare CR (RFC 5322 §2.2)');
  if (forged.ranges.length > 0) context.log.warn('smtp.forged_authentication_results', { session: session.id, fields: forged.ranges.length });
  let authenticationHeaders = '';
  let junk = false;
  let proof: SenderProof | null = null;
  if (context.config.verifyAuthentication) {
    const verdict = await verifyAuthentication(Readable.from(spool.chunks()), {
      ip: session.remoteAddress,
      helo: String(session.hostNameAppearsAs || ''),
      sender,
      hostname: context.hostname,
      resolver: context.resolver,
    });
    context.log.info('smtp.authentication', { session: session.id, ...verdict.summary });
    if (verdict.dmarcReject) {
      if (context.config.dmarcReject === 'reject') throw new SmtpReply(550, '5.7.1', 'Message rejected by the sender domain\'s DMARC policy');
      junk = true;
    }
    authenticationHeaders = verdict.headers;
    proof = verdict;
  }
  if (context.config.refuseLocalDomainSpoofing) await checkLocalDomainClaims(context.store, sender, spool.head, proof);
  const top = `Return-Path: <${sender}>\r\n` + receivedHeader(session, context.hostname, recipients) + authenticationHeaders;
  const logins = await Promise.all(recipients.map(async (address) => (await resolveLocalRecipient(context.store, context.postmaster, address)) ?? ''));
  const source = async function* () {
    yield Buffer.from(top, 'latin1');
    yield* withoutRanges(spool.chunks(), forged.ranges);
  };
  const result = await deliverLocally(context.store, source(), logins.filter((login) => login !== ''), {
    mailbox: junk ? 'Junk' : undefined,
    maxSize: context.config.maxMessageSize + top.length + 64 * 1024,
    log: context.log,
    sessionId: session.id,
  });
  // Recipients that failed after RCPT said yes (quota filled meanwhile) get a DSN: the 250 below covers the others.
  await bounceFailedRecipients(context, session, recipients, logins, result.failed, headerSection);
  return `2.6.0 Message accepted for ${result.delivered.length} mailbox${result.delivered.length === 1 ? '' : 'es'} (${session.id})`;
}
