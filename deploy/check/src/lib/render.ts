import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { k8sDir, type Overlay } from './paths.ts';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: unknown;
};

/** Why kustomize rendering cannot run here, or undefined when it can. */
export function kubectlMissing(): string | undefined {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'kubectl not found on PATH';
  }
}

const cache = new Map<string, K8sObject[]>();

/** Renders a kustomization directory with `kubectl kustomize` and parses it strictly (duplicate keys are errors). */
export function render(dir: string): K8sObject[] {
  const cached = cache.get(dir);
  if (cached) return cached;
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const objects = parseYamlStream(text, dir) as K8sObject[];
  cache.set(dir, objects);
  return objects;
}

export function renderOverlay(overlay: Overlay): K8sObject[] {
  return render(join(k8sDir, 'overlays', overlay));
}

/** A kustomization that exists only for a check: directories under deploy/k8s plus patch files written beside it. */
export type Scratch = {
  /** Directories relative to deploy/k8s, e.g. `overlays/gcp/dev`. */
  resources: string[];
  /** Component directories relative to deploy/k8s, e.g. `components/tracing`. */
  components?: string[];
  /** Patch files by name and content, listed under `patches:` in this order (they run after the components). */
  patches?: Record<string, string>;
};

/**
 * Renders a scratch kustomization from a temporary directory, to check opt-in components on top of the real
 * overlays without editing them. kustomize refuses absolute resource paths, so every path is made relative.
 */
export function renderScratch(scratch: Scratch): K8sObject[] {
  const key = `scratch:${JSON.stringify(scratch)}`;
  const cached = cache.get(key);
  if (cached) return cached;
  // Real path: kustomize resolves symlinks (e.g. a linked TMPDIR) before following the relative paths.
  const dir = mkdtempSync(join(realpathSync(tmpdir()), 'atrium-kustomize-'));
  try {
    const path = (p: string) => relative(dir, join(k8sDir, p));
    const patches = Object.entries(scratch.patches ?? {});
    for (const [name, text] of patches) writeFileSync(join(dir, name), text);
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: scratch.resources.map(path),
      components: (scratch.components ?? []).map(path),
      patches: patches.map(([name]) => ({ path: name })),
    };
    // JSON is YAML: no serializer needed.
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization, null, 2));
    const objects = render(dir);
    cache.set(key, objects);
    return objects;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses a multi-document YAML stream; throws on syntax errors and duplicate keys. */
export function parseYamlStream(text: string, source: string): unknown[] {
  return parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS();
    })
    .filter((value) => value !== null);
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is missing`);
  return found;
}

/** The pod template spec of a workload (Deployment, StatefulSet, Job). */
export function podSpec(workload: K8sObject): any {
  return workload.spec.template.spec;
}

export function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind));
}
