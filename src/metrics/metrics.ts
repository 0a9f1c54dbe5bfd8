// The process's Prometheus metrics, all in one registry and all named postkeep_*.
// Code that has something to count calls one small function here; the admin API's
// GET /metrics renders the registry. Label values come from fixed sets (unknown →
// "other") and never carry a login, an address or anything else from the wire, so
// the number of series stays bounded whatever clients send.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreHealth } from '../store/store-health.js';
import { observeStoreTimings } from '../store/store-timings.js';

export const metricsRegistry = new Registry();

// Process metrics (CPU, memory, file descriptors, GC) and the event-loop lag
// (postkeep_nodejs_eventloop_lag_seconds), measured by prom-client itself.
collectDefaultMetrics({ register: metricsRegistry, prefix: 'postkeep_' });

const connectionProtocols = new Set(['imap', 'smtp', 'admin_api']);

/** `value` when it is one of `known`, else "other": the one guard on every label. */
export function boundedLabel(value: unknown, known: ReadonlySet<string>): string {
  return typeof value === 'string' && known.has(value) ? value : 'other';
}

const connections = new Gauge({
  name: 'postkeep_connections',
  help: 'Connections open now, counted at accept (before TLS), by protocol',
  labelNames: ['protocol'],
  registers: [metricsRegistry],
});

export const connectionsRefused = new Counter({
  name: 'postkeep_connections_refused_total',
  help: 'Connections refused at accept, by protocol and reason (connection_limit, per_address_limit)',
  labelNames: ['protocol', 'reason'],
  registers: [metricsRegistry],
});

export function connectionOpened(protocol: string): void {
  connections.inc({ protocol: boundedLabel(protocol, connectionProtocols) });
}

export function connectionClosed(protocol: string): void {
  connections.dec({ protocol: boundedLabel(protocol, connectionProtocols) });
}

const imapCommands = new Counter({
  name: 'postkeep_imap_commands_total',
  help: 'IMAP commands answered, by command name and result (ok, no, bad)',
  labelNames: ['command', 'result'],
  registers: [metricsRegistry],
});

const imapCommandSeconds = new Histogram({
  name: 'postkeep_imap_command_duration_seconds',
  help: 'Time from a command being run to its tagged reply being ready, by command name',
  labelNames: ['command'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

/**
 * One IMAP command's tagged reply. `command` is a name from the server's own
 * command table, or null for one it does not know (counted as "other").
 */
export function imapCommandAnswered(command: string | null, status: 'OK' | 'NO' | 'BAD', seconds: number): void {
  const name = command !== null && /^[A-Z]{1,20}( [A-Z]{1,20})?$/.test(command) ? command.replace(' ', '_') : 'other';
  imapCommands.inc({ command: name, result: status.toLowerCase() });
  imapCommandSeconds.observe({ command: name }, seconds);
}

export const smtpDeliveries = new Counter({
  name: 'postkeep_smtp_deliveries_total',
  help: 'SMTP: local deliveries accepted (one per recipient), and refusals by reply code',
  labelNames: ['result', 'reason'],
  registers: [metricsRegistry],
});

export const logins = new Counter({
  name: 'postkeep_logins_total',
  help: 'Logins by protocol, result (success, failure, busy) and failure reason',
  labelNames: ['protocol', 'result', 'reason'],
  registers: [metricsRegistry],
});

export const integrityEvents = new Counter({
  name: 'postkeep_integrity_events_total',
  help: 'integrity.* events (a blob mismatch, a repair, a failed log fsync …), by kind',
  labelNames: ['kind'],
  registers: [metricsRegistry],
});

const commitSeconds = new Histogram({
  name: 'postkeep_store_commit_duration_seconds',
  help: 'One metadata transaction (a group commit) of the store',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

const commitWrites = new Counter({
  name: 'postkeep_store_committed_writes_total',
  help: 'Writes committed (several share one group commit)',
  registers: [metricsRegistry],
});

const logSyncSeconds = new Histogram({
  name: 'postkeep_store_log_sync_duration_seconds',
  help: 'One fsync of the store metadata log (what an acknowledgement waits for)',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry],
});

observeStoreTimings({
  committed(seconds, writes) {
    commitSeconds.observe(seconds);
    commitWrites.inc(writes);
  },
  logSynced(seconds) {
    logSyncSeconds.observe(seconds);
  },
});

const storeMessages = new Gauge({ name: 'postkeep_store_messages', help: 'Messages in all mailboxes', registers: [metricsRegistry] });
const storeBytes = new Gauge({ name: 'postkeep_store_bytes', help: 'Bytes stored: part="database" (metadata pages), part="blobs" (distinct message blobs)', labelNames: ['part'], registers: [metricsRegistry] });
const storeWritesRefused = new Gauge({ name: 'postkeep_store_writes_refused', help: '1 while the store refuses every write (after a failed log fsync, until a restart), else 0', registers: [metricsRegistry] });
const queueMessages = new Gauge({ name: 'postkeep_outbound_queue_messages', help: 'Outbound messages with a recipient still to be tried', registers: [metricsRegistry] });
const queueOldestSeconds = new Gauge({ name: 'postkeep_outbound_queue_oldest_age_seconds', help: 'Age of the oldest of those (0 when the queue is empty)', registers: [metricsRegistry] });

/** The registry as Prometheus text, with the store's figures read now. */
export async function renderMetrics(health: StoreHealth): Promise<{ contentType: string; text: string }> {
  storeMessages.set(health.messages);
  storeBytes.set({ part: 'database' }, health.databaseBytes);
  storeBytes.set({ part: 'blobs' }, health.blobBytes);
  storeWritesRefused.set(health.writesRefused === null ? 0 : 1);
  queueMessages.set(health.queuedMessages);
  queueOldestSeconds.set(health.oldestQueuedAt === null ? 0 : Math.max(0, (Date.now() - health.oldestQueuedAt.getTime()) / 1000));
  return { contentType: metricsRegistry.contentType, text: await metricsRegistry.metrics() };
}
