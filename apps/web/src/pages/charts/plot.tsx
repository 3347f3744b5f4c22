// The chart itself: a uPlot canvas for a time axis and one or two value scales, as lines or as
// OHLC candles (drawn by a hook: uPlot has none of its own). The numbers uPlot gets are for
// placing pixels only; the legend, which follows the cursor, shows each point's original decimal
// strings. Dragging across the plot zooms in (double-click or "Reset zoom" zooms out); the zoom
// buttons do the same from the keyboard. Every change of the visible range is reported, so the
// page can say what is in view and export exactly that.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface PlotSeries {
  label: string;
  /** `y` (left axis) or `y2` (right axis, for a second currency on its own scale). */
  scale: 'y' | 'y2';
  /** A line through `values`, or candles of `ohlc`. */
  kind: 'line' | 'candles';
  /** Pixel positions only: the value at each x (null where the series has no point). */
  values: (number | null)[];
  /** For candles: open, high, low, close at each x. */
  ohlc?: { open: (number | null)[]; high: (number | null)[]; low: (number | null)[]; close: (number | null)[] };
  /** For candles: whether close ≥ open at each x (decided on the exact strings). */
  rising?: boolean[];
  /** The original string(s) shown in the legend for point `i`: one per drawn value, or per O/H/L/C. */
  text: (i: number) => string[] | undefined;
  /** A CSS custom property naming the colour, e.g. `--accent`. */
  color: string;
}

export interface PlotProps {
  /** Seconds since the epoch, ascending. */
  xs: number[];
  series: PlotSeries[];
  /** Dates read in UTC (CBR days) rather than the reader's zone. */
  utc: boolean;
  /** Room left on either side of the data when all of it is in view (seconds; about one bucket). */
  xPad: number;
  /** The legend's text for an x (the point's date or time as the table shows it). */
  formatX: (x: number) => string;
  /** Axis titles. */
  yLabel: string;
  y2Label?: string | undefined;
  /** What the chart shows, for screen readers (the table below has the figures). */
  summary: string;
  /** The visible x range after every zoom (seconds). */
  onView: (min: number, max: number) => void;
}

/** The visible x range, once the chart has one. */
function xRange(u: uPlot): { min: number; max: number } | undefined {
  const x = u.scales['x'];
  return x && x.min != null && x.max != null ? { min: x.min, max: x.max } : undefined;
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** The hook that paints candles for the series at `first` (open, high, low, close follow). */
function drawCandles(u: uPlot, s: PlotSeries, first: number): void {
  const { ctx } = u;
  const [i0, i1] = u.series[first]!.idxs ?? [0, u.data[0].length - 1];
  const visible = Math.max(1, i1 - i0 + 1);
  const width = Math.max(1, Math.min(14 * devicePixelRatio, (u.bbox.width / visible) * 0.6));
  const up = cssVar('--up');
  const down = cssVar('--down');
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  for (let i = i0; i <= i1; i++) {
    const o = s.ohlc!.open[i];
    const h = s.ohlc!.high[i];
    const l = s.ohlc!.low[i];
    const c = s.ohlc!.close[i];
    if (o == null || h == null || l == null || c == null) continue;
    const x = Math.round(u.valToPos(u.data[0][i]!, 'x', true));
    const yo = u.valToPos(o, s.scale, true);
    const yc = u.valToPos(c, s.scale, true);
    const colour = s.rising?.[i] === false ? down : up;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.beginPath();
    ctx.moveTo(x, u.valToPos(h, s.scale, true));
    ctx.lineTo(x, u.valToPos(l, s.scale, true));
    ctx.stroke();
    ctx.fillRect(x - width / 2, Math.min(yo, yc), width, Math.max(devicePixelRatio, Math.abs(yo - yc)));
  }
  ctx.restore();
}

function options(props: PlotProps, width: number, height: number): uPlot.Options {
  const fg = cssVar('--fg');
  const line = cssVar('--line');
  const series: uPlot.Series[] = [
    { label: props.utc ? 'Date (UTC)' : 'Time', value: (_u, v) => (v == null ? '—' : props.formatX(v)) },
  ];
  const candles: { s: PlotSeries; first: number }[] = [];
  for (const s of props.series) {
    const legend = (part: number) => (_u: uPlot, _v: number, _si: number, i: number | null) =>
      i === null ? '—' : (s.text(i)?.[part] ?? '—');
    if (s.kind === 'line') {
      series.push({
        label: s.label,
        scale: s.scale,
        stroke: cssVar(s.color),
        width: 2,
        spanGaps: true,
        points: { show: (u) => (u.series[1]?.idxs ? u.series[1].idxs[1] - u.series[1].idxs[0] < 60 : false) },
        value: legend(0),
      });
    } else {
      candles.push({ s, first: series.length });
      for (const [k, part] of (['open', 'high', 'low', 'close'] as const).entries()) {
        series.push({
          label: `${s.label} ${part}`,
          scale: s.scale,
          stroke: cssVar(s.color),
          paths: () => null,
          points: { show: false },
          value: legend(k),
        });
      }
    }
  }
  const axis = (scale: string, side: 1 | 3, label: string | undefined): uPlot.Axis => ({
    scale,
    side,
    label,
    stroke: fg,
    grid: { stroke: line, width: 1, show: side === 3 },
    ticks: { stroke: line, width: 1 },
    size: 70,
  });
  const axes: uPlot.Axis[] = [{ stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } }];
  axes.push(axis('y', 3, props.yLabel));
  if (props.series.some((s) => s.scale === 'y2')) axes.push(axis('y2', 1, props.y2Label));
  return {
    width,
    height,
    series,
    axes,
    scales: {
      x: {
        time: true,
        // all of the data in view: a bucket's room either side, so the edge candles show whole (and
        // a single point gets a sensible axis)
        range: (_u, min, max) => {
          const xs = props.xs;
          const lo = xs[0] ?? min;
          const hi = xs[xs.length - 1] ?? max;
          return min <= lo && max >= hi ? [lo - props.xPad, hi + props.xPad] : [min, max];
        },
      },
    },
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    ...(props.utc ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') } : {}),
    hooks: {
      draw: [(u) => candles.forEach(({ s, first }) => drawCandles(u, s, first))],
      setScale: [
        (u, key) => {
          const x = key === 'x' ? xRange(u) : undefined;
          if (x) props.onView(x.min, x.max);
        },
      ],
    },
  };
}

const sizeOf = (el: HTMLElement) => ({
  width: Math.max(240, Math.floor(el.clientWidth)),
  height: el.clientWidth < 600 ? 240 : 340,
});

export function Plot(props: PlotProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>();
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = host.current!;
    const { width, height } = sizeOf(el);
    const data: uPlot.AlignedData = [
      props.xs,
      ...props.series.flatMap((s) =>
        s.kind === 'line' ? [s.values] : [s.ohlc!.open, s.ohlc!.high, s.ohlc!.low, s.ohlc!.close],
      ),
    ];
    const u = new uPlot(
      options(
        { ...props, onView: (a, b) => latest.current.onView(a, b), formatX: (x) => latest.current.formatX(x) },
        width,
        height,
      ),
      data,
      el,
    );
    chart.current = u;
    const x = xRange(u);
    if (x) props.onView(x.min, x.max);
    const resize = new ResizeObserver(() => {
      const size = sizeOf(el);
      if (size.width !== u.width || size.height !== u.height) u.setSize(size);
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      chart.current = undefined;
    };
  }, [props.xs, props.series]);

  const zoom = (factor: number) => {
    const u = chart.current;
    const xs = latest.current.xs;
    const x = u && xRange(u);
    if (!u || !x || !xs.length) return;
    const lo = xs[0]!;
    const hi = xs[xs.length - 1]!;
    const mid = (x.min + x.max) / 2;
    const half = Math.max(((x.max - x.min) * factor) / 2, 1800);
    u.setScale('x', { min: Math.max(lo, mid - half), max: Math.min(hi, mid + half) });
  };
  // new data resets the scales to the whole range
  const reset = () => chart.current?.setData(chart.current.data, true);

  return (
    <figure class="plot">
      <div class="plot-tools" role="group" aria-label="Zoom">
        <button type="button" class="secondary" onClick={() => zoom(0.5)}>
          Zoom in
        </button>
        <button type="button" class="secondary" onClick={() => zoom(2)}>
          Zoom out
        </button>
        <button type="button" class="secondary" onClick={reset}>
          Reset zoom
        </button>
        <span class="hint">Drag across the chart to zoom; double-click to zoom out.</span>
      </div>
      <div class="plot-canvas" ref={host} role="img" aria-label={props.summary} />
    </figure>
  );
}
