// The certificate and key in service, shared by every TLS listener. A new pair
// (SIGHUP, or the files changed on disk) is read, checked and swapped in for new
// connections; open connections keep the context they were made with. A pair that
// fails a check is refused with `tls.reload_failed` and the old one stays.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { PostkeepError } from '../errors.js';
import type { Logger } from '../log.js';
import { tlsPolicy } from './tls-policy.js';

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** SHA-256 of the leaf certificate (DER), colon-separated hex, as X509Certificate and tls report it. */
  fingerprint256: string;
  validFrom: Date;
  validTo: Date;
}

export type RefusalReason = 'unreadable' | 'bad-certificate' | 'bad-key' | 'key-mismatch' | 'expired' | 'not-yet-valid' | 'rejected-by-tls';

/** A certificate/key pair that cannot be put into service, with the reason. */
export class CertificateRefused extends PostkeepError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(`tls.${reason}`, message);
  }
}

/** Warn this many days before the certificate expires. */
export const expiryWarningDays = 14;

/**
 * Checks a pair: the certificate parses (the first PEM block is the leaf), the key
 * parses and belongs to it, it is valid now, and OpenSSL accepts both under the
 * policy. Returns the leaf's details or throws CertificateRefused.
 */
export function checkCertificatePair(pair: CertificatePair, options: { now?: Date; ignoreValidityPeriod?: boolean } = {}): { info: CertificateInfo; context: tls.SecureContext } {
  const now = options.now ?? new Date();
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.cert);
  } catch (error) {
    throw new CertificateRefused('bad-certificate', `the certificate does not parse as PEM X.509: ${(error as Error).message}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    throw new CertificateRefused('bad-key', `the private key does not parse (an encrypted key is not supported): ${(error as Error).message}`);
  }
  if (!certificate.checkPrivateKey(key)) throw new CertificateRefused('key-mismatch', 'the private key does not belong to the certificate');
  const info: CertificateInfo = {
    subject: certificate.subject,
    issuer: certificate.issuer,
    fingerprint256: certificate.fingerprint256,
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
  };
  if (!options.ignoreValidityPeriod && info.validTo.getTime() <= now.getTime()) throw new CertificateRefused('expired', `the certificate expired on ${info.validTo.toISOString()}`);
  if (!options.ignoreValidityPeriod && info.validFrom.getTime() > now.getTime()) throw new CertificateRefused('not-yet-valid', `the certificate is valid only from ${info.validFrom.toISOString()}`);
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ ...tlsPolicy(), ...pair });
  } catch (error) {
    // E.g. a key too small for OpenSSL's security level.
    throw new CertificateRefused('rejected-by-tls', `OpenSSL refused the pair: ${(error as Error).message}`);
  }
  return { info, context };
}

function readPair(files: { certFile: string; keyFile: string }): CertificatePair {
  const read = (file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new CertificateRefused('unreadable', `cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read(files.certFile), key: read(files.keyFile) };
}

function digestOf(pair: CertificatePair): string {
  return createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
}

export type ReloadTrigger = 'signal' | 'file-change' | 'request';

export interface WatchOptions {
  /** Wait this long after the last change before reading (a renewal writes two files). */
  debounceMilliseconds?: number;
  /** stat() polling as well as fs.watch, for symlink targets and file systems without events. */
  pollMilliseconds?: number;
}

export class TlsCredentials {
  private pair: CertificatePair;
  private digest: string;
  private context: tls.SecureContext;
  private details: CertificateInfo;
  private readonly listeners = new Set<(credentials: TlsCredentials) => void>();
  private reloading: Promise<boolean> = Promise.resolve(true);
  private stopWatching: (() => void) | null = null;

  private constructor(
    readonly files: { certFile: string; keyFile: string },
    private readonly log: Logger,
    pair: CertificatePair,
    checked: { info: CertificateInfo; context: tls.SecureContext },
  ) {
    this.pair = pair;
    this.digest = digestOf(pair);
    this.context = checked.context;
    this.details = checked.info;
  }

  /**
   * Reads and checks the pair in the files; an unusable pair is an error (the
   * server does not start). An expired one is served with an error logged: MX
   * peers rarely verify certificates, and mail that arrives beats mail that bounces.
   */
  static load(files: { certFile: string; keyFile: string }, log: Logger): TlsCredentials {
    const pair = readPair(files);
    const credentials = new TlsCredentials(files, log, pair, checkCertificatePair(pair, { ignoreValidityPeriod: true }));
    credentials.warnIfExpiring();
    return credentials;
  }

  /** The certificate in service. */
  get certificate(): CertificateInfo {
    return this.details;
  }

  /** The current context: what a STARTTLS upgrade (a TLSSocket made by hand) takes. */
  secureContext(): tls.SecureContext {
    return this.context;
  }

  /** Policy plus the current pair: for tls.createServer / https.createServer / setSecureContext / smtp-server. */
  contextOptions(): tls.SecureContextOptions & { honorCipherOrder: boolean } {
    return { ...tlsPolicy(), cert: this.pair.cert, key: this.pair.key };
  }

  /** Runs `listener` after every successful swap; returns a function that unsubscribes. */
  onChange(listener: (credentials: TlsCredentials) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Keeps a tls.Server (IMAP 993, the admin HTTPS listener) on the current pair. */
  follow(server: tls.Server): () => void {
    return this.onChange((credentials) => server.setSecureContext(credentials.contextOptions()));
  }

  /**
   * Reads the files again and, if the pair passes every check, puts it into
   * service. Resolves true when the pair in service is the one on disk.
   */
  reload(trigger: ReloadTrigger): Promise<boolean> {
    // One at a time: a signal during a file-change reload waits for it.
    this.reloading = this.reloading.then(() => this.reloadNow(trigger));
    return this.reloading;
  }

  private reloadNow(trigger: ReloadTrigger): boolean {
    const fields = { trigger, certFile: this.files.certFile, keyFile: this.files.keyFile };
    let pair: CertificatePair;
    let checked: { info: CertificateInfo; context: tls.SecureContext };
    try {
      pair = readPair(this.files);
      const digest = digestOf(pair);
      // Watchers also fire for touches and permission changes: same bytes, nothing to do.
      if (digest === this.digest && trigger === 'file-change') return true;
      checked = checkCertificatePair(pair);
    } catch (error) {
      const reason = error instanceof CertificateRefused ? error.reason : 'unreadable';
      this.log.error('tls.reload_failed', { ...fields, reason, message: (error as Error).message, keptFingerprint: this.details.fingerprint256, keptValidTo: this.details.validTo.toISOString() });
      return false;
    }
    const previous = this.details.fingerprint256;
    this.pair = pair;
    this.digest = digestOf(pair);
    this.context = checked.context;
    this.details = checked.info;
    for (const listener of this.listeners) {
      try {
        listener(this);
      } catch (error) {
        this.log.error('tls.apply_failed', { ...fields, error: String(error) });
      }
    }
    this.log.info('tls.reloaded', { ...fields, fingerprint: checked.info.fingerprint256, previousFingerprint: previous, changed: previous !== checked.info.fingerprint256, validTo: checked.info.validTo.toISOString() });
    this.warnIfExpiring();
    return true;
  }

  /** Logs `tls.certificate_expiring` when the certificate in service ends within expiryWarningDays. */
  warnIfExpiring(now = new Date()): void {
    const daysLeft = (this.details.validTo.getTime() - now.getTime()) / 86_400_000;
    if (daysLeft <= 0 || this.details.validFrom.getTime() > now.getTime()) {
      this.log.error('tls.certificate_invalid_now', { certFile: this.files.certFile, fingerprint: this.details.fingerprint256, validFrom: this.details.validFrom.toISOString(), validTo: this.details.validTo.toISOString() });
    } else if (daysLeft < expiryWarningDays) {
      this.log.warn('tls.certificate_expiring', { certFile: this.files.certFile, fingerprint: this.details.fingerprint256, validTo: this.details.validTo.toISOString(), daysLeft: Math.floor(daysLeft) });
    }
  }

  /**
   * Reloads when either file changes: fs.watch on their folders (catches a new
   * file renamed into place, and certbot's symlink swap in live/) plus stat()
   * polling (catches a symlink's target changing elsewhere). Also re-checks the
   * expiry twice a day so the warning keeps coming.
   */
  watch(options: WatchOptions = {}): void {
    if (this.stopWatching) return;
    const debounce = options.debounceMilliseconds ?? 1000;
    const poll = options.pollMilliseconds ?? 30_000;
    let timer: NodeJS.Timeout | null = null;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void this.reload('file-change');
      }, debounce);
      timer.unref();
    };
    const names = new Set([path.basename(this.files.certFile), path.basename(this.files.keyFile)]);
    const watchers: fs.FSWatcher[] = [];
    for (const directory of new Set([path.dirname(this.files.certFile), path.dirname(this.files.keyFile)])) {
      try {
        const watcher = fs.watch(directory, { persistent: false }, (_event, name) => {
          if (name === null || names.has(String(name))) changed();
        });
        watcher.on('error', () => {});
        watchers.push(watcher);
      } catch (error) {
        this.log.warn('tls.watch_failed', { directory, error: String(error) });
      }
    }
    const polled = [...new Set([this.files.certFile, this.files.keyFile])];
    for (const file of polled) fs.watchFile(file, { persistent: false, interval: poll }, changed);
    const expiry = setInterval(() => this.warnIfExpiring(), 12 * 3_600_000);
    expiry.unref();
    this.stopWatching = () => {
      if (timer) clearTimeout(timer);
      clearInterval(expiry);
      for (const watcher of watchers) watcher.close();
      for (const file of polled) fs.unwatchFile(file, changed);
    };
  }

  /** Stops watching; listeners are dropped too. */
  close(): void {
    this.stopWatching?.();
    this.stopWatching = null;
    this.listeners.clear();
  }
}
