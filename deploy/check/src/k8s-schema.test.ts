// Every object every overlay renders must match its Kubernetes or CRD schema (wrong types, enums, required fields).
import { describe, it } from 'node:test';
import { validateModel } from './lib/models.ts';
import { overlays } from './lib/paths.ts';
import { kubectlMissing, renderOverlay } from './lib/render.ts';

const missing = kubectlMissing();

describe('rendered objects validate against kubernetes-models', () => {
  for (const overlay of overlays) {
    it(`${overlay}`, { skip: missing && `skipped: ${missing}` }, async () => {
      const problems: string[] = [];
      for (const object of renderOverlay(overlay)) {
        try {
          await validateModel(object);
        } catch (err) {
          problems.push(`${object.kind}/${object.metadata?.name}: ${(err as Error).message}`);
        }
      }
      if (problems.length > 0) throw new Error(problems.join('\n'));
    });
  }
});
