// One client connection: bytes in through the command reader, commands run one at a
// time against the session, replies out through the response writer. Also the
// connection-level parts of commands: STARTTLS's upgrade, AUTHENTICATE's continuation
// lines, IDLE's wait for DONE, APPEND literals spooled to a temporary file.
import { createReadStream } from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { commands } from './commands/index.js';
import { CommandReader, isIdleDone, ParseError, parseCommand, type CommandFrame, type LiteralOffer, type ReaderEvent } from './parser/index.js';
import { bad, ConnectionBroken, errorToReply, formatReply, ImapReply, ResponseWriter } from './response.js';
import { storageFailure } from '../store/storage-failure.js';
import { imapCommandAnswered } from '../metrics/metrics.js';
import { LiteralSpool } from './literal-spool.js';
import type { ImapLimits } from './server.js';
import { SpoolBudget } from './spool-budget.js';
import { Session, type ConnectionControl } from './session.js';

type QueueItem = { kind: 'command'; frame: CommandFrame; spools: Map<number, LiteralSpool> } | { kind: 'error'; error: ParseError };

const spoolHighWater = 4 * 1024 * 1024;
/** How long a connection the server ends (autologout, LOGOUT, shutdown) may take to close before its socket is destroyed. */
const closeGraceMilliseconds = 3000;

export interface ConnectionOptions {
  store: MailStore;
  log: Logger;
  limits: ImapLimits;
  /** The context in service now (certificates reload while the server runs). */
  secureContext: () => tls.SecureContext;
  /** True for the implicit-TLS port: the socket is already a TLSSocket. */
  secure: boolean;
  spoolDirectory?: string;
  /** Room for spooled literals shared by all connections (imap.spoolLimit); none given: unbounded. */
  spoolBudget?: SpoolBudget;
}

export class ImapConnection implements ConnectionControl {
  private socket: net.Socket;
  private readonly reader: CommandReader;
  readonly session: Session;
  private readonly writer: ResponseWriter;
  private queue: QueueItem[] = [];
  private running = false;
  private spools = new Map<number, LiteralSpool>();
  private activeSpools: Map<number, LiteralSpool> | null = null;
  private lineWaiter: { resolve: (frame: CommandFrame) => void; reject: (error: Error) => void; idle: boolean } | null = null;
  private upgradePending = false;
  private compressionPending = false;
  compressed = false;
  /** The stream corked until the end of this event-loop turn (see afterWrite). */
  private corked: Writable | null = null;
  /** Where responses go: the socket, or the deflate stream in front of it. */
  private output: Writable;
  private deflate: zlib.DeflateRaw | null = null;
  /** Where received bytes come from: the socket, or the inflate stream behind it (COMPRESS). */
  private input: Readable;
  private inflate: zlib.InflateRaw | null = null;
  /** Received bytes not given to the reader yet: at most the rest of one chunk (see feed). */
  private inbox: Buffer | null = null;
  private feeding = false;
  /**
   * Literal bytes copied for the spool files but not yet written, over every spool of the
   * connection (the command being read and those queued behind it): one bound for all, so
   * that literal after literal cannot each hold their own high-water mark in memory.
   */
  private spoolBytesInFlight = 0;
  private waitingForRoom = false;
  /** The most this connection held at once, logged when it closes (imap.connection_peaks). */
  private readonly peaks = { queuedCommands: 0, inputBytes: 0, spoolBytesInFlight: 0 };
  private readonly backpressureNoted = new Set<string>();
  private closed = false;
  /** The server has ended the output (BYE, LOGOUT) and waits for the socket to close. */
  private ending = false;
  /** This connection's spooled literals, queued commands' included (imap.connectionSpoolLimit). */
  private readonly spoolRoom: SpoolBudget;
  /** Room reserved for the admitted literal whose `literal-start` comes next. */
  private reservation: { serial: number; size: number } | null = null;
  /** The APPEND literals announced so far by the command being read (quota is checked against their sum). */
  private commandAppendBytes = 0;
  secure: boolean;
  readonly remoteAddress: string;
  private readonly remotePort: number;
  readonly loopback: boolean;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(socket: net.Socket, private readonly options: ConnectionOptions) {
    this.socket = socket;
    this.secure = options.secure;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.loopback = /^(127\.|::1$|::ffff:127\.)/.test(this.remoteAddress);
    this.reader = new CommandReader({
      lineLimit: options.limits.lineLimit,
      literalLimit: options.limits.literalLimit,
      appendLimit: options.limits.appendLimit,
      commandLimit: options.limits.commandLimit,
    }, { confirmAppendLiterals: true });
    this.spoolRoom = new SpoolBudget(options.limits.connectionSpoolLimit ?? Infinity);
    this.output = socket;
    this.input = socket;
    this.writer = new ResponseWriter(
      () => this.output,
      () => this.afterWrite(),
      options.limits.maxUnsentReplyBytes,
      () => this.noteBackpressure(),
    );
    this.session = new Session(options.store, this.writer, this, options.limits, options.log);
    this.attach(socket);
  }

  start(): void {
    void this.writer.untagged(`OK [CAPABILITY ${this.session.capabilities().join(' ')}] Postkeep IMAP ready`);
  }

  private attach(socket: net.Socket): void {
    // A reply is often several small writes (untagged lines, then the tagged one): with
    // Nagle's algorithm the last waits for the client's delayed ACK, about 40 ms each time.
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => {});
    socket.on('close', () => this.closeDown());
    // RFC 9051 §5.4: the autologout timer is at least 30 minutes.
    socket.setTimeout(this.options.limits.autologoutSeconds * 1000, () => this.autologout());
  }

  private autologout(): void {
    if (this.closed || this.ending) return;
    this.options.log.info('imap.autologout', { remoteAddress: this.remoteAddress, remotePort: this.remotePort });
    this.endWithin('autologout', '* BYE Autologout; idle for too long\r\n');
  }

  /** Ends the connection from the server side (server stop, login timeout): BYE and close. */
  shutdown(reason = 'Server shutting down'): void {
    this.endWithin('shutdown', `* BYE ${reason}\r\n`);
  }

  /**
   * Sends the last bytes (a BYE) after the replies already written, ends the stream, and
   * destroys the socket if it has not closed `closeGraceMilliseconds` later. Waiting for
   * room in the output would wait for ever on a client that reads nothing, and an ended
   * stream stays open until the client closes its side: either would let a client keep
   * a connection slot for good (DESIGN.md invariant 7).
   */
  private endWithin(reason: string, last?: string): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    // No further command runs: its reply would go nowhere. Input is still read (and dropped),
    // so that the client's end of the stream is seen and the socket closes at once.
    this.inbox = null;
    this.input.resume();
    if (last === undefined) this.output.end();
    else this.output.end(last);
    setTimeout(() => {
      if (this.closed) return;
      this.options.log.info('imap.close_forced', { remoteAddress: this.remoteAddress, remotePort: this.remotePort, reason });
      this.socket.destroy();
    }, closeGraceMilliseconds).unref();
  }

  private closeDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.release();
    this.inbox = null;
    this.inflate?.destroy();
    this.deflate?.destroy();
    this.options.log.debug('imap.connection_peaks', {
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      queuedCommands: this.peaks.queuedCommands,
      inputBytes: this.peaks.inputBytes,
      unsentReplyBytes: this.writer.peakUnsentBytes,
      spoolBytesInFlight: this.peaks.spoolBytesInFlight,
    });
    this.session.close();
    this.lineWaiter?.reject(new Error('connection closed'));
    this.lineWaiter = null;
    for (const spool of this.spools.values()) void spool.discard();
    for (const item of this.queue) if (item.kind === 'command') for (const spool of item.spools.values()) void spool.discard();
    this.queue = [];
  }

  private receive(chunk: Buffer): void {
    if (this.ending) return;
    this.inbox = this.inbox ? Buffer.concat([this.inbox, chunk]) : chunk;
    if (this.inbox.length > this.peaks.inputBytes) this.peaks.inputBytes = this.inbox.length;
    this.feed();
  }

  /**
   * Gives the reader buffered input only while the connection has room for what it may
   * produce, and stops the input (the socket, or with COMPRESS the inflate stream, which then
   * stops inflating and in turn stops reading the socket) when it has none. Pausing alone would
   * not do: one chunk holds thousands of pipelined commands, and a few compressed bytes inflate
   * to megabytes (DESIGN.md invariant 7).
   */
  private feed(): void {
    if (this.feeding || this.ending) return;
    this.feeding = true;
    try {
      while (this.inbox && this.canRead()) {
        const inbox = this.inbox;
        const size = this.sliceSize(inbox);
        this.inbox = size < inbox.length ? inbox.subarray(size) : null;
        this.dispatch(this.reader.push(size < inbox.length ? inbox.subarray(0, size) : inbox));
      }
    } finally {
      this.feeding = false;
    }
    if (this.inbox || !this.canRead()) {
      this.input.pause();
      this.noteBackpressure();
    } else if (!this.closed) this.input.resume();
    if (!this.writer.hasRoom && !this.waitingForRoom && !this.closed) {
      this.waitingForRoom = true;
      void this.writer.room().then(() => {
        this.waitingForRoom = false;
        this.feed();
      });
    }
  }

  /** Says once per connection and cause that the client is being held back (for operators, and tests waiting for it). */
  private noteBackpressure(): void {
    const reason = !this.writer.hasRoom ? 'unsent_replies' : this.queue.length >= this.options.limits.maxQueuedCommands ? 'queued_commands' : null;
    if (this.closed || !reason || this.backpressureNoted.has(reason)) return;
    this.backpressureNoted.add(reason);
    this.options.log.debug('imap.backpressure', { remoteAddress: this.remoteAddress, remotePort: this.remotePort, reason });
  }

  private canRead(): boolean {
    if (this.closed || this.ending || this.upgradePending || this.compressionPending || !this.writer.hasRoom) return false;
    // The reader holds an APPEND literal until considerLiteral decides on it.
    if (this.reader.pendingOffer) return false;
    if (this.spoolBytesInFlight > spoolHighWater) return false;
    return this.lineWaiter !== null || this.queue.length < this.options.limits.maxQueuedCommands;
  }

  /**
   * How much of `inbox` the reader may take now: a literal's remaining bytes whole (no command
   * ends inside them), otherwise up to as many line ends as there are free queue places, since
   * each line end completes at most one command (a refused over-long line may add one more).
   */
  private sliceSize(inbox: Buffer): number {
    const literal = this.reader.literalRemaining;
    if (literal > 0) return Math.min(literal, inbox.length);
    let lines = this.lineWaiter ? 1 : Math.max(1, this.options.limits.maxQueuedCommands - this.queue.length);
    let position = 0;
    while (lines-- > 0) {
      const newline = inbox.indexOf(0x0a, position);
      if (newline < 0) return inbox.length;
      position = newline + 1;
    }
    return position;
  }

  private dispatch(events: ReaderEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'continuation':
          void this.writer.write('+ Ready for literal data\r\n');
          break;
        case 'literal-offer':
          this.considerLiteral(event.offer);
          break;
        case 'literal-start': {
          const reserved = this.reservation?.size ?? 0;
          this.reservation = null;
          // Before login an APPEND cannot run: its bytes are dropped, never written to disk.
          if (this.session.state === 'not-authenticated') {
            this.releaseSpoolRoom(reserved);
            break;
          }
          this.spools.set(event.index, new LiteralSpool(this.options.spoolDirectory ?? os.tmpdir(), () => this.releaseSpoolRoom(reserved)));
          break;
        }
        case 'literal-data': {
          const spool = this.spools.get(event.index);
          if (!spool) break;
          // Over spoolHighWater canRead stops the input; the write's completion starts it again.
          const size = event.data.length;
          this.spoolBytesInFlight += size;
          if (this.spoolBytesInFlight > this.peaks.spoolBytesInFlight) this.peaks.spoolBytesInFlight = this.spoolBytesInFlight;
          spool.write(event.data, () => {
            this.spoolBytesInFlight -= size;
            if (this.spoolBytesInFlight < spoolHighWater / 2) this.feed();
          });
          break;
        }
        case 'literal-end':
          break;
        case 'error':
          for (const spool of this.spools.values()) void spool.discard();
          this.spools = new Map();
          this.enqueue({ kind: 'error', error: event.error });
          break;
        case 'command':
          if (this.lineWaiter) {
            const waiter = this.lineWaiter;
            this.lineWaiter = null;
            if (waiter.idle && !isIdleDone(event.frame)) waiter.reject(bad('expected DONE'));
            else waiter.resolve(event.frame);
            break;
          }
          this.enqueue({ kind: 'command', frame: event.frame, spools: this.spools });
          this.spools = new Map();
          break;
      }
    }
  }

  /**
   * An APPEND literal that cannot be stored is refused before it is read, so that the
   * client neither uploads it for nothing nor fills the disk with it: before login, over
   * the account's quota (RFC 9208 §5.1 OVERQUOTA; the store checks again when it
   * appends), or without room in the spool (RFC 5530 LIMIT). A synchronizing literal then
   * gets its NO instead of a continuation (RFC 7889 §4); a `{n+}` one is read and thrown
   * away (RFC 7888 §4).
   */
  private considerLiteral(offer: LiteralOffer): void {
    const refuse = (message: string, responseCode: string | null, status: 'NO' | 'BAD' = 'NO') =>
      this.decideLiteral(offer, new ParseError('literal-refused', message, { status, responseCode }));
    const account = this.session.account;
    if (this.session.state === 'not-authenticated' || !account) return refuse('APPEND is not allowed in the not-authenticated state', null, 'BAD');
    if (offer.index === 0) this.commandAppendBytes = 0;
    this.commandAppendBytes += offer.size;
    if (offer.streamed) {
      const global = this.options.spoolBudget;
      if (!this.spoolRoom.tryReserve(offer.size)) return refuse(`this connection may spool at most ${this.spoolRoom.limit} bytes of APPEND literals at a time`, 'LIMIT');
      if (global && !global.tryReserve(offer.size)) {
        this.spoolRoom.release(offer.size);
        return refuse('the server has no room to spool this message now; try again later', 'LIMIT');
      }
      this.reservation = { serial: offer.serial, size: offer.size };
    }
    const needed = this.commandAppendBytes;
    account.quota().then(
      (usage) => {
        const { storage, messages } = usage;
        if (storage.limit !== null && storage.used + needed > storage.limit) {
          return refuse(`the account would use ${storage.used + needed} of its ${storage.limit} bytes`, 'OVERQUOTA');
        }
        if (messages.limit !== null && messages.used + 1 > messages.limit) return refuse(`the account holds ${messages.used} of its ${messages.limit} messages`, 'OVERQUOTA');
        this.decideLiteral(offer, null);
      },
      // Not known now: the store's own check at the append decides.
      () => this.decideLiteral(offer, null),
    ).catch((error) => {
      this.options.log.error('imap.connection_failed', { error: String(error), remoteAddress: this.remoteAddress });
      this.socket.destroy();
    });
  }

  private decideLiteral(offer: LiteralOffer, refusal: ParseError | null): void {
    const current = this.reader.pendingOffer?.serial === offer.serial;
    if ((refusal || !current || this.closed) && this.reservation?.serial === offer.serial) {
      this.releaseSpoolRoom(this.reservation.size);
      this.reservation = null;
    }
    // Closed, or the reader was reset meanwhile (STARTTLS): nothing to decide any more.
    if (!current || this.closed) return;
    if (refusal) this.options.log.info('imap.append_refused', { remoteAddress: this.remoteAddress, reason: refusal.responseCode ?? refusal.status, size: offer.size });
    this.dispatch(this.reader.decide(offer.serial, refusal));
    this.feed();
  }

  private releaseSpoolRoom(bytes: number): void {
    this.spoolRoom.release(bytes);
    this.options.spoolBudget?.release(bytes);
  }

  private enqueue(item: QueueItem): void {
    // A client that pipelines faster than commands run is slowed down (feed stops reading), not buffered without bound.
    this.queue.push(item);
    if (this.queue.length > this.peaks.queuedCommands) this.peaks.queuedCommands = this.queue.length;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed && !this.ending) {
        // Replies the client has not taken yet hold the next command back.
        if (!this.writer.hasRoom) await this.writer.room();
        if (this.closed || this.ending) break;
        const item = this.queue.shift()!;
        this.feed();
        if (item.kind === 'error') {
          await this.writer.write(formatReply(item.error.tag ?? '*', errorToReply(item.error)));
          continue;
        }
        this.activeSpools = item.spools;
        // From the reply's first byte (afterWrite corks only after a write).
        this.cork();
        try {
          await this.run(item.frame);
        } finally {
          for (const spool of item.spools.values()) await spool.discard();
          this.activeSpools = null;
        }
        if (this.session.state === 'logout') {
          this.endWithin('logout');
          return;
        }
        if (this.upgradePending) this.upgrade();
        if (this.compressionPending) this.compress();
      }
    } catch (error) {
      this.options.log.error('imap.connection_failed', { error: String(error), remoteAddress: this.remoteAddress });
      this.socket.destroy();
    } finally {
      this.running = false;
    }
  }

  private async run(frame: CommandFrame): Promise<void> {
    const session = this.session;
    const started = performance.now();
    const parsed = parseCommand(frame, { utf8: session.utf8 });
    if (!parsed.ok) {
      const refusal = errorToReply(parsed.error);
      imapCommandAnswered(null, refusal.status, (performance.now() - started) / 1000);
      await this.writer.write(formatReply(parsed.error.tag ?? frame.tag ?? '*', refusal));
      return;
    }
    const command = parsed.command;
    const spec = commands.get(command.name);
    let reply: ImapReply;
    if (!spec) {
      reply = bad(`${command.name} is not supported`);
    } else if (!spec.states.includes(session.state)) {
      reply = bad(`${command.name} is not allowed in the ${session.state} state`);
    } else {
      try {
        reply = (await spec.handler(session, command)) ?? new ImapReply('OK', `${command.name} completed`);
      } catch (error) {
        if (error instanceof ConnectionBroken) {
          this.options.log.error('imap.connection_broken', { command: command.name, error: error.message });
          this.socket.destroy();
          return;
        }
        reply = errorToReply(error);
        if (reply.responseCode === 'SERVERBUG') this.options.log.error('imap.command_failed', { command: command.name, error: String(error) });
        // A full, read-only or failing disk is the operator's to fix: the client only learns "not now".
        else if (storageFailure(error)) this.options.log.error('imap.storage_failed', { command: command.name, failure: storageFailure(error), error: String(error) });
      }
    }
    if (session.selected && session.state === 'selected') {
      // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH.
      const allowExpunge = !['FETCH', 'STORE', 'SEARCH'].includes(command.name);
      await session.sync(allowExpunge).catch((error) => this.options.log.warn('imap.sync_failed', { error: String(error) }));
    }
    // A name from the command table, never the client's text for an unknown one.
    imapCommandAnswered(spec ? command.name : null, reply.status, (performance.now() - started) / 1000);
    await this.writer.tagged(command.tag, reply);
  }

  // ---- ConnectionControl ----

  async startTls(): Promise<void> {
    this.upgradePending = true;
    // The ClientHello must stay in the socket for the TLS layer (it takes what was buffered), not reach the reader.
    this.input.pause();
  }

  /**
   * One reply is many small writes (untagged lines, FETCH pieces, the tagged line); each
   * would be its own syscall and packet (and TLS record). They are corked together until
   * the end of the event-loop turn, or sooner once a buffer's worth is waiting, so a large
   * FETCH still streams and the writer's wait for 'drain' always ends.
   */
  private afterWrite(): void {
    if (this.deflate) {
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
      return;
    }
    const output = this.output;
    if (output.writableLength >= output.writableHighWaterMark) {
      this.uncork();
      return;
    }
    this.cork();
  }

  private cork(): void {
    if (this.corked || this.deflate) return;
    const output = this.output;
    this.corked = output;
    output.cork();
    setImmediate(() => this.uncork());
  }

  private uncork(): void {
    const corked = this.corked;
    this.corked = null;
    corked?.uncork();
  }

  private upgrade(): void {
    // The tagged OK goes out in the clear before the handshake starts.
    this.uncork();
    this.upgradePending = false;
    // RFC 9051 §6.2.1: anything sent before the handshake must not be run.
    this.reader.reset();
    // The dropped commands' spooled literals go too (their files and their room in the spool).
    for (const item of this.queue) if (item.kind === 'command') for (const spool of item.spools.values()) void spool.discard();
    for (const spool of this.spools.values()) void spool.discard();
    this.spools = new Map();
    this.queue = [];
    this.inbox = null;
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.setTimeout(0);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.options.secureContext() });
    this.socket = secure;
    this.output = secure;
    this.input = secure;
    this.secure = true;
    secure.on('data', this.onData);
    secure.on('error', () => secure.destroy());
    secure.setTimeout(this.options.limits.autologoutSeconds * 1000, () => this.autologout());
  }

  async startCompression(): Promise<void> {
    this.compressionPending = true;
    // Compressed bytes after the OK wait in the socket until the inflate stream is in place.
    this.input.pause();
  }

  // RFC 4978 §3: both directions are raw DEFLATE from the byte after the tagged OK.
  private compress(): void {
    this.uncork();
    this.compressionPending = false;
    this.reader.reset();
    this.inbox = null;
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    const socket = this.socket;
    socket.off('data', this.onData);
    // With its output paused (feed), zlib stops inflating after one chunk (chunkSize, 16 KiB)
    // whatever the ratio, its input fills, and the pipe stops reading the socket.
    socket.pipe(inflate);
    inflate.on('data', this.onData);
    this.inflate = inflate;
    this.input = inflate;
    inflate.on('error', () => socket.destroy());
    deflate.on('error', () => socket.destroy());
    deflate.pipe(socket);
    this.deflate = deflate;
    this.output = deflate;
    this.compressed = true;
  }

  async readContinuation(text: string): Promise<CommandFrame> {
    const frame = new Promise<CommandFrame>((resolve, reject) => {
      this.lineWaiter = { resolve, reject, idle: false };
    });
    this.feed();
    await this.writer.write(`+ ${text}\r\n`);
    return frame;
  }

  async idle(): Promise<void> {
    const done = new Promise<CommandFrame>((resolve, reject) => {
      this.lineWaiter = { resolve, reject, idle: true };
    });
    this.feed();
    await this.writer.write('+ idling\r\n');
    if (this.session.selected) await this.session.sync(true);
    await done;
  }

  literal(index: number): AsyncIterable<Buffer> | null {
    const spool = this.activeSpools?.get(index);
    if (!spool) return null;
    return (async function* () {
      await spool.finish();
      for await (const chunk of createReadStream(spool.file)) yield chunk as Buffer;
    })();
  }
}
