import { describe, expect, it } from 'vitest';
import { isJapaneseHoliday, japaneseHolidays } from '../../src/forecast/model/holidays-jp.ts';

const days = (y: number, m: number) =>
  [...japaneseHolidays(y).keys()].filter((k) => k.startsWith(`${y}-${String(m).padStart(2, '0')}`)).sort();

describe('Japanese holidays by rule', () => {
  it('2019 Golden Week: ten days off around the enthronement', () => {
    expect([...days(2019, 4), ...days(2019, 5)]).toEqual([
      '2019-04-29',
      '2019-04-30',
      '2019-05-01',
      '2019-05-02',
      '2019-05-03',
      '2019-05-04',
      '2019-05-05',
      '2019-05-06',
    ]);
    expect(isJapaneseHoliday('2019-10-22')).toBe(true);
    expect(isJapaneseHoliday('2019-12-23')).toBe(false);
  });

  it('2020 and 2021 Olympic shifts', () => {
    expect(days(2020, 7)).toEqual(['2020-07-23', '2020-07-24']);
    expect(days(2020, 8)).toEqual(['2020-08-10']);
    expect(days(2020, 10)).toEqual([]);
    expect(days(2021, 7)).toEqual(['2021-07-22', '2021-07-23']);
    expect(days(2021, 8)).toEqual(['2021-08-08', '2021-08-09']); // Mountain Day on a Sunday → Monday off
  });

  it('substitute holidays skip over following holidays', () => {
    expect(isJapaneseHoliday('2020-05-06')).toBe(true); // May 3 was a Sunday; May 4 and 5 were holidays
    expect(isJapaneseHoliday('2024-02-12')).toBe(true); // Feb 11 on a Sunday
  });

  it('sandwiched citizens’ holidays and equinoxes', () => {
    expect(days(2026, 9)).toEqual(['2026-09-21', '2026-09-22', '2026-09-23']);
    expect(days(2015, 9)).toEqual(['2015-09-21', '2015-09-22', '2015-09-23']);
    expect(isJapaneseHoliday('2025-03-20')).toBe(true);
    expect(isJapaneseHoliday('2024-09-22')).toBe(true);
    expect(isJapaneseHoliday('2024-09-23')).toBe(true); // substitute for the equinox on Sunday
  });

  it('Happy Monday days', () => {
    expect(isJapaneseHoliday('2026-01-12')).toBe(true); // Coming of Age Day
    expect(isJapaneseHoliday('2026-10-12')).toBe(true); // Sports Day
    expect(isJapaneseHoliday('2026-07-20')).toBe(true); // Marine Day
  });
});
