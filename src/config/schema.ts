// Every configuration key, its type and its default, in one schema. The README's
// configuration reference mirrors this file.
import { z } from 'zod';

/** One SMTP listener: loopback and an unprivileged port by default; port 0 picks a free one. */
function listener(port: number, greetingDelayMilliseconds: number) {
  return z
    .object({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(port),
      /** Wait before the 220 banner, to catch clients that talk first (spam bots); 0 greets at once. */
      greetingDelayMilliseconds: z.number().int().min(0).max(30_000).default(greetingDelayMilliseconds),
    })
    .strict()
    .prefault({});
}

export const configSchema = z
  .object({
    /** Where the database, blobs and TLS files live. */
    dataDir: z.string().min(1).default('./data'),
    /**
     * `postkeep start` refuses to serve as root unless this is true (or POSTKEEP_ALLOW_ROOT=1):
     * run it as a dedicated user, with CAP_NET_BIND_SERVICE for ports below 1024.
     */
    allowRoot: z.boolean().default(false),
    /** The name this server gives itself (greetings, Received headers, the self-signed certificate). */
    hostname: z.string().min(1).default('localhost'),
    log: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        /** Days an expunged message stays recoverable with `postkeep undelete`. */
        retentionDays: z.number().min(0).max(3650).default(7),
        /** Hours between garbage collection runs inside the server. */
        garbageCollectionHours: z.number().positive().max(24 * 30).default(6),
        /** More blob directories (e.g. on a second disk) that each keep a copy of every message. */
        blobMirrors: z.array(z.string().min(1)).default([]),
        /** Durable copies (the data folder's included) before a write is acknowledged; absent means all. */
        acknowledgeAfterCopies: z.number().int().min(1).optional(),
        /** Days over which the background scrub re-verifies every blob once; 0 turns it off. */
        scrubDays: z.number().min(0).max(365).default(7),
        /** The scrub's read budget in MB/s, so it never starves the mail it protects. */
        scrubMegabytesPerSecond: z.number().positive().max(10_000).default(20),
        /**
         * Audit looks again at a message file without a record once it is this old: a
         * younger one may be a delivery the running server is committing right now.
         */
        orphanGraceSeconds: z.number().min(0).max(3600).default(30),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        /** Inbound MX: mail for local addresses from anyone (production: port 25). */
        mx: listener(2525, 100),
        /** Submission with STARTTLS required before AUTH (production: port 587). */
        submission: listener(2587, 0),
        /** Submission over implicit TLS (production: port 465). */
        submissions: listener(2465, 0),
        /** Largest message accepted, in bytes (announced with SIZE, RFC 1870). */
        maxMessageSize: z.number().int().positive().default(50 * 1024 * 1024),
        /** Bytes of DATA held at once over all SMTP connections (memory and data/tmp/smtp); past it 452 4.3.1. Keep it above maxMessageSize. */
        spoolLimit: z.number().int().min(64 * 1024).default(1024 * 1024 * 1024),
        /** The account (login or address) that receives postmaster@ of local domains without their own; unset: the first admin account. */
        postmasterAccount: z.string().min(1).optional(),
        /** Recipients per message; more are answered 452 4.5.3. */
        maxRecipients: z.number().int().positive().max(10_000).default(100),
        /** A message with more Received headers than this is a loop and is refused (554 5.4.6). */
        maxReceivedHeaders: z.number().int().positive().max(500).default(30),
        /** Concurrent connections over all listeners. */
        maxConnections: z.number().int().positive().default(1000),
        /** Concurrent connections from one IP address; more are answered 421 4.7.0. */
        maxConnectionsPerIp: z.number().int().positive().default(20),
        /** Messages (MAIL FROM) from one IP address per minute; more are answered 450 4.7.1. */
        maxMessagesPerIpPerMinute: z.number().int().positive().default(600),
        /** Seconds of client silence before the connection is closed. */
        idleTimeoutSeconds: z.number().int().positive().max(3600).default(300),
        /** Seconds an implicit-TLS connection (submissions) has to finish its handshake. */
        handshakeTimeoutSeconds: z.number().int().positive().max(300).default(10),
        /** Seconds a submission connection may stay without authenticating, however active; then 421. */
        preAuthenticationTimeoutSeconds: z.number().int().positive().max(3600).default(60),
        /** Look up the client's host name (PTR) before the greeting; the lookup can delay the banner up to 1.5 s. */
        reverseLookup: z.boolean().default(false),
        /** Verify SPF, DKIM, DMARC and ARC on the MX and write an Authentication-Results header. */
        verifyAuthentication: z.boolean().default(true),
        /** What a DMARC failure under p=reject does: refuse at DATA (550 5.7.1) or deliver to Junk. */
        dmarcReject: z.enum(['reject', 'junk']).default('reject'),
        /** On the MX, refuse (550 5.7.1) mail whose MAIL FROM or From: is in a local domain unless SPF passes for that domain (or a DKIM signature of it verifies). */
        refuseLocalDomainSpoofing: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    outbound: z
      .object({
        /** The TCP port of remote MX hosts (25; tests point it at a loopback server). */
        port: z.number().int().min(1).max(65535).default(25),
        /** Hours a message keeps being retried before it bounces (RFC 5321 §4.5.4.1 suggests 4-5 days). */
        maxAgeHours: z.number().positive().max(24 * 30).default(120),
        /** Seconds before the first retry; each later one waits twice as long, up to retryMaxSeconds. */
        retryBaseSeconds: z.number().positive().default(300),
        retryMaxSeconds: z.number().positive().default(4 * 3600),
        /** Remote deliveries running at the same time. */
        concurrency: z.number().int().positive().max(200).default(10),
        /** Seconds to wait for a remote server's connection, greeting or reply. */
        timeoutSeconds: z.number().positive().max(3600).default(120),
      })
      .strict()
      .prefault({}),
    imap: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** IMAP with STARTTLS (production: 143); 0 picks a free port. */
        port: z.number().int().min(0).max(65535).default(1143),
        /** IMAP over implicit TLS (production: 993); 0 picks a free port. */
        tlsPort: z.number().int().min(0).max(65535).default(1993),
        /** Longest command line in bytes. */
        lineLimit: z.number().int().min(1024).default(64 * 1024),
        /** Largest literal outside APPEND, in bytes. */
        literalLimit: z.number().int().min(1024).default(64 * 1024),
        /** Largest message APPEND accepts (announced as APPENDLIMIT, RFC 7889). */
        appendLimit: z.number().int().positive().default(64 * 1024 * 1024),
        /** Bytes of APPEND literals one connection may have spooled on disk at once (MULTIAPPEND and pipelined APPENDs add up); at least appendLimit for a largest message to fit. */
        connectionSpoolLimit: z.number().int().positive().default(256 * 1024 * 1024),
        /** Bytes of APPEND literals all connections together may have spooled on disk at once. */
        spoolLimit: z.number().int().positive().default(1024 * 1024 * 1024),
        /** Seconds without a command before the server logs the client out (RFC 9051: at least 1800). */
        autologoutSeconds: z.number().int().min(60).default(30 * 60),
        maxConnections: z.number().int().positive().default(10_000),
        maxConnectionsPerIp: z.number().int().positive().default(50),
        /** Seconds an implicit-TLS connection has to finish its handshake. */
        handshakeTimeoutSeconds: z.number().int().positive().max(300).default(10),
        /** Seconds a connection may stay without logging in, however active; then BYE. */
        preLoginTimeoutSeconds: z.number().int().positive().max(3600).default(60),
        /** Allow LOGIN and AUTHENTICATE without TLS from loopback addresses only. */
        allowPlaintextOnLoopback: z.boolean().default(false),
        /** Pipelined commands read ahead per connection (after COMPRESS too); past this the socket is not read. */
        maxQueuedCommands: z.number().int().min(1).max(10_000).default(32),
        /** Replies written but not yet taken by a slow client's socket, per connection; past this commands wait. */
        maxUnsentReplyBytes: z.number().int().min(4096).default(64 * 1024),
      })
      .strict()
      .prefault({}),
    /** Brute-force pacing of logins (src/auth/pacing.ts); kept in memory per server process. */
    auth: z
      .object({
        /** Delay and lock failed logins; off only for benchmarks that measure the password check itself. */
        pacing: z.boolean().default(true),
        /** Failed logins delay the answer 0, 1, 2, 4 … times this many seconds. */
        delayStepSeconds: z.number().min(0).max(60).default(1),
        /** The delay stops growing here. */
        maxDelaySeconds: z.number().min(0).max(300).default(30),
        /** Failures of one (account, source address) pair before it is locked. */
        lockThreshold: z.number().int().min(1).default(10),
        /** Failures of one account from addresses it never logged in from before those addresses are locked out of it. */
        accountLockThreshold: z.number().int().min(1).default(50),
        /** How long a lock lasts. */
        lockMinutes: z.number().positive().max(24 * 60).default(15),
        /** Failures older than this are forgotten. */
        failureWindowMinutes: z.number().positive().max(24 * 60).default(60),
        /** Most (account, address), address and account entries kept in memory, each. */
        maxTrackedEntries: z.number().int().min(100).default(100_000),
        /** Password checks (argon2id, 64 MiB each) running at once in the process (src/auth/hash-limiter.ts). */
        maxConcurrentHashes: z.number().int().min(1).max(64).default(2),
        /** Password checks waiting for a slot; one more gets a temporary failure (IMAP NO [UNAVAILABLE], SMTP 454 4.7.0). */
        hashQueueLimit: z.number().int().min(0).max(100_000).default(100),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        /** PEM certificate chain; empty means a self-signed one in <dataDir>/tls, made on first start. */
        certFile: z.string().default(''),
        keyFile: z.string().default(''),
      })
      .strict()
      .prefault({}),
    /** The admin HTTPS API (src/admin/): its own listener, loopback by default, never on a mail port. */
    admin: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port. */
        port: z.number().int().min(0).max(65535).default(8443),
        /** Lifetime of a session from POST /session (password + TOTP). */
        sessionMinutes: z.number().positive().max(24 * 60).default(15),
        /** Open connections to the admin API, and from one address (IPv6: one /64). */
        maxConnections: z.number().int().positive().default(100),
        maxConnectionsPerIp: z.number().int().positive().default(20),
        /** Seconds a connection has to finish its TLS handshake. */
        handshakeTimeoutSeconds: z.number().int().positive().max(300).default(10),
      })
      .strict()
      .prefault({}),
    /** Stopping (SIGTERM, SIGINT): bounded whatever the peers do. */
    shutdown: z
      .object({
        /** Seconds open sessions get to finish (IMAP BYE, SMTP 421) before what remains is destroyed. */
        graceSeconds: z.number().min(0).max(300).default(5),
        /** `postkeep start` exits non-zero if stopping has not finished after this many seconds. */
        timeoutSeconds: z.number().positive().max(600).default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
