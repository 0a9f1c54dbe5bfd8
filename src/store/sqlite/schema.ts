// The SQLite schema, as an ordered list of migrations. PRAGMA user_version holds
// how many have been applied. Never edit a released migration: add the next one.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'domains, accounts, mailboxes, messages, blobs, change log, retained expunges',
    sql: `
      CREATE TABLE domains (
        name TEXT PRIMARY KEY COLLATE NOCASE
      ) STRICT;

      CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        quota_bytes INTEGER,
        quota_messages INTEGER,
        used_bytes INTEGER NOT NULL DEFAULT 0,
        used_messages INTEGER NOT NULL DEFAULT 0,
        -- Invariant 4: every mutation of the account takes the next value.
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        last_uidvalidity INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Primary addresses and aliases both deliver to an account.
      CREATE TABLE addresses (
        address TEXT PRIMARY KEY COLLATE NOCASE,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('primary', 'alias'))
      ) STRICT;
      CREATE INDEX addresses_account ON addresses(account_id);

      CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        object_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        special_use TEXT,
        uidvalidity INTEGER NOT NULL,
        uidnext INTEGER NOT NULL DEFAULT 1,
        highest_modseq INTEGER NOT NULL DEFAULT 1,
        message_count INTEGER NOT NULL DEFAULT 0,
        total_size INTEGER NOT NULL DEFAULT 0,
        digest TEXT NOT NULL,
        UNIQUE (account_id, name)
      ) STRICT;

      -- Kept apart from mailboxes: RFC 9051 §6.3.7 lets a client subscribe to a name
      -- that does not exist (any more), and deleting a mailbox must not unsubscribe it.
      CREATE TABLE subscriptions (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (account_id, name)
      ) STRICT, WITHOUT ROWID;

      -- One row per stored content; refcount counts message rows and retained expunges.
      CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        refcount INTEGER NOT NULL,
        structure TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX blobs_unreferenced ON blobs(refcount) WHERE refcount = 0;

      CREATE TABLE messages (
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        uid INTEGER NOT NULL,
        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
        size INTEGER NOT NULL,
        internal_date INTEGER NOT NULL,
        save_date INTEGER NOT NULL,
        flags TEXT NOT NULL,
        modseq INTEGER NOT NULL,
        email_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        checksum TEXT NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

      CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        modseq INTEGER NOT NULL,
        mailbox_object_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        uid INTEGER
      ) STRICT;
      CREATE INDEX changes_account_modseq ON changes(account_id, modseq);
      CREATE INDEX changes_mailbox_modseq ON changes(mailbox_object_id, modseq);

      -- Expunged messages kept for the retention window, so undelete can bring them back.
      CREATE TABLE expunged (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        mailbox_object_id TEXT NOT NULL,
        mailbox_name TEXT NOT NULL,
        uid INTEGER NOT NULL,
        blob_hash TEXT NOT NULL REFERENCES blobs(hash),
        size INTEGER NOT NULL,
        internal_date INTEGER NOT NULL,
        flags TEXT NOT NULL,
        email_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        expunged_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX expunged_account ON expunged(account_id, expunged_at);
      CREATE INDEX expunged_age ON expunged(expunged_at);

      -- Message-ID → THREADID, so replies join their thread (RFC 8474 §5.2).
      CREATE TABLE thread_references (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        PRIMARY KEY (account_id, message_id)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'outbound queue (messages, recipients) and DKIM signing keys',
    sql: `
      -- A message waiting to leave: its bytes are a file in <dataDir>/queue named by
      -- SHA-256, apart from the mailbox blobs so mailbox garbage collection never sees it.
      CREATE TABLE outbound_messages (
        id INTEGER PRIMARY KEY,
        blob_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        -- The envelope sender; empty for the null sender <> (a DSN never bounces).
        sender TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbound_messages_blob ON outbound_messages(blob_hash);

      CREATE TABLE outbound_recipients (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES outbound_messages(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        domain TEXT NOT NULL COLLATE NOCASE,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbound_recipients_message ON outbound_recipients(message_id);
      CREATE INDEX outbound_recipients_due ON outbound_recipients(next_attempt_at) WHERE state = 'queued';

      CREATE TABLE dkim_keys (
        domain TEXT PRIMARY KEY COLLATE NOCASE,
        selector TEXT NOT NULL,
        private_key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    description: 'app passwords, TOTP second factor, recovery codes, known login sources, admin tokens, security log',
    sql: `
      -- Administrators may use the admin API with password + TOTP.
      ALTER TABLE accounts ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;

      -- A generated password per device, limited to the protocols in scopes.
      CREATE TABLE app_passwords (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        -- Comma-separated protocol names, e.g. 'imap,smtp'.
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        last_used_address TEXT,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX app_passwords_account ON app_passwords(account_id);

      -- TOTP (RFC 6238). enabled_at stays NULL until enrolment is confirmed with a
      -- valid code; last_used_step refuses a code that was already used once.
      CREATE TABLE second_factors (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        totp_secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        enabled_at INTEGER,
        last_used_step INTEGER
      ) STRICT;

      CREATE TABLE recovery_codes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX recovery_codes_account ON recovery_codes(account_id);

      -- Addresses an account has logged in from: brute-force pacing spares them, so
      -- an attacker elsewhere cannot lock the owner out.
      CREATE TABLE known_login_sources (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        last_success_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, address)
      ) STRICT, WITHOUT ROWID;

      -- Tokens for the admin API; only a SHA-256 of each is kept.
      CREATE TABLE admin_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      ) STRICT;

      -- Tamper-evident: each entry's hash covers its fields and the previous entry's
      -- hash, so an edited, deleted or reordered entry breaks the chain. The login is
      -- text, not a reference, so the history outlives a deleted account.
      CREATE TABLE security_log (
        sequence INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        event TEXT NOT NULL,
        login TEXT,
        fields TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT;
      CREATE INDEX security_log_login ON security_log(login, sequence);
    `,
  },
  {
    version: 4,
    description: "a checksum over each blob row's derived values (structure, size)",
    sql: `
      -- SHA-256 over the blob hash, size and stored structure text (structure-checksum.ts),
      -- checked on every read. NULL marks a row written before this column existed: it
      -- is not computed here from the stored structure (that could bless a corrupt one)
      -- but proven by re-parsing the verified blob, on its first read or by audit.
      ALTER TABLE blobs ADD COLUMN structure_checksum TEXT;
    `,
  },
  {
    version: 5,
    description: 'blob rows deleted by garbage collection whose files are still to be removed',
    sql: `
      -- Written in the transaction that deletes a blob row, removed once its file is gone.
      -- A blob file that neither a blobs row nor this table names was never released by
      -- the store: evidence of lost records, which audit reports and GC never removes.
      CREATE TABLE collected_blobs (
        hash TEXT PRIMARY KEY,
        collected_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
];

export const latestVersion = migrations[migrations.length - 1]!.version;
