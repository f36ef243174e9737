/**
 * Plots of the experiment results: Vega-Lite specs built from result objects, rendered to SVG in Node
 * with vega + vega-lite (both ESM-only, hence the dynamic imports from this CommonJS package).
 */

/** A Vega-Lite specification (kept loose: the builders below are the only producers). */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 360, HEIGHT = 260;

/** Renders a Vega-Lite spec to an SVG string (no browser, no canvas). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Cell edges for a sorted grid of values: midpoints between neighbours, half a step beyond the ends. */
function edges(values: readonly number[]): Map<number, [number, number]> {
  const v = [...new Set(values)].sort((a, b) => a - b), out = new Map<number, [number, number]>();
  v.forEach((x, i) => {
    const lo = i > 0 ? (v[i - 1] + x) / 2 : x - (v.length > 1 ? (v[1] - x) / 2 : 0.5);
    const hi = i < v.length - 1 ? (x + v[i + 1]) / 2 : x + (v.length > 1 ? (x - v[i - 1]) / 2 : 0.5);
    out.set(x, [lo, hi]);
  });
  return out;
}

/** One heatmap cell. */
export interface HeatCell {
  x: number;
  y: number;
  value: number;
}

/** Options of `heatmapSpec`. */
export interface HeatmapOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  valueTitle: string;
  /** Points drawn over the map (e.g. the 50 % crossings). */
  points?: { x: number; y: number }[];
  /** A line y = slope x + intercept drawn across the map (e.g. the fitted boundary). */
  line?: { slope: number; intercept: number; label: string };
}

/** A heatmap on numeric axes (cells span the midpoints between grid values) with optional overlays. */
export function heatmapSpec(cells: readonly HeatCell[], o: HeatmapOptions): VegaLiteSpec {
  const ex = edges(cells.map((c) => c.x)), ey = edges(cells.map((c) => c.y));
  const xs = [...ex.values()], ys = [...ey.values()];
  const xMin = Math.min(...xs.map((e) => e[0])), xMax = Math.max(...xs.map((e) => e[1]));
  const yMin = Math.min(...ys.map((e) => e[0])), yMax = Math.max(...ys.map((e) => e[1]));
  const xScale = { domain: [xMin, xMax], nice: false, zero: false };
  const yScale = { domain: [yMin, yMax], nice: false, zero: false };
  const layer: VegaLiteSpec[] = [{
    data: { values: cells.map((c) => ({ ...c, x0: ex.get(c.x)![0], x1: ex.get(c.x)![1], y0: ey.get(c.y)![0], y1: ey.get(c.y)![1] })) },
    mark: 'rect',
    encoding: {
      x: { field: 'x0', type: 'quantitative', title: o.xTitle, scale: xScale },
      x2: { field: 'x1' },
      y: { field: 'y0', type: 'quantitative', title: o.yTitle, scale: yScale },
      y2: { field: 'y1' },
      color: { field: 'value', type: 'quantitative', title: o.valueTitle, scale: { domain: [0, 1], scheme: 'viridis' } },
      tooltip: [{ field: 'x' }, { field: 'y' }, { field: 'value' }],
    },
  }];
  if (o.line && Number.isFinite(o.line.slope) && Number.isFinite(o.line.intercept)) {
    const { slope, intercept, label } = o.line;
    const clip = (x: number): { x: number; y: number } => ({ x, y: slope * x + intercept });
    const seg = [clip(xMin), clip(xMax)].map((p) => ({ ...p, label }));
    layer.push({
      data: { values: seg },
      mark: { type: 'line', color: '#e4572e', strokeWidth: 2.5, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale },
        y: { field: 'y', type: 'quantitative', scale: yScale },
        strokeDash: { field: 'label', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      },
    });
  }
  if (o.points?.length) {
    layer.push({
      data: { values: o.points },
      mark: { type: 'point', shape: 'diamond', filled: true, color: '#e4572e', size: 60, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: xScale },
        y: { field: 'y', type: 'quantitative', scale: yScale },
      },
    });
  }
  return { $schema: SCHEMA, title: o.title, width: WIDTH, height: HEIGHT, layer };
}

/** One point of a line chart. */
export interface SeriesPoint {
  x: number;
  y: number;
  series: string;
}

/** Options of `lineSpec`. */
export interface LineOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  logX?: boolean;
  yDomain?: [number, number];
  /** Horizontal reference lines (e.g. the intrinsic dimension). */
  rules?: { y: number; label: string }[];
}

/** A line chart with one line (and point marks) per series. */
export function lineSpec(points: readonly SeriesPoint[], o: LineOptions): VegaLiteSpec {
  const layer: VegaLiteSpec[] = [{
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle, scale: o.logX ? { type: 'log' } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: o.yDomain ? { domain: o.yDomain } : { zero: true } },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y' }],
    },
  }];
  if (o.rules?.length) {
    layer.push({
      data: { values: o.rules },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    }, {
      data: { values: o.rules },
      mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' },
      encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
    });
  }
  return { $schema: SCHEMA, title: o.title, width: WIDTH, height: HEIGHT, layer };
}

/** Options of `scatterSpec`. */
export interface ScatterOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Facet column field values, one small plot per value. */
  facet?: boolean;
}

/** One scatter point; `facet` names the small plot it belongs to. */
export interface ScatterPoint {
  x: number;
  y: number;
  series: string;
  facet?: string;
}

/** A scatter plot coloured by series, optionally faceted into columns. */
export function scatterSpec(points: readonly ScatterPoint[], o: ScatterOptions): VegaLiteSpec {
  const inner = {
    mark: { type: 'point', filled: true, size: 18, opacity: 0.7 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle },
      y: { field: 'y', type: 'quantitative', title: o.yTitle },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      shape: { field: 'series', type: 'nominal', title: null },
    },
  };
  if (o.facet) {
    return {
      $schema: SCHEMA, title: o.title, data: { values: points },
      facet: { column: { field: 'facet', type: 'nominal', title: null } },
      spec: { width: 240, height: 240, ...inner },
    };
  }
  return { $schema: SCHEMA, title: o.title, width: WIDTH, height: HEIGHT, data: { values: points }, ...inner };
}

/** One bar. */
export interface Bar {
  label: string;
  value: number;
  group?: string;
}

/** A bar chart (grouped when bars carry a group). */
export function barSpec(bars: readonly Bar[], o: { title: string; yTitle: string; yDomain?: [number, number] }): VegaLiteSpec {
  return {
    $schema: SCHEMA, title: o.title, width: WIDTH, height: HEIGHT, data: { values: bars },
    layer: [{
      mark: 'bar',
      encoding: {
        x: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelAngle: 0 } },
        xOffset: bars.some((b) => b.group) ? { field: 'group' } : undefined,
        y: { field: 'value', type: 'quantitative', title: o.yTitle, scale: o.yDomain ? { domain: o.yDomain } : {} },
        color: { field: bars.some((b) => b.group) ? 'group' : 'label', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      },
    }, {
      mark: { type: 'text', dy: -6 },
      encoding: {
        x: { field: 'label', type: 'nominal', sort: null },
        xOffset: bars.some((b) => b.group) ? { field: 'group' } : undefined,
        y: { field: 'value', type: 'quantitative' },
        text: { field: 'value', type: 'quantitative', format: '.3f' },
      },
    }],
  };
}
