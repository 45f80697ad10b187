// Japanese national holidays computed by rule for any year from 1980 to 2099: fixed dates,
// Happy Monday days, equinoxes by the usual astronomical approximation, the 2019–2021 special
// years (enthronement, Olympic shifts), sandwiched citizens' holidays and substitute holidays.
const pad = (n: number) => String(n).padStart(2, '0');
const key = (y: number, m: number, d: number) => `${y}-${pad(m)}-${pad(d)}`;

/** Day of the month of the n-th Monday (n from 1) of month m. */
function nthMonday(y: number, m: number, n: number): number {
  const firstDow = new Date(Date.UTC(y, m - 1, 1)).getUTCDay();
  return 1 + ((8 - firstDow) % 7) + (n - 1) * 7;
}

const vernal = (y: number) => Math.floor(20.8431 + 0.242194 * (y - 1980) - Math.floor((y - 1980) / 4));
const autumnal = (y: number) => Math.floor(23.2488 + 0.242194 * (y - 1980) - Math.floor((y - 1980) / 4));

function baseHolidays(y: number): Map<string, string> {
  const h = new Map<string, string>();
  const add = (m: number, d: number, name: string) => h.set(key(y, m, d), name);
  add(1, 1, "New Year's Day");
  add(1, y >= 2000 ? nthMonday(y, 1, 2) : 15, 'Coming of Age Day');
  add(2, 11, 'National Foundation Day');
  if (y >= 2020) add(2, 23, "Emperor's Birthday");
  if (y >= 1989 && y <= 2018) add(12, 23, "Emperor's Birthday");
  add(3, vernal(y), 'Vernal Equinox Day');
  add(4, 29, y >= 2007 ? 'Showa Day' : y >= 1989 ? 'Greenery Day' : "Emperor's Birthday");
  add(5, 3, 'Constitution Memorial Day');
  if (y >= 2007) add(5, 4, 'Greenery Day');
  add(5, 5, "Children's Day");
  if (y === 2020) add(7, 23, 'Marine Day');
  else if (y === 2021) add(7, 22, 'Marine Day');
  else if (y >= 2003) add(7, nthMonday(y, 7, 3), 'Marine Day');
  else if (y >= 1996) add(7, 20, 'Marine Day');
  if (y === 2020) add(8, 10, 'Mountain Day');
  else if (y === 2021) add(8, 8, 'Mountain Day');
  else if (y >= 2016) add(8, 11, 'Mountain Day');
  add(9, y >= 2003 ? nthMonday(y, 9, 3) : 15, 'Respect for the Aged Day');
  add(9, autumnal(y), 'Autumnal Equinox Day');
  if (y === 2020) add(7, 24, 'Sports Day');
  else if (y === 2021) add(7, 23, 'Sports Day');
  else add(10, y >= 2000 ? nthMonday(y, 10, 2) : 10, y >= 2020 ? 'Sports Day' : 'Health and Sports Day');
  add(11, 3, 'Culture Day');
  add(11, 23, 'Labour Thanksgiving Day');
  if (y === 2019) {
    add(5, 1, 'Enthronement Day');
    add(10, 22, 'Enthronement Ceremony Day');
  }
  return h;
}

const cache = new Map<number, Map<string, string>>();

/** All holidays of a year, keyed YYYY-MM-DD. */
export function japaneseHolidays(y: number): Map<string, string> {
  const cached = cache.get(y);
  if (cached) return cached;
  const h = baseHolidays(y);
  const day = (d: Date) => key(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  const shift = (k: string, days: number) => {
    const d = new Date(`${k}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + days);
    return d;
  };
  // A day between two holidays becomes a citizens' holiday (since 1988).
  if (y >= 1988) {
    for (const k of [...h.keys()].sort()) {
      const next = day(shift(k, 2));
      const middle = shift(k, 1);
      if (h.has(next) && !h.has(day(middle)) && middle.getUTCDay() !== 0)
        h.set(day(middle), "Citizens' Holiday");
    }
  }
  // A holiday on a Sunday moves to the next day that is not a holiday (since 1973).
  for (const k of [...h.keys()].sort()) {
    if (new Date(`${k}T00:00:00Z`).getUTCDay() !== 0) continue;
    let d = shift(k, 1);
    while (h.has(day(d))) d = shift(day(d), 1);
    h.set(day(d), 'Substitute Holiday');
  }
  cache.set(y, h);
  return h;
}

export function isJapaneseHoliday(dateKey: string): boolean {
  return japaneseHolidays(Number(dateKey.slice(0, 4))).has(dateKey);
}
