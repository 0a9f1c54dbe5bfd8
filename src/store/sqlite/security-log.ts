// The security log's SQL. Appends run in their own IMMEDIATE transaction (not the
// group commit): taking the write lock before reading the last entry means a
// server and a CLI command appending at the same moment still build one chain.
import { entryHash, genesisHash } from '../../security-log/entry-hash.js';
import type { SecurityLogDraft, SecurityLogEntry, SecurityLogQuery } from '../types.js';
import type { StoreContext } from './context.js';

/** A security_log row as stored (tests that tamper with the chain read it too). */
export interface SecurityLogRow {
  sequence: number;
  time: number;
  event: string;
  login: string | null;
  fields: string;
  previous_hash: string;
  hash: string;
}

function fromRow(row: SecurityLogRow): SecurityLogEntry {
  return { sequence: row.sequence, time: row.time, event: row.event, login: row.login, fields: row.fields, previousHash: row.previous_hash, hash: row.hash };
}

export function appendSecurityLog(context: StoreContext, drafts: readonly SecurityLogDraft[]): SecurityLogEntry[] {
  if (drafts.length === 0) return [];
  const { ledger } = context;
  return context.db
    .transaction(() => {
      const last = ledger.sql('SELECT sequence, hash FROM security_log ORDER BY sequence DESC LIMIT 1').get() as { sequence: number; hash: string } | undefined;
      let sequence = last?.sequence ?? 0;
      let previousHash = last?.hash ?? genesisHash;
      const insert = ledger.sql('INSERT INTO security_log (sequence, time, event, login, fields, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const entries: SecurityLogEntry[] = [];
      for (const draft of drafts) {
        sequence++;
        const hash = entryHash({ ...draft, sequence, previousHash });
        insert.run(sequence, draft.time, draft.event, draft.login, draft.fields, previousHash, hash);
        entries.push({ ...draft, sequence, previousHash, hash });
        previousHash = hash;
      }
      return entries;
    })
    .immediate();
}

export function readSecurityLog(context: StoreContext, query: SecurityLogQuery): SecurityLogEntry[] {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  if (query.afterSequence !== undefined) {
    conditions.push('sequence > ?');
    parameters.push(query.afterSequence);
  }
  if (query.login !== undefined) {
    conditions.push('login = ?');
    parameters.push(query.login.trim().toLowerCase());
  }
  if (query.eventPrefixes && query.eventPrefixes.length > 0) {
    // substr instead of LIKE: event names may contain `_`, which LIKE treats as a wildcard.
    conditions.push(`(${query.eventPrefixes.map(() => 'substr(event, 1, ?) = ?').join(' OR ')})`);
    for (const prefix of query.eventPrefixes) parameters.push(prefix.length, prefix);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const order = query.newestFirst ? 'DESC' : 'ASC';
  const rows = context.ledger.sql(`SELECT * FROM security_log ${where} ORDER BY sequence ${order} LIMIT ?`).all(...parameters, query.limit) as SecurityLogRow[];
  return rows.map(fromRow);
}
