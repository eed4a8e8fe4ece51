import { Histogram as PromHistogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Histogram } from '../src/plugins/histogram.ts';

const options = {
  name: 'test_duration_seconds',
  help: 'A duration',
  labelNames: ['route', 'status_code'],
  buckets: [0.001, 0.005, 0.01, 0.5],
};

/** The same observations into prom-client's Histogram and ours, each in its own registry. */
function both() {
  const theirs = new Registry();
  const ours = new Registry();
  const prom = new PromHistogram({ ...options, registers: [theirs] });
  const histogram = new Histogram({ ...options, registers: [ours] });
  return {
    observe(labels: Record<string, string>, value: number) {
      prom.observe(labels, value);
      histogram.cell(labels).observe(value);
    },
    reset() {
      prom.reset();
      histogram.reset();
    },
    histogram,
    theirs,
    ours,
  };
}

describe('Histogram (label sets resolved once)', () => {
  it("exports exactly what prom-client's Histogram exports for the same observations", async () => {
    const h = both();
    // On a bound (le is inclusive), between bounds, above the last one, zero; two label sets, given in either order.
    for (const value of [0.001, 0.0011, 0.005, 0.2, 0.5, 3, 0]) h.observe({ route: '/a', status_code: '200' }, value);
    h.observe({ status_code: '404', route: '/b' }, 0.007);
    h.observe({ route: '/b', status_code: '404' }, 12);
    expect(await h.ours.metrics()).toBe(await h.theirs.metrics());
    expect(await h.ours.metrics()).toContain('test_duration_seconds_bucket{le="0.005",route="/a",status_code="200"} 4');
  });

  it('keeps one cell per label set, however the labels object is built', () => {
    const { histogram } = both();
    const cell = histogram.cell({ route: '/a', status_code: '200' });
    expect(histogram.cell({ status_code: '200', route: '/a' })).toBe(cell);
    expect(histogram.cell({ route: '/a', status_code: '500' })).not.toBe(cell);
  });

  it('refuses an unknown label and a value that is not a finite number', () => {
    const { histogram } = both();
    expect(() => histogram.cell({ method: 'GET' })).toThrow('test_duration_seconds has no label method');
    expect(() => histogram.observe({ route: '/a' }, Number.NaN)).toThrow('not a finite number');
    expect(() => new Histogram({ ...options, name: 'x', buckets: [1, 0.5], registers: [] })).toThrow('ascend');
  });

  it('zeroes on reset, and a cell kept across the reset still records', async () => {
    const h = both();
    const kept = h.histogram.cell({ route: '/a', status_code: '200' });
    kept.observe(0.002);
    h.reset();
    kept.observe(0.003);
    const text = await h.ours.metrics();
    expect(text).toContain('test_duration_seconds_count{route="/a",status_code="200"} 1');
    expect(text).toContain('test_duration_seconds_sum{route="/a",status_code="200"} 0.003');
  });
});
