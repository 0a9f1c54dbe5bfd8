// Every configuration key, its type and its default, in one schema. The README's
// configuration reference mirrors this file.
import { z } from 'zod';

export const configSchema = z
  .object({
    /** Where the database, blobs and TLS files live. */
    dataDir: z.string().min(1).default('./data'),
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
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
