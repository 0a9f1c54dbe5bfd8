// date and date-time (RFC 9051 §9).
import { syntaxError, type Cursor } from './cursor.js';
import type { CalendarDate } from './types.js';

const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

// Date.UTC takes years 0..99 as 1900..1999; setUTCFullYear does not.
function utc(year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utc(year, month + 1, 0)).getUTCDate();
}

function fixedDigits(cursor: Cursor, count: number, what: string): number {
  const text = cursor.run((byte) => byte >= 0x30 && byte <= 0x39);
  if (text.length !== count) throw syntaxError(`bad ${what}`);
  return Number(text);
}

// date-day "-" date-month "-" date-year, day being 1*2DIGIT here and (SP DIGIT) / 2DIGIT in date-time.
function dateText(cursor: Cursor, fixedDay: boolean): CalendarDate {
  let day: number;
  if (fixedDay && cursor.take(0x20)) day = fixedDigits(cursor, 1, 'day');
  else {
    const text = cursor.run((byte) => byte >= 0x30 && byte <= 0x39);
    if (text.length < 1 || text.length > 2 || (fixedDay && text.length !== 2)) throw syntaxError('bad day in date');
    day = Number(text);
  }
  cursor.expect('-');
  const month = months.indexOf(cursor.run((byte) => (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a).toUpperCase()) + 1;
  if (month === 0) throw syntaxError('bad month in date');
  cursor.expect('-');
  const year = fixedDigits(cursor, 4, 'year');
  if (day < 1 || day > daysInMonth(year, month)) throw syntaxError('no such day');
  return { year, month, day };
}

/** date = date-text / DQUOTE date-text DQUOTE */
export function readDate(cursor: Cursor): CalendarDate {
  if (cursor.take(0x22)) {
    const date = dateText(cursor, false);
    cursor.expect('"');
    return date;
  }
  return dateText(cursor, false);
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function readDateTime(cursor: Cursor): Date {
  cursor.expect('"');
  const { year, month, day } = dateText(cursor, true);
  cursor.space();
  const hours = fixedDigits(cursor, 2, 'hour');
  cursor.expect(':');
  const minutes = fixedDigits(cursor, 2, 'minute');
  cursor.expect(':');
  const seconds = fixedDigits(cursor, 2, 'second');
  cursor.space();
  const sign = cursor.take(0x2b) ? 1 : cursor.take(0x2d) ? -1 : 0;
  if (sign === 0) throw syntaxError('bad zone in date-time');
  const zone = fixedDigits(cursor, 4, 'zone');
  cursor.expect('"');
  // RFC 9051 allows a leap second (60); it is read as the next second.
  if (hours > 23 || minutes > 59 || seconds > 60 || zone % 100 > 59) throw syntaxError('bad time in date-time');
  const offsetMinutes = sign * (Math.floor(zone / 100) * 60 + (zone % 100));
  return new Date(utc(year, month, day, hours, minutes, seconds) - offsetMinutes * 60_000);
}
