// The store as the server, the CLI and the admin API hold it: the mail store every
// protocol uses, plus the integrity port audit, backup and scrub work through.
// Whichever engine open-store.ts chose, this is all the rest of the code sees.
import type { Inconsistency, IntegrityPort } from './integrity-port.js';
import type { StoreHealth } from './store-health.js';
import type { MailStore } from './types.js';

export interface ManagedStore extends MailStore {
  readonly integrity: IntegrityPort;
  /** Every stored derived value that disagrees with its recomputation (empty when all is well). */
  checkConsistency(): Promise<Inconsistency[]>;
  /** Whether writes are taken, and the store's size and outbound queue (readiness, metrics). */
  health(): Promise<StoreHealth>;
}
