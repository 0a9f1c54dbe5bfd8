// Parses an RFC 5322 §3.3 date-time (and the obsolete forms of §4.3) to ms
// since the epoch. Returns null when it cannot be understood.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 5322 §4.3 obs-zone; military zones are ambiguous in practice and count as -0000.
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, utc: 0,
  est: -5 * 60, edt: -4 * 60, cst: -6 * 60, cdt: -5 * 60,
  mst: -7 * 60, mdt: -6 * 60, pst: -8 * 60, pdt: -7 * 60,
};

export function parseDate(value: string | null): number | null {
  if (value === null) return null;
  const text = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
  const match = /(\d{1,2})[ -]([a-z]{3})[a-z]*[ -](\d{2,4}) +(\d{1,2}):(\d{2})(?::(\d{2}))?(?: *([+-]\d{4}|[a-z]+))?/.exec(text);
  if (!match) {
    const fallback = Date.parse(text);
    return Number.isFinite(fallback) ? fallback : null;
  }
  const day = Number(match[1]);
  const month = MONTHS.indexOf(match[2]);
  let year = Number(match[3]);
  // RFC 5322 §4.3: two-digit years below 50 are 20xx, three-digit years add 1900.
  if (match[3].length === 2) year += year < 50 ? 2000 : 1900;
  else if (match[3].length === 3) year += 1900;
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  const zone = match[7];
  if (zone !== undefined) {
    if (/^[+-]\d{4}$/.test(zone)) {
      const sign = zone[0] === '-' ? -1 : 1;
      const hours = Number(zone.slice(1, 3));
      const minutes = Number(zone.slice(3, 5));
      if (minutes > 59) return null;
      offset = sign * (hours * 60 + minutes);
    } else {
      offset = ZONES[zone] ?? 0;
    }
  }
  const time = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
  return Number.isFinite(time) ? time : null;
}
