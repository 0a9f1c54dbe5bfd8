// The bounce (RFC 3464 delivery status notification, in an RFC 6522
// multipart/report) sent back to the envelope sender when recipients fail for
// good or expire. It carries only the original's header section (RFC 3462
// text/rfc822-headers), so a bounce is never larger than a few KB.
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../received-header.js';

export interface FailedRecipient {
  address: string;
  /** The remote reply or the reason, e.g. "550 5.1.1 No such user". */
  error: string;
}

function statusOf(error: string): string {
  const match = /\b([45])\.(\d{1,3})\.(\d{1,3})\b/.exec(error);
  if (match) return `5.${match[2]}.${match[3]}`;
  return /^expired/i.test(error) ? '4.4.7' : '5.0.0';
}

/** One header line's worth of text: no CR/LF, no other control characters. */
function line(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 900);
}

export function buildDeliveryStatusNotification(options: {
  hostname: string;
  sender: string;
  arrivalDate: Date;
  failed: readonly FailedRecipient[];
  originalHeader: string;
  now?: Date;
}): Buffer {
  const now = options.now ?? new Date();
  const boundary = `postkeep-dsn-${randomBytes(12).toString('hex')}`;
  const recipients = options.failed
    .map((entry) =>
      [
        `Final-Recipient: rfc822; ${line(entry.address)}`,
        'Action: failed',
        `Status: ${statusOf(entry.error)}`,
        `Diagnostic-Code: smtp; ${line(entry.error)}`,
        `Last-Attempt-Date: ${rfc5322Date(now)}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const human = [
    `This is the mail system at ${options.hostname}.`,
    '',
    'Your message could not be delivered to the following recipients:',
    '',
    ...options.failed.map((entry) => `  <${line(entry.address)}>: ${line(entry.error)}`),
    '',
  ].join('\r\n');
  const header = options.originalHeader.replace(/\r?\n/g, '\r\n').replace(/(\r\n)*$/, '\r\n');
  return Buffer.from(
    [
      `From: Mail Delivery System <MAILER-DAEMON@${options.hostname}>`,
      `To: <${line(options.sender)}>`,
      'Subject: Undelivered Mail Returned to Sender',
      `Date: ${rfc5322Date(now)}`,
      `Message-ID: <${randomBytes(12).toString('hex')}@${options.hostname}>`,
      // RFC 3834 §5: an automatic reply; nobody should answer it automatically.
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      human,
      `--${boundary}`,
      'Content-Type: message/delivery-status',
      '',
      `Reporting-MTA: dns; ${options.hostname}`,
      `Arrival-Date: ${rfc5322Date(options.arrivalDate)}`,
      '',
      recipients,
      '',
      `--${boundary}`,
      'Content-Type: text/rfc822-headers',
      '',
      header,
      `--${boundary}--`,
      '',
    ].join('\r\n'),
    'utf8',
  );
}
