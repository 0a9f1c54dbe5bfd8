// Typed errors: protocol code maps these to wire replies in one place each
// (IMAP NO/BAD, SMTP 4xx/5xx, a CLI message and a non-zero exit).

export class PostkeepError extends Error {
  /** A stable machine-readable name, e.g. "quota.exceeded". */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Stored bytes failed verification; they are never served. */
export class IntegrityError extends PostkeepError {
  constructor(message: string, readonly blobHash: string) {
    super('integrity.blob_mismatch', message);
  }
}

/**
 * A message record failed its own checksum (edited behind the store's back): it is
 * withheld, and a command that would act on it (COPY, MOVE) is refused whole.
 */
export class RecordWithheld extends PostkeepError {
  constructor(message: string, readonly uids: readonly number[]) {
    super('integrity.record_mismatch', message);
  }
}

export class QuotaExceeded extends PostkeepError {
  constructor(message: string, readonly resource: 'storage' | 'messages') {
    super('quota.exceeded', message);
  }
}

export class NotFound extends PostkeepError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class AlreadyExists extends PostkeepError {
  constructor(message: string) {
    super('already_exists', message);
  }
}

/** The request itself is wrong (a bad name, a bad argument). */
export class InvalidInput extends PostkeepError {
  constructor(message: string) {
    super('invalid_input', message);
  }
}

export class ConfigError extends PostkeepError {
  constructor(message: string) {
    super('config.invalid', message);
  }
}

/** The database was written by a newer Postkeep; refusing is the only safe move. */
export class SchemaTooNew extends PostkeepError {
  constructor(message: string) {
    super('schema.too_new', message);
  }
}

/** The message is over a size limit (IMAP APPENDLIMIT, SMTP SIZE). */
export class MessageTooLarge extends PostkeepError {
  constructor(readonly limit: number) {
    super('message.too_large', `message larger than the limit of ${limit} bytes`);
  }
}

/** The SQLite file itself is damaged (integrity_check fails, or it cannot be read): only a backup helps. */
export class DatabaseDamaged extends PostkeepError {
  constructor(message: string) {
    super('integrity.database_damaged', message);
  }
}

/**
 * The store can no longer make writes durable (an fsync of its log failed): it
 * refuses every write until the server is restarted, and acknowledges none.
 */
export class StoreUnavailable extends PostkeepError {
  constructor(message: string) {
    super('store.unavailable', message);
  }
}

/**
 * Too many password checks are running or waiting (auth/hash-limiter.ts): a
 * temporary refusal that says nothing about the credentials; the client may retry.
 */
export class PasswordCheckBusy extends PostkeepError {
  constructor() {
    super('auth.busy', 'too many logins are being checked at once; try again shortly');
  }
}

/** A command other than `init`/`start` was pointed at a folder that holds no store. */
export class StoreMissing extends PostkeepError {
  constructor(readonly dataDir: string) {
    super(
      'store.missing',
      `there is no Postkeep store in ${dataDir} (check dataDir in the config or POSTKEEP_DATA; ` +
        '`postkeep init` makes a new one, as does `postkeep start`)',
    );
  }
}
