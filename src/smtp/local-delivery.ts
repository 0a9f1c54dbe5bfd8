// Local delivery after DATA: one blob for every local recipient, each in its
// INBOX (or Junk), durable before the caller answers 250.
import { MessageTooLarge, QuotaExceeded } from '../errors.js';
import type { Logger } from '../log.js';
import type { DeliveryOutcome, MailStore, MessageSource } from '../store/types.js';
import type { SMTPServerSession } from 'smtp-server';
import { sendBounce } from './outbound/bounce.js';
import type { SmtpContext } from './smtp-context.js';
import { SmtpReply, storageFailureReply } from './smtp-reply.js';

export async function deliverLocally(
  store: MailStore,
  source: MessageSource,
  logins: readonly string[],
  options: { mailbox?: string; maxSize: number; log: Logger; sessionId: string },
): Promise<{ delivered: string[]; failed: { login: string; error: Error }[] }> {
  const unique = [...new Set(logins)];
  let outcomes: DeliveryOutcome[];
  try {
    outcomes = await store.deliver(source, unique.map((login) => ({ login, mailbox: options.mailbox })), { maxSize: options.maxSize });
  } catch (error) {
    throw replyFor(error as Error);
  }
  const delivered = outcomes.filter((outcome) => outcome.delivered).map((outcome) => outcome.login);
  const failed = outcomes.flatMap((outcome) => (outcome.delivered ? [] : [{ login: outcome.login, error: outcome.error }]));
  for (const outcome of outcomes) {
    if (outcome.delivered) options.log.info('smtp.delivered', { session: options.sessionId, login: outcome.login, mailboxId: outcome.mailboxId, uid: outcome.uid, size: outcome.size, blobHash: outcome.blobHash });
    else options.log.warn('smtp.delivery_failed', { session: options.sessionId, login: outcome.login, error: outcome.error.message });
  }
  if (delivered.length === 0 && failed.length > 0) throw replyFor(failed[0]!.error);
  return { delivered, failed };
}

/** The one place a store error becomes an SMTP reply after DATA. */
export function replyFor(error: Error): SmtpReply {
  if (error instanceof SmtpReply) return error;
  if (error instanceof QuotaExceeded) return new SmtpReply(452, '4.2.2', 'Mailbox full, try again later');
  if (error instanceof MessageTooLarge) return new SmtpReply(552, '5.3.4', 'Message too big');
  return storageFailureReply(error) ?? new SmtpReply(451, '4.3.0', 'Local error in processing, try again later', { cause: error });
}

/** A DSN to the envelope sender for the recipients (addresses, by their logins) whose local delivery failed after DATA. */
export async function bounceFailedRecipients(
  context: SmtpContext,
  session: SMTPServerSession,
  addresses: readonly string[],
  logins: readonly string[],
  failed: readonly { login: string; error: Error }[],
  headerSection: string,
): Promise<void> {
  if (failed.length === 0) return;
  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const entries = failed.flatMap((failure) =>
    addresses.filter((_, index) => logins[index]?.toLowerCase() === failure.login.toLowerCase()).map((address) => ({ address, error: `${replyFor(failure.error).responseCode} ${replyFor(failure.error).message}` })),
  );
  try {
    await sendBounce(context.store, {
      hostname: context.hostname,
      sender,
      arrivalDate: new Date(),
      failed: entries,
      header: headerSection,
      expiresAt: new Date(Date.now() + context.outbound.maxAgeHours * 3_600_000),
      log: context.log,
      reference: { session: session.id },
    });
    context.queued();
  } catch (error) {
    context.log.error('smtp.bounce_failed', { session: session.id, error: String(error) });
  }
}
