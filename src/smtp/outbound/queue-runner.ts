// Works the outbound queue: every due message, grouped by recipient domain, one
// attempt each; 4xx and unreachable hosts retry with exponential backoff until the
// message expires; 5xx and expiry bounce a DSN to the sender. The DSN is durable
// before the failure is recorded, so a crash between the two repeats the DSN at
// worst and never loses it.
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { MailStore, OutboundAttempt, OutboundMessage } from '../../store/types.js';
import type { DnsResolver } from '../dns-resolver.js';
import { headerSectionEnd } from '../header-section.js';
import { sendBounce } from './bounce.js';
import type { FailedRecipient } from './delivery-status-notification.js';
import { deliverToDomain } from './remote-delivery.js';

export interface QueueRunnerOptions {
  store: MailStore;
  log: Logger;
  hostname: string;
  resolver: DnsResolver;
  settings: Config['outbound'];
  /** How often to look for due messages without being woken (default 10 s). */
  pollMilliseconds?: number;
}

export class QueueRunner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<number>();
  /** A wake-up for the earliest retry, so a short backoff is not stretched to the poll interval. */
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: QueueRunnerOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollMilliseconds ?? 10_000);
    this.timer.unref();
    this.wake();
  }

  /** Runs a queue pass soon (now, or right after the one in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.track(this.pass(new Date()));
  }

  /** One pass now, after any pass in progress (passes never overlap). */
  async runOnce(now = new Date()): Promise<void> {
    await this.idle();
    await this.track(this.pass(now));
  }

  private track(pass: Promise<void>): Promise<void> {
    const running = pass
      .catch((error) => this.options.log.error('queue.run_failed', { error: String(error) }))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
    this.running = running;
    return running;
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.idle();
  }

  /** One pass over every due message, `concurrency` at a time. */
  private async pass(now: Date): Promise<void> {
    const due = (await this.options.store.outbound.due(now, 1000)).filter((message) => !this.inFlight.has(message.id));
    let next = 0;
    const worker = async () => {
      while (next < due.length && !this.stopped) {
        const message = due[next++]!;
        this.inFlight.add(message.id);
        try {
          await this.attempt(message, now);
        } catch (error) {
          this.options.log.error('queue.attempt_failed', { queueId: message.id, error: String(error) });
        } finally {
          this.inFlight.delete(message.id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.settings.concurrency, due.length) }, worker));
  }

  private async attempt(message: OutboundMessage, now: Date): Promise<void> {
    const { store, log, settings } = this.options;
    const queued = message.recipients.filter((recipient) => recipient.state === 'queued' && recipient.nextAttemptAt <= now);
    const byDomain = new Map<string, typeof queued>();
    for (const recipient of queued) byDomain.set(recipient.domain, [...(byDomain.get(recipient.domain) ?? []), recipient]);
    const attempts: OutboundAttempt[] = [];
    for (const [domain, recipients] of byDomain) {
      const results = await deliverToDomain(
        domain,
        { sender: message.sender, recipients: recipients.map((recipient) => recipient.address), size: message.size },
        () => store.outbound.open(message.id),
        { resolver: this.options.resolver, hostname: this.options.hostname, port: settings.port, timeoutMilliseconds: settings.timeoutSeconds * 1000 },
      );
      for (const result of results) {
        const recipient = recipients.find((entry) => entry.address === result.address)!;
        if (result.outcome === 'sent') {
          attempts.push({ address: result.address, outcome: 'sent' });
          log.info('queue.sent', { queueId: message.id, recipient: result.address });
        } else if (result.outcome === 'failed') {
          attempts.push({ address: result.address, outcome: 'failed', error: result.error });
        } else if (Date.now() >= message.expiresAt.getTime()) {
          attempts.push({ address: result.address, outcome: 'failed', error: `expired after ${settings.maxAgeHours} hours; last error: ${result.error}` });
        } else {
          const delay = Math.min(settings.retryBaseSeconds * 2 ** recipient.attempts, settings.retryMaxSeconds) * 1000;
          // The last try falls at the expiry at the latest, so the bounce is not late by a whole backoff step.
          const nextAttemptAt = new Date(Math.min(Date.now() + delay, message.expiresAt.getTime()));
          attempts.push({ address: result.address, outcome: 'deferred', error: result.error, nextAttemptAt });
          this.wakeIn(nextAttemptAt.getTime() - Date.now());
          log.info('queue.deferred', { queueId: message.id, recipient: result.address, error: result.error, retryInSeconds: delay / 1000 });
        }
      }
    }
    const failed: FailedRecipient[] = attempts.flatMap((entry) => (entry.outcome === 'failed' ? [{ address: entry.address, error: entry.error }] : []));
    for (const entry of failed) log.warn('queue.failed', { queueId: message.id, recipient: entry.address, error: entry.error });
    if (failed.length > 0 && message.sender !== '') await this.bounce(message, failed);
    await store.outbound.recordAttempt(message.id, attempts);
  }

  private retryAt = Infinity;

  private wakeIn(milliseconds: number): void {
    const at = Date.now() + milliseconds + 10;
    if (this.stopped || at >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = Infinity;
      this.wake();
    }, milliseconds + 10);
    this.retryTimer.unref();
  }

  private async bounce(message: OutboundMessage, failed: FailedRecipient[]): Promise<void> {
    const { store, log, hostname, settings } = this.options;
    // Only the header section goes back (text/rfc822-headers); stop reading at its end.
    let head = Buffer.alloc(0);
    try {
      const stream = await store.outbound.open(message.id);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        head = Buffer.concat([head, chunk]);
        // The header ends where the store's MIME parser says (header-section.ts), "\n\r\n" included.
        if (head.length >= 256 * 1024 || headerSectionEnd(head) !== null) break;
      }
      stream.destroy();
    } catch (error) {
      // A queued file that fails verification (or is gone) is never sent; the sender
      // still hears of the failure, without the headers, and the entry can end
      // instead of failing again on every pass.
      head = Buffer.alloc(0);
      log.error('queue.message_unreadable', { queueId: message.id, error: String(error) });
    }
    await sendBounce(store, {
      hostname,
      sender: message.sender,
      arrivalDate: message.createdAt,
      failed,
      header: head.toString('latin1'),
      expiresAt: new Date(Date.now() + settings.maxAgeHours * 3_600_000),
      log,
      reference: { queueId: message.id },
    });
  }
}
