import type { Registry } from 'prom-client';

/** One label set's buckets (each bucket's own count, made cumulative when exported), sum and count. */
export interface HistogramCell {
  observe(value: number): void;
}

class Cell implements HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(labels: Record<string, string>, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  clear() {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(value: number) {
    if (!Number.isFinite(value)) throw new TypeError(`histogram value is not a finite number: ${value}`);
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

export interface HistogramOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** Upper bounds, ascending; +Inf is implied. */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A Prometheus histogram whose label sets are resolved once. prom-client's `observe(labels, value)` checks the
 * label names, builds a string key from the values and looks it up on every call: ~0.6 us and two short-lived
 * objects, paid twice by every request (the request duration and a seat store call) on the licensing hot paths.
 * Here a caller that records the same label set again and again keeps its `cell(labels)`, and recording is a
 * few additions. `observe(labels, value)` remains for occasional callers. Registered with prom-client's registry
 * and exported by it in the text format prom-client's own Histogram writes (histogram.test.ts compares them).
 */
export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  private readonly bounds: readonly number[];
  private readonly cells = new Map<string, Cell>();

  constructor(options: HistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...options.labelNames].sort();
    this.bounds = [...options.buckets];
    for (let i = 1; i < this.bounds.length; i++) {
      if ((this.bounds[i] as number) <= (this.bounds[i - 1] as number))
        throw new Error(`${this.name}: buckets must ascend`);
    }
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The cell of one label set, to keep and record into. */
  cell(labels: Record<string, string>): HistogramCell {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) throw new Error(`${this.name} has no label ${name}`);
    }
    const key = this.labelNames.map((name) => labels[name] ?? '').join('\u0000');
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new Cell({ ...labels }, this.bounds);
      this.cells.set(key, cell);
    }
    return cell;
  }

  observe(labels: Record<string, string>, value: number) {
    this.cell(labels).observe(value);
  }

  /** Zeroes every label set; cells that callers keep stay valid. */
  reset() {
    for (const cell of this.cells.values()) cell.clear();
  }

  /** What prom-client's registry exports: `_bucket` (cumulative, with `le`), `_sum` and `_count` per label set. */
  async get() {
    const bucket = `${this.name}_bucket`;
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i] as number;
        values.push({
          labels: { le: this.bounds[i] as number, ...cell.labels },
          value: cumulative,
          metricName: bucket,
        });
      }
      values.push({ labels: { le: '+Inf', ...cell.labels }, value: cell.count, metricName: bucket });
      values.push({ labels: { ...cell.labels }, value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...cell.labels }, value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
