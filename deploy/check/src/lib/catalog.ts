import { readFileSync } from 'node:fs';
import { metricsCatalogPath } from './paths.ts';

type Catalog = {
  metrics: Record<string, { type: string; labels: string[] }>;
  external: { prefixes: string[] };
};

const catalog = JSON.parse(readFileSync(metricsCatalogPath, 'utf8')) as Catalog;

const histogramSuffixes = ['_bucket', '_sum', '_count'];
const promClientPrefixes = ['process_', 'nodejs_'];

/** PromQL functions, keywords and aggregation words that look like metric names to the extractor. */
const promqlWords = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'topk',
  'bottomk',
  'abs',
  'delta',
  'deriv',
  'label_values',
  'label_replace',
  'vector',
  'scalar',
  'time',
  'clamp_min',
  'clamp_max',
  'humanizePercentage',
  'humanizeDuration',
  'le',
  'quantile',
]);

/**
 * Metric names in a PromQL expression: whole identifiers outside quotes, label matchers, ranges and by(...) lists,
 * not followed by "(" (functions), and not PromQL words.
 */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutMatchers = withoutStrings.replace(/\{[^}]*\}/g, '{}');
  const withoutGrouping = withoutMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const withoutRanges = withoutGrouping.replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const match of withoutRanges.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const next = withoutRanges.slice((match.index ?? 0) + word.length).trimStart();
    if (next.startsWith('(')) continue;
    if (promqlWords.has(word) || /^\d/.test(word) || /^(e|Inf|NaN)$/i.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Why a metric may not be queried, or undefined when it may. */
export function metricProblem(name: string): string | undefined {
  if (name.startsWith('atrium_') || name.startsWith('http_')) {
    if (catalog.metrics[name]) {
      return catalog.metrics[name].type === 'histogram'
        ? `${name} is a histogram: query ${name}_bucket, _sum or _count`
        : undefined;
    }
    const suffix = histogramSuffixes.find((s) => name.endsWith(s));
    if (suffix) {
      const base = name.slice(0, -suffix.length);
      if (catalog.metrics[base]?.type === 'histogram') return undefined;
    }
    return `${name} is not in packages/contracts/src/metrics-catalog.json`;
  }
  if (promClientPrefixes.some((p) => name.startsWith(p))) return undefined;
  if (catalog.external.prefixes.some((p) => name === p || name.startsWith(p))) return undefined;
  return `${name} matches neither the catalog, prom-client defaults nor external.prefixes`;
}
