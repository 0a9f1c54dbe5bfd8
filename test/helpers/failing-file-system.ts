// The blob store's file-system seam with one call failing as a sick disk fails it: the
// error codes are the kernel's (ENOSPC, EDQUOT, EROFS, EIO), and a failing write lands
// part of its bytes first, as a disk that fills up does.
import type { BlobFileSystem } from '../../src/store/blobs/file-blob-store.js';

export type FailingCall = 'open' | 'write' | 'sync';

export function failingFileSystem(real: BlobFileSystem, code: string, where: FailingCall): BlobFileSystem {
  const failure = () => Object.assign(new Error(`${code}: injected`), { code });
  return {
    async open(file, flags, mode) {
      if (where === 'open') throw failure();
      const handle = await real.open(file, flags, mode);
      return {
        write: async (buffer, offset, length) => {
          if (where !== 'write') return handle.write(buffer, offset, length);
          await handle.write(buffer, offset, Math.floor(length / 2));
          throw failure();
        },
        sync: () => (where === 'sync' ? Promise.reject(failure()) : handle.sync()),
        close: () => handle.close(),
      };
    },
    rename: real.rename,
    syncDirectory: real.syncDirectory,
  };
}
