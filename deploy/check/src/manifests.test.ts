// Every YAML file under deploy/ parses strictly (duplicate keys are errors), and Argo CD points at real overlays.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listFiles } from './lib/files.ts';
import { validateModel } from './lib/models.ts';
import { argocdDir, deployDir, overlays, repoRoot } from './lib/paths.ts';
import { kubectlMissing, parseYamlStream, render } from './lib/render.ts';

describe('YAML files', () => {
  it('parse without errors or duplicate keys', () => {
    const files = listFiles(deployDir, (n) => n.endsWith('.yaml') || n.endsWith('.yml'));
    assert.ok(files.length > 20, 'expected the manifests to be found');
    for (const file of files) parseYamlStream(readFileSync(file, 'utf8'), file);
  });
});

describe('Argo CD', () => {
  const missing = kubectlMissing();
  it('objects validate and every generated path is an overlay that exists', {
    skip: missing && `skipped: ${missing}`,
  }, async () => {
    const objects = render(argocdDir);
    for (const object of objects) await validateModel(object);
    const paths = objects
      .filter((o) => o.kind === 'ApplicationSet')
      .flatMap((set) => {
        const template: string = set.spec.template.spec.source.path;
        return set.spec.generators[0].list.elements.map((e: any) => template.replace('{{.env}}', e.env));
      });
    assert.deepEqual(paths.map((p) => p.replace('deploy/k8s/overlays/', '')).sort(), [...overlays].sort());
    for (const path of paths) assert.ok(existsSync(join(repoRoot, path, 'kustomization.yaml')), path);
    const production = objects
      .filter((o) => o.kind === 'ApplicationSet')
      .flatMap((set) => set.spec.generators[0].list.elements)
      .filter((e: any) => e.env === 'production');
    for (const element of production) assert.equal(element.autoSync, 'false', 'production syncs only by hand');
  });
});
