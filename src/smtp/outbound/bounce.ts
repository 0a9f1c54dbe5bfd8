// Sends a DSN for recipients that failed after the message was accepted: into
// the sender's INBOX when the sender is local, else through the outbound queue
// with the null sender (a bounce never bounces, RFC 5321 §4.5.5). Resolves once
// the DSN is durable.
import type { Logger } from '../../log.js';
import type { MailStore } from '../../store/types.js';
import { headerFields } from '../message-spool.js';
import { buildDeliveryStatusNotification, type FailedRecipient } from './delivery-status-notification.js';

export async function sendBounce(
  store: MailStore,
  options: { hostname: string; sender: string; arrivalDate: Date; failed: readonly FailedRecipient[]; header: string; expiresAt: Date; log: Logger; reference: Record<string, unknown> },
): Promise<void> {
  if (options.sender === '' || options.failed.length === 0) return;
  const originalHeader = headerFields(options.header).map((field) => field.raw).join('\r\n');
  const notification = buildDeliveryStatusNotification({ hostname: options.hostname, sender: options.sender, arrivalDate: options.arrivalDate, failed: options.failed, originalHeader });
  const login = await store.admin.resolveAddress(options.sender);
  if (login !== null) {
    const [outcome] = await store.deliver(notification, [{ login }]);
    if (outcome?.delivered) {
      options.log.info('smtp.bounced', { ...options.reference, to: options.sender, local: true });
      return;
    }
    // The sender's own mailbox refuses it (over quota, say): there is nowhere else to send it.
    options.log.warn('smtp.bounce_undeliverable', { ...options.reference, to: options.sender, error: outcome && !outcome.delivered ? outcome.error.message : 'unknown' });
    return;
  }
  await store.outbound.enqueue(notification, { sender: '', recipients: [options.sender] }, { expiresAt: options.expiresAt });
  options.log.info('smtp.bounced', { ...options.reference, to: options.sender, local: false });
}
