// Every object every overlay renders must match its Kubernetes or CRD schema (wrong types, enums, required fields).
import { describe, it } from 'node:test';
import { validateModel } from './lib/models.ts';
import { overlays } from './lib/paths.ts';
import { type K8sObject, kubectlMissing, renderOverlay } from './lib/render.ts';
import { tracingScenarios } from './lib/tracing.ts';

const missing = kubectlMissing();

async function problems(objects: K8sObject[]): Promise<string[]> {
  const found: string[] = [];
  for (const object of objects) {
    try {
      await validateModel(object);
    } catch (err) {
      found.push(`${object.kind}/${object.metadata?.name}: ${(err as Error).message}`);
    }
  }
  return found;
}

describe('rendered objects validate against kubernetes-models', () => {
  for (const overlay of overlays) {
    it(`${overlay}`, { skip: missing && `skipped: ${missing}` }, async () => {
      const found = await problems(renderOverlay(overlay));
      if (found.length > 0) throw new Error(found.join('\n'));
    });
  }
  // Opt-in components are not in any committed overlay; validate them where they would be used.
  for (const scenario of tracingScenarios) {
    it(`${scenario.name}`, { skip: missing && `skipped: ${missing}` }, async () => {
      const found = await problems(scenario.render());
      if (found.length > 0) throw new Error(found.join('\n'));
    });
  }
});
