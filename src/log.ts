// Structured events with stable names (e.g. `integrity.blob_mismatch`), one JSON
// object per line on stderr, so an admin can grep and a collector can parse them.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type EventFields = Record<string, unknown>;
export type EventSink = (level: LogLevel, event: string, fields: EventFields) => void;

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: EventFields): void;
  info(event: string, fields?: EventFields): void;
  warn(event: string, fields?: EventFields): void;
  error(event: string, fields?: EventFields): void;
}

export function createLogger(options: { level?: LogLevel; sink?: EventSink } = {}): Logger {
  const threshold = levelOrder[options.level ?? 'info'];
  const sink: EventSink =
    options.sink ??
    ((level, event, fields) => {
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n');
    });
  const emit = (level: LogLevel) => (event: string, fields: EventFields = {}) => {
    if (levelOrder[level] >= threshold) sink(level, event, fields);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** For tests and library use: drops everything below `error`, keeps a copy of every event. */
export function createMemoryLogger(): Logger & { events: { level: LogLevel; event: string; fields: EventFields }[] } {
  const events: { level: LogLevel; event: string; fields: EventFields }[] = [];
  const logger = createLogger({ level: 'debug', sink: (level, event, fields) => events.push({ level, event, fields }) });
  return Object.assign(logger, { events });
}
