import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { k8sDir, type Overlay, overlays } from './paths.ts';
import { type K8sObject, renderScratch } from './render.ts';

/** The opt-in component that turns OpenTelemetry tracing on (deploy/README.md "Tracing"). */
export const tracingComponent = 'components/tracing';

/** One way of enabling the component, and what the rendered result must then point at. */
export type TracingScenario = {
  name: string;
  /** deployment.environment.name the pods must report. */
  environment: string;
  /** Namespace of the collector Service the endpoint names and the NetworkPolicy must open. */
  collectorNamespace: string;
  render: () => K8sObject[];
};

/** The component, unless the overlay already lists it (twice would duplicate its NetworkPolicy). */
function componentsFor(overlay: Overlay): string[] {
  const kustomization = parse(readFileSync(join(k8sDir, 'overlays', overlay, 'kustomization.yaml'), 'utf8'));
  const listed = (kustomization.components ?? []).some((c: string) => c.replace(/\/+$/, '').endsWith(tracingComponent));
  return listed ? [] : [tracingComponent];
}

/** Every overlay with the component on top, as an overlay would list it under `components:`. */
export const tracingScenarios: TracingScenario[] = [
  ...overlays.map((overlay: Overlay) => ({
    name: `${overlay} + ${tracingComponent}`,
    environment: overlay.split('/')[1] as string,
    collectorNamespace: 'observability',
    render: () => renderScratch({ resources: [`overlays/${overlay}`], components: componentsFor(overlay) }),
  })),
  {
    // The documented way to use another collector: the example patch, applied after the component.
    name: `gcp/staging + ${tracingComponent} + examples/collector-patch.yaml`,
    environment: 'staging',
    collectorNamespace: 'telemetry',
    render: () =>
      renderScratch({
        resources: ['overlays/gcp/staging'],
        components: componentsFor('gcp/staging'),
        patches: {
          'collector-patch.yaml': readFileSync(
            join(k8sDir, tracingComponent, 'examples', 'collector-patch.yaml'),
            'utf8',
          ),
        },
      }),
  },
];
