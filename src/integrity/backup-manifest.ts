// The manifest of a backup folder: the database file's hash, every blob hash, every
// outbound-queue file and every mailbox digest at the moment of the snapshot, and
// what had to be skipped.
// Written last and atomically, so a backup cut short keeps its previous manifest.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { InvalidInput } from '../errors.js';
import { syncDirectory } from '../durable-files.js';

export const manifestFileName = 'manifest.json';
export const manifestFormat = 'postkeep-backup-1';

const hash = z.string().regex(/^[0-9a-f]{64}$/);

const manifestSchema = z.object({
  format: z.literal(manifestFormat),
  createdAt: z.string(),
  source: z.string(),
  schemaVersion: z.number().int(),
  database: z.object({ file: z.string(), sha256: hash, bytes: z.number().int() }),
  blobs: z.array(z.object({ hash, size: z.number().int() })),
  /** The outbound queue's message files (<dataDir>/queue); absent in backups made before it was added. */
  queue: z.array(z.object({ hash, size: z.number().int() })).default([]),
  mailboxes: z.array(z.object({ account: z.string(), name: z.string(), id: z.string(), uidValidity: z.number(), messages: z.number().int(), digest: hash })),
  skipped: z.array(z.object({ kind: z.string(), where: z.string(), detail: z.string() })),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type SkippedItem = BackupManifest['skipped'][number];

export async function readManifest(directory: string): Promise<BackupManifest> {
  const file = path.join(directory, manifestFileName);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInput(`${directory} is not a Postkeep backup: cannot read ${manifestFileName} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidInput(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new InvalidInput(`${file} is not a Postkeep backup manifest: ${problems.join('; ')}`);
  }
  return result.data;
}

export async function writeManifest(directory: string, manifest: BackupManifest): Promise<void> {
  const file = path.join(directory, manifestFileName);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await fs.open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify(manifest, null, 1));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
  await syncDirectory(directory);
}
