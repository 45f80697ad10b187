// Scenarios as data (scenarios/*.yaml at the repository root), validated by one zod schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const RainPoint = z.object({ atH: z.number().min(0), mmPerH: z.number().min(0).max(200) });

export const Scenario = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    /** Simulated hours, from the run's start (now, unless `machi simulate --start` says otherwise). */
    durationH: z.number().positive().max(48),
    stepS: z.number().int().positive().default(60),
    seed: z.number().int().default(1),
    /** Drill data: each run is a new exercise with drill client ids, so every alert it causes is a drill. */
    drill: z.boolean().default(false),
    /** Rainfall intensity over time, linearly interpolated. */
    rain: z.array(RainPoint).default([]),
    /** How much faster water gathers in each area than average (low-lying streets > 1). */
    areaLowness: z.record(z.string(), z.number().positive()).default({}),
    crowd: z
      .object({
        enabled: z.boolean().default(true),
        /** Treat the day as a holiday (weekend profile). */
        holiday: z.boolean().default(false),
        /** Extra people at some sites: multiplier during [fromH, toH). */
        uplift: z
          .array(
            z.object({
              sites: z.array(z.string()),
              factor: z.number().positive(),
              fromH: z.number(),
              toH: z.number(),
            }),
          )
          .default([]),
      })
      .default({ enabled: true, holiday: false, uplift: [] }),
    faults: z
      .array(
        z.object({
          deviceId: z.string(),
          kind: z.enum(['stuck-wet', 'dead-battery', 'clock-drift']),
          driftS: z.number().default(0),
        }),
      )
      .default([]),
  })
  .refine((s) => s.rain.every((p, i) => i === 0 || p.atH >= (s.rain[i - 1]?.atH ?? 0)), {
    message: 'rain points must be in time order',
    path: ['rain'],
  });
export type Scenario = z.infer<typeof Scenario>;

export const SCENARIO_DIR = 'scenarios';

export function loadScenario(nameOrPath: string): Scenario {
  const file = nameOrPath.endsWith('.yaml') ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.yaml`);
  const parsed = Scenario.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${file}: ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid scenario:\n  - ${problems.join('\n  - ')}`);
  }
  return parsed.data;
}

/** Rain intensity (mm/h) at simulated hour `h`. */
export function rainAt(s: Scenario, h: number): number {
  const pts = s.rain;
  if (pts.length === 0) return 0;
  const first = pts[0] as { atH: number; mmPerH: number };
  if (h <= first.atH) return first.mmPerH;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1] as { atH: number; mmPerH: number };
    const b = pts[i] as { atH: number; mmPerH: number };
    if (h <= b.atH) return a.mmPerH + ((b.mmPerH - a.mmPerH) * (h - a.atH)) / Math.max(1e-9, b.atH - a.atH);
  }
  return (pts[pts.length - 1] as { mmPerH: number }).mmPerH;
}
