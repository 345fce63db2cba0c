// The overview page's chart: visitors, sessions and page views per day, read
// from #chart[data-series] and drawn with uPlot. It follows the width of its
// container, so it fits a phone as well as a wide screen.

import uPlot from 'uplot';

interface Series {
  days: string[];
  visitors: number[];
  sessions: number[];
  page_views: number[];
}

const DAY_SECONDS = 24 * 3600;

function parseSeries(raw: string): Series {
  const s = JSON.parse(raw) as Partial<Series>;
  const days = Array.isArray(s.days) ? s.days : [];
  const column = (v: unknown): number[] =>
    days.map((_, i) => (Array.isArray(v) && typeof v[i] === 'number' ? v[i] : 0));
  return {
    days,
    visitors: column(s.visitors),
    sessions: column(s.sessions),
    page_views: column(s.page_views),
  };
}

// dayStart turns "2026-12-01" into Unix seconds at midnight UTC; the chart
// shows these in UTC, so each point is labelled with the day it stands for,
// whatever the browser's time zone.
function dayStart(day: string): number {
  const t = Date.parse(day + 'T00:00:00Z');
  return isNaN(t) ? 0 : t / 1000;
}

// Whole days for the time axis, labelled like "Dec 1" in the browser's
// language; the points stand for days in UTC (see dayStart).
const daySteps = [1, 2, 7, 14, 28, 91, 182, 364].map((d) => d * DAY_SECONDS);
const dayLabel = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const dayFull = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});

// Whole-number steps for the count axis: there is no half a visitor.
const countSteps: number[] = [];
for (let p = 1; p <= 1e9; p *= 10) countSteps.push(p, 2 * p, 5 * p);

function heightFor(width: number): number {
  return width < 560 ? 220 : 300;
}

function render(chart: HTMLElement): void {
  let series: Series;
  try {
    series = parseSeries(chart.dataset.series || '{}');
  } catch {
    chart.dataset.state = 'error';
    chart.innerHTML = '<p class="error">The chart data could not be read.</p>';
    return;
  }
  const all = [...series.visitors, ...series.sessions, ...series.page_views];
  if (series.days.length === 0 || all.every((v) => v === 0)) {
    chart.dataset.state = 'empty';
    chart.innerHTML = '<p class="empty">No visits in this period.</p>';
    return;
  }

  const style = getComputedStyle(document.documentElement);
  const colour = (name: string, fallback: string) =>
    style.getPropertyValue(name).trim() || fallback;
  const grid = { stroke: colour('--line', '#e4e7ec'), width: 1 };
  const axis = { stroke: colour('--muted', '#667085'), grid, ticks: grid };
  const line = (label: string, stroke: string, fill?: string): uPlot.Series => ({
    label,
    stroke,
    fill,
    width: 2,
    points: { size: 5 },
    value: (_u, v) => (v == null ? '–' : v.toLocaleString()),
  });

  const width = Math.max(chart.clientWidth, 240);
  const opts: uPlot.Options = {
    width,
    height: heightFor(width),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { points: { size: 7 } },
    scales: {
      x: {
        time: true,
        // A single day still gets a day's width to stand in.
        range: (_u, min, max) =>
          min === max ? [min - DAY_SECONDS / 2, max + DAY_SECONDS / 2] : [min, max],
      },
      y: { range: (_u, _min, max) => [0, Math.max(max, 4) * 1.1] },
    },
    axes: [
      {
        ...axis,
        space: 64,
        incrs: daySteps,
        values: (_u, ticks) => ticks.map((t) => dayLabel.format(new Date(t * 1000))),
      },
      {
        ...axis,
        incrs: countSteps,
        size: 48,
        values: (_u, ticks) => ticks.map((v) => v.toLocaleString()),
      },
    ],
    series: [
      {
        label: 'Day',
        value: (_u, t) => (t == null ? '–' : dayFull.format(new Date(t * 1000))),
      },
      line('Visitors', colour('--accent', '#4f46e5'), colour('--accent-fill', 'rgba(79,70,229,.08)')),
      line('Sessions', colour('--chart-2', '#0ea5e9')),
      line('Page views', colour('--chart-3', '#f59e0b')),
    ],
  };
  const data: uPlot.AlignedData = [
    series.days.map(dayStart),
    series.visitors,
    series.sessions,
    series.page_views,
  ];

  chart.textContent = '';
  const plot = new uPlot(opts, data, chart);
  chart.dataset.state = 'ready';

  let lastWidth = width;
  new ResizeObserver(() => {
    const w = Math.max(chart.clientWidth, 240);
    if (w === lastWidth) return;
    lastWidth = w;
    plot.setSize({ width: w, height: heightFor(w) });
  }).observe(chart);
}

const chart = document.getElementById('chart');
if (chart) render(chart);
