// Writes the `spec` of each PrometheusRule as a plain Prometheus rule file, the format promtool reads.
// Usage: node src/tools/extract-rules.ts <rules.yaml> <out.rules.yaml>
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { parseYamlStream } from '../lib/render.ts';

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  console.error('usage: extract-rules.ts <PrometheusRule file> <output rule file>');
  process.exit(2);
}
const groups = (parseYamlStream(readFileSync(source, 'utf8'), source) as any[])
  .filter((object) => object.kind === 'PrometheusRule')
  .flatMap((object) => object.spec.groups);
writeFileSync(target, stringify({ groups }));
