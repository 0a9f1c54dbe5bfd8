// Sets of UIDs or sequence numbers as closed ranges; Infinity is IMAP's `*`.
import type { NumberSet } from './types.js';

/** Turns `*` into `largest` and orders each range low..high (RFC 9051 §9: 4:2 is 2:4). */
export function resolveSet(set: NumberSet, largest: number): [number, number][] {
  return set.map(([from, to]) => {
    const low = from === Infinity ? largest : from;
    const high = to === Infinity ? largest : to;
    return low <= high ? [low, high] : [high, low];
  });
}

export function setContains(ranges: readonly (readonly [number, number])[], value: number): boolean {
  return ranges.some(([low, high]) => value >= low && value <= high);
}

/** Formats a sorted list of numbers as IMAP sequence-set text, e.g. `1:3,7`. */
export function formatSet(values: readonly number[]): string {
  const parts: string[] = [];
  let index = 0;
  while (index < values.length) {
    const start = values[index]!;
    let end = start;
    while (index + 1 < values.length && values[index + 1] === end + 1) end = values[++index]!;
    parts.push(start === end ? `${start}` : `${start}:${end}`);
    index++;
  }
  return parts.join(',');
}
