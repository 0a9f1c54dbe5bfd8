// Sizes and durations as an admin types them: 500M, 2G, 90m, 3d.
import { InvalidInput } from '../errors.js';

const sizeUnits: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const durationUnits: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!match) throw new InvalidInput(`${JSON.stringify(text)} is not a size (examples: 500M, 2G, 1048576)`);
  return Math.round(Number(match[1]) * sizeUnits[match[2]!.toLowerCase()]!);
}

export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!match) throw new InvalidInput(`${JSON.stringify(text)} is not a duration (examples: 90m, 12h, 3d)`);
  return Math.round(Number(match[1]) * durationUnits[match[2]!.toLowerCase()]!);
}

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidInput(`${JSON.stringify(text)} is not a whole number`);
  return Number(text.trim());
}
