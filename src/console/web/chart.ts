/**
 * A provider's pool use over time as an SVG chart, no library: stacked areas for allocated, reserved and
 * quarantined addresses under a capacity line, with a text summary for screen readers.
 */
import type { SampleJson } from '../api-types.js';
import { h, svg } from './dom.js';

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 36, right: 12, top: 12, bottom: 24 };

/** Series, bottom to top; colours pass 3:1 against white for graphics (WCAG 1.4.11). */
export const SERIES = [
  { key: 'allocated', label: 'allocated', color: '#1f5fbf' },
  { key: 'reserved', label: 'reserved', color: '#b35c00' },
  { key: 'quarantined', label: 'quarantined', color: '#7a3fb0' },
] as const;

export function poolChart(label: string, address: string, history: readonly SampleJson[]): HTMLElement {
  const points = history
    .map((sample) => ({ at: sample.at, totals: sample.providers[address] }))
    .filter((p): p is { at: number; totals: NonNullable<typeof p.totals> } => p.totals !== undefined);
  const last = points.at(-1)?.totals;
  const summary =
    last === undefined
      ? `${label}: no samples yet`
      : `${label}: ${last.allocated} allocated, ${last.reserved} reserved, ${last.quarantined} quarantined of ${last.capacity}`;
  const figure = h('figure', { class: 'chart', 'data-provider': label });
  if (points.length === 0 || last === undefined) {
    figure.append(h('figcaption', {}, summary));
    return figure;
  }
  const capacity = Math.max(1, ...points.map((p) => Number(p.totals.capacity)));
  const first = points[0]?.at ?? 0;
  const span = Math.max(1, (points.at(-1)?.at ?? first) - first);
  const x = (at: number) => PAD.left + ((at - first) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - (value / capacity) * (HEIGHT - PAD.top - PAD.bottom);
  const areas: SVGElement[] = [];
  let below = points.map(() => 0);
  for (const series of SERIES) {
    const above = points.map((p, i) => (below[i] ?? 0) + Number(p.totals[series.key]));
    const top = points.map((p, i) => `${x(p.at).toFixed(1)},${y(above[i] ?? 0).toFixed(1)}`);
    const bottom = points.map((p, i) => `${x(p.at).toFixed(1)},${y(below[i] ?? 0).toFixed(1)}`).reverse();
    // a single sample still shows as a thin band
    const path =
      points.length === 1
        ? [
            `${PAD.left},${y(above[0] ?? 0)}`,
            `${WIDTH - PAD.right},${y(above[0] ?? 0)}`,
            `${WIDTH - PAD.right},${y(below[0] ?? 0)}`,
            `${PAD.left},${y(below[0] ?? 0)}`,
          ]
        : [...top, ...bottom];
    areas.push(
      svg('polygon', {
        points: path.join(' '),
        fill: series.color,
        'fill-opacity': '0.85',
        'data-series': series.key,
      }),
    );
    below = above;
  }
  const ticks = [0, Math.round(capacity / 2), capacity];
  figure.append(
    svg(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': summary },
      ...ticks.map((tick) =>
        svg(
          'g',
          {},
          svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(tick), y2: y(tick), class: 'grid' }),
          svg('text', { x: PAD.left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'tick' }, String(tick)),
        ),
      ),
      ...areas,
      svg('line', {
        x1: PAD.left,
        x2: WIDTH - PAD.right,
        y1: y(capacity),
        y2: y(capacity),
        class: 'capacity',
      }),
      svg('text', { x: PAD.left, y: HEIGHT - 6, class: 'tick' }, new Date(first).toLocaleTimeString()),
      svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, 'text-anchor': 'end', class: 'tick' }, 'now'),
    ),
    h(
      'figcaption',
      {},
      h(
        'span',
        { class: 'summary', 'data-allocated': last.allocated, 'data-capacity': last.capacity },
        summary,
      ),
      h(
        'span',
        { class: 'legend' },
        ...SERIES.map((s) =>
          h('span', {}, h('span', { class: 'swatch', style: `background:${s.color}` }), ` ${s.label}`),
        ),
      ),
    ),
  );
  return figure;
}
