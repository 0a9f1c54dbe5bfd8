// The outbound queue and the DKIM keys, kept in the same SQLite database and
// group commit as the mailboxes. A queued message's bytes are a file under
// <dataDir>/queue named by their SHA-256 (written, fsynced, renamed, directory
// fsynced in the same commit as its rows), so mailbox garbage collection and the
// mailbox blob audit never see them, and every read is verified.
import type { Readable } from 'node:stream';
import { InvalidInput } from '../../errors.js';
import type { FileBlobStore } from '../blobs/file-blob-store.js';
import type { DkimKey, DkimKeyStore, MessageSource, OutboundAttempt, OutboundMessage, OutboundQueue, OutboundRecipientState } from '../types.js';
import type { StoreContext } from './context.js';

interface MessageRow {
  id: number;
  blob_hash: string;
  size: number;
  sender: string;
  created_at: number;
  expires_at: number;
}

interface RecipientRow {
  id: number;
  message_id: number;
  address: string;
  domain: string;
  state: OutboundRecipientState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

export { queueDirectoryName } from '../data-folder.js';

export class SqliteOutboundQueue implements OutboundQueue {
  /** Files being written right now: a concurrent remove() must leave them. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly context: StoreContext,
    private readonly files: FileBlobStore,
  ) {}

  private get ledger() {
    return this.context.ledger;
  }

  async enqueue(source: MessageSource, envelope: { sender: string; recipients: readonly string[] }, options: { expiresAt: Date; maxSize?: number }): Promise<OutboundMessage> {
    const recipients = [...new Set(envelope.recipients.map((address) => address.trim()))];
    if (recipients.length === 0) throw new InvalidInput('a queued message needs at least one recipient');
    for (const address of recipients) if (domainOf(address) === '') throw new InvalidInput(`not an address with a domain: ${JSON.stringify(address)}`);
    const expiresAt = options.expiresAt.getTime();
    if (!Number.isFinite(expiresAt)) throw new InvalidInput('the expiry is not a valid date');
    const written = await this.files.write(source, undefined, options.maxSize);
    this.hold(written.hash, 1);
    try {
      const id = await this.context.write(() => {
        const now = Date.now();
        const row = this.ledger
          .sql('INSERT INTO outbound_messages (blob_hash, size, sender, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id')
          .get(written.hash, written.size, envelope.sender, now, expiresAt) as { id: number };
        const insert = this.ledger.sql("INSERT INTO outbound_recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)");
        for (const address of recipients) insert.run(row.id, address, domainOf(address), now, now);
        return row.id;
      }, written.directoryToSync ? [written.directoryToSync] : []);
      return (await this.get(id))!;
    } catch (error) {
      await this.removeFileIfUnused(written.hash);
      throw error;
    } finally {
      this.hold(written.hash, -1);
    }
  }

  async due(now: Date, limit: number): Promise<OutboundMessage[]> {
    const rows = this.ledger
      .sql(
        `SELECT * FROM outbound_messages WHERE id IN (
           SELECT message_id FROM outbound_recipients WHERE state = 'queued' AND next_attempt_at <= ?)
         ORDER BY id LIMIT ?`,
      )
      .all(now.getTime(), limit) as MessageRow[];
    return rows.map((row) => this.toMessage(row));
  }

  async get(id: number): Promise<OutboundMessage | null> {
    const row = this.ledger.sql('SELECT * FROM outbound_messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row ? this.toMessage(row) : null;
  }

  async list(): Promise<OutboundMessage[]> {
    return (this.ledger.sql('SELECT * FROM outbound_messages ORDER BY id').all() as MessageRow[]).map((row) => this.toMessage(row));
  }

  async open(id: number): Promise<Readable> {
    const row = this.ledger.sql('SELECT blob_hash FROM outbound_messages WHERE id = ?').get(id) as { blob_hash: string } | undefined;
    if (!row) throw new InvalidInput(`there is no queued message ${id}`);
    return this.files.open(row.blob_hash);
  }

  async recordAttempt(id: number, attempts: readonly OutboundAttempt[]): Promise<void> {
    const finished = await this.context.write(() => {
      const now = Date.now();
      const update = this.ledger.sql(
        "UPDATE outbound_recipients SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE message_id = ? AND address = ? AND state = 'queued'",
      );
      for (const attempt of attempts) {
        if (attempt.outcome === 'sent') update.run('sent', now, null, now, id, attempt.address);
        else if (attempt.outcome === 'failed') update.run('failed', now, attempt.error, now, id, attempt.address);
        else update.run('queued', attempt.nextAttemptAt.getTime(), attempt.error, now, id, attempt.address);
      }
      return this.dropIfFinished(id);
    });
    if (finished) await this.removeFileIfUnused(finished);
  }

  async retry(id?: number): Promise<number> {
    return this.context.write(() => {
      const now = Date.now();
      const result =
        id === undefined
          ? this.ledger.sql("UPDATE outbound_recipients SET next_attempt_at = ?, updated_at = ? WHERE state = 'queued'").run(now, now)
          : this.ledger.sql("UPDATE outbound_recipients SET next_attempt_at = ?, updated_at = ? WHERE state = 'queued' AND message_id = ?").run(now, now, id);
      return result.changes;
    });
  }

  async remove(id: number): Promise<boolean> {
    const hash = await this.context.write(() => {
      const row = this.ledger.sql('DELETE FROM outbound_messages WHERE id = ? RETURNING blob_hash').get(id) as { blob_hash: string } | undefined;
      return row?.blob_hash ?? null;
    });
    if (hash === null) return false;
    await this.removeFileIfUnused(hash);
    return true;
  }

  /** Inside a transaction: a message with no queued recipient left is done; its rows go. */
  private dropIfFinished(id: number): string | null {
    const left = this.ledger.sql("SELECT count(*) AS n FROM outbound_recipients WHERE message_id = ? AND state = 'queued'").get(id) as { n: number };
    if (left.n > 0) return null;
    const row = this.ledger.sql('DELETE FROM outbound_messages WHERE id = ? RETURNING blob_hash').get(id) as { blob_hash: string } | undefined;
    return row?.blob_hash ?? null;
  }

  /** The file goes only after its last row is durably gone, and never while a writer of the same bytes is in flight. */
  private async removeFileIfUnused(hash: string): Promise<void> {
    if ((this.inFlight.get(hash) ?? 0) > 0) return;
    if (this.ledger.sql('SELECT 1 FROM outbound_messages WHERE blob_hash = ?').get(hash)) return;
    await this.files.remove(hash);
  }

  private hold(hash: string, delta: number): void {
    const count = (this.inFlight.get(hash) ?? 0) + delta;
    if (count <= 0) this.inFlight.delete(hash);
    else this.inFlight.set(hash, count);
  }

  private toMessage(row: MessageRow): OutboundMessage {
    const recipients = this.ledger.sql('SELECT * FROM outbound_recipients WHERE message_id = ? ORDER BY id').all(row.id) as RecipientRow[];
    return {
      id: row.id,
      sender: row.sender,
      size: row.size,
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
      recipients: recipients.map((recipient) => ({
        address: recipient.address,
        domain: recipient.domain,
        state: recipient.state,
        attempts: recipient.attempts,
        nextAttemptAt: new Date(recipient.next_attempt_at),
        lastError: recipient.last_error,
      })),
    };
  }
}

export class SqliteDkimKeyStore implements DkimKeyStore {
  constructor(private readonly context: StoreContext) {}

  async get(domain: string): Promise<DkimKey | null> {
    const row = this.context.ledger.sql('SELECT domain, selector, private_key FROM dkim_keys WHERE domain = ?').get(domain.trim().toLowerCase()) as
      | { domain: string; selector: string; private_key: string }
      | undefined;
    return row ? { domain: row.domain, selector: row.selector, privateKey: row.private_key } : null;
  }

  async set(key: DkimKey): Promise<void> {
    const domain = key.domain.trim().toLowerCase();
    // RFC 6376 §3.1: a selector is dot-separated sub-domain labels.
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(key.selector)) throw new InvalidInput(`not a valid DKIM selector: ${JSON.stringify(key.selector)}`);
    await this.context.write(() => {
      this.context.ledger
        .sql('INSERT INTO dkim_keys (domain, selector, private_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET selector = excluded.selector, private_key = excluded.private_key, created_at = excluded.created_at')
        .run(domain, key.selector, key.privateKey, Date.now());
    });
  }

  async list(): Promise<DkimKey[]> {
    return (this.context.ledger.sql('SELECT domain, selector, private_key FROM dkim_keys ORDER BY domain').all() as { domain: string; selector: string; private_key: string }[]).map((row) => ({
      domain: row.domain,
      selector: row.selector,
      privateKey: row.private_key,
    }));
  }
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}
