// A flood sensor's water depth and wet/dry state over the last hours, drawn with uPlot (global
// `uPlot`, served from node_modules under /vendor/uplot/). Depth and float height share a cm
// scale; wet/dry is a step on a scale of its own.

const tokyoDate = (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Asia/Tokyo');
const stepped = uPlot.paths.stepped({ align: 1 });

/** The SeriesAnswer's points as uPlot's columns: time (s), depth, float height, wet (1/0). */
export function columns(series) {
  const floatCm = (stage) => (stage === null ? null : stage === 0 ? 0 : (series.stagesCm[stage - 1] ?? null));
  const p = series.points;
  return [
    p.map((pt) => Date.parse(pt.time) / 1000),
    p.map((pt) => pt.depthCm),
    p.map((pt) => floatCm(pt.stage)),
    p.map((pt) => (pt.wet === null ? null : Number(pt.wet))),
  ];
}

/** Replaces whatever `container` held with a chart of `series`; returns the uPlot instance. */
export function drawChart(container, series) {
  container.replaceChildren();
  const warning = series.depthThresholdsCm?.warning ?? 0;
  const opts = {
    width: container.clientWidth,
    height: 300,
    tzDate: tokyoDate,
    scales: {
      x: { time: true, range: [Date.parse(series.from) / 1000, Date.parse(series.to) / 1000] },
      cm: { range: (_u, _min, max) => [0, Math.max(10, warning, ...series.stagesCm, max ?? 0) * 1.1] },
      wet: { range: [0, 1.25] },
    },
    series: [
      {},
      { label: '水深 depth (cm)', scale: 'cm', stroke: '#1565c0', width: 2, spanGaps: true },
      {
        label: 'フロート float (cm)',
        scale: 'cm',
        stroke: '#00838f',
        width: 2,
        spanGaps: true,
        paths: stepped,
      },
      {
        label: '冠水 wet',
        scale: 'wet',
        stroke: '#c62828',
        fill: 'rgba(198, 40, 40, 0.15)',
        width: 1,
        spanGaps: true,
        paths: stepped,
        value: (_u, v) => (v === null ? '—' : v ? 'wet 冠水' : 'dry'),
      },
    ],
    axes: [
      {},
      { scale: 'cm', label: 'cm' },
      {
        scale: 'wet',
        side: 1,
        splits: () => [0, 1],
        values: (_u, splits) => splits.map((v) => (v === 1 ? 'wet' : 'dry')),
        grid: { show: false },
      },
    ],
  };
  const chart = new uPlot(opts, columns(series), container);
  Object.assign(container.dataset, { sensor: series.deviceId, points: String(series.points.length) });
  return chart;
}
