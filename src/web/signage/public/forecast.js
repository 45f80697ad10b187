// The forecast as a few columns readable from a few metres, whatever step the forecaster uses.

const HOUR = 3_600_000;
const RANK = { 'not-crowded': 0, 'somewhat-crowded': 1, crowded: 2 };

/**
 * At most `max` columns from a CongestionMessage's `next` steps. Steps shorter than an hour (the
 * demo's 15 minutes) are summed up per clock hour — JST is a whole number of hours from UTC — with
 * the most crowded level and the largest forecast among them, so a visitor is never told an hour is
 * quieter than part of it will be. Each column starts at its first step.
 */
export function forecastColumns(steps, max) {
  const columns = [];
  for (const step of steps) {
    const start = Date.parse(step.start);
    const key = Date.parse(step.end) - start < HOUR ? Math.floor(start / HOUR) : start;
    const last = columns.at(-1);
    if (last?.key === key) {
      if (RANK[step.level] > RANK[last.level]) last.level = step.level;
      last.forecast = Math.max(last.forecast, step.forecast);
    } else columns.push({ key, start: step.start, level: step.level, forecast: step.forecast });
  }
  return columns.slice(0, max);
}
