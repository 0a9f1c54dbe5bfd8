// Limits that keep the structure parser bounded in time and memory on hostile
// input (DESIGN invariant 6). Past a limit the content is kept as it came and
// described as opaque; it is never rejected.

/** multipart/* and message/rfc822 nesting deeper than this is an opaque leaf. */
export const MAX_DEPTH = 64;

/** Body parts described per message; after that the rest is opaque. */
export const MAX_PARTS = 10_000;

/** Header fields indexed per part (for HEADER.FIELDS); later fields are still part of the header bytes. */
export const MAX_HEADER_FIELDS_PER_PART = 1_000;

/** Header fields indexed per message, so many small parts cannot add up to a huge index. */
export const MAX_HEADER_FIELDS_TOTAL = 50_000;

/** Bytes of one header line kept for parsing; longer lines are truncated, never copied whole. */
export const MAX_HEADER_LINE_KEEP = 64 * 1024;

/** Bytes of one unfolded header value kept (References can be long; 64 KiB is plenty). */
export const MAX_HEADER_VALUE_LENGTH = 64 * 1024;

/** Longest multipart boundary honoured (RFC 2046 §5.1.1 allows 70; we tolerate more). */
export const MAX_BOUNDARY_LENGTH = 998;

/** Bytes of a body line kept to recognise a boundary delimiter with its transport padding. */
export const MAX_BOUNDARY_LINE_KEEP = MAX_BOUNDARY_LENGTH + 2 + 2 + 256;

/** Parameters kept per Content-Type / Content-Disposition field. */
export const MAX_PARAMETERS = 64;

/** Addresses kept per address header field. */
export const MAX_ADDRESSES = 1_000;

/** A single write() is processed in slices of this size, yielding to the event loop between them. */
export const MAX_SLICE = 1024 * 1024;
