// The layout of a data folder (and of a backup folder, which mirrors it): where the
// message files and the outbound queue's files live. Every engine keeps these names;
// what holds the metadata beside them is the engine's business.
export const blobDirectoryName = 'blobs';
export const queueDirectoryName = 'queue';
