// components/tracing: OpenTelemetry traces from the API and the worker, opt-in. Rendered on top of every overlay
// (and with the documented collector patch), it must give both containers a complete OTLP/HTTP setup the server
// accepts (apps/server/src/config.ts) and open exactly the egress the export needs. Without it, tracing stays off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { overlays } from './lib/paths.ts';
import { byKind, find, type K8sObject, kubectlMissing, podSpec, renderOverlay, workloads } from './lib/render.ts';
import { type TracingScenario, tracingScenarios } from './lib/tracing.ts';

const missing = kubectlMissing();
const skip = missing && `skipped: ${missing}`;

/** The traced Deployments and the service.name each must report. */
const traced: Record<string, string> = { 'atrium-api': 'atrium-api', 'atrium-worker': 'atrium-worker' };
const otlpHttpPort = 4318;
const protocolVariables = ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'];
const endpointVariables = ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'];
/** Resource attribute → the downward API field its variable must come from. */
const downwardAttributes: Record<string, string> = {
  'k8s.pod.name': 'metadata.name',
  'k8s.namespace.name': 'metadata.namespace',
  'k8s.node.name': 'spec.nodeName',
};

function containers(workload: K8sObject): any[] {
  const spec = podSpec(workload);
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function configMap(objects: K8sObject[], name: string): K8sObject | undefined {
  return byKind(objects, 'ConfigMap').find((c) => c.metadata.name === name);
}

/**
 * A container's environment as the kubelet builds it: envFrom ConfigMaps first, then `env` in order, later entries
 * winning. Values from ConfigMaps are looked up; fieldRef and secretKeyRef become `<fieldRef:…>` / `<secret>`.
 */
function environment(objects: K8sObject[], container: any): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) continue;
    const data = configMap(objects, source.configMapRef.name)?.data ?? {};
    for (const [key, value] of Object.entries(data)) env.set(`${source.prefix ?? ''}${key}`, value);
  }
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (!from) env.set(entry.name, entry.value ?? '');
    else if (from.configMapKeyRef) {
      const value = configMap(objects, from.configMapKeyRef.name)?.data?.[from.configMapKeyRef.key];
      if (value !== undefined) env.set(entry.name, value);
    } else if (from.fieldRef) env.set(entry.name, `<fieldRef:${from.fieldRef.fieldPath}>`);
    else env.set(entry.name, '<secret>');
  }
  return env;
}

/** The Atrium containers (`atrium serve`, `atrium worker`) of the traced Deployments; sidecars are not Atrium. */
function tracedContainers(objects: K8sObject[]): { deployment: string; container: any; where: string }[] {
  return Object.keys(traced).flatMap((deployment) => {
    const atrium = podSpec(find(objects, 'Deployment', deployment)).containers.filter((c: any) =>
      ['serve', 'worker'].includes(c.args?.[0]),
    );
    assert.ok(atrium.length > 0, `${deployment} runs no atrium serve/worker container`);
    return atrium.map((container: any) => ({ deployment, container, where: `${deployment}/${container.name}` }));
  });
}

/** Full label-selector semantics (matchLabels and the four matchExpressions operators). */
function selectorMatches(selector: any, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every((e: any) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(labels[e.key]);
      case 'NotIn':
        return !has || !e.values.includes(labels[e.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabel && byExpression;
}

/** Whether an egress rule's ports admit TCP `port` (no ports: every port). */
function admitsPort(rule: any, port: number): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some(
    (p: any) =>
      (p.protocol ?? 'TCP') === 'TCP' &&
      (p.port === undefined ||
        p.port === port ||
        (typeof p.port === 'number' && p.endPort && p.port <= port && port <= p.endPort)),
  );
}

/** Whether an egress rule reaches pods in `namespace` (no `to`: everywhere). ipBlocks are not taken as a match. */
function admitsNamespace(rule: any, namespace: string, ownNamespace: string): boolean {
  if (!rule.to || rule.to.length === 0) return true;
  return rule.to.some((peer: any) => {
    if (peer.namespaceSelector) {
      return selectorMatches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': namespace });
    }
    return peer.podSelector !== undefined && namespace === ownNamespace;
  });
}

/** Names of the workloads whose pods some NetworkPolicy lets send to TCP `port` in `namespace`. */
function workloadsReaching(objects: K8sObject[], namespace: string, port: number): string[] {
  // Without policyTypes a policy restricts egress only when it has egress rules; with them, only as listed.
  const policies = byKind(objects, 'NetworkPolicy').filter((p) =>
    (p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'])).includes('Egress'),
  );
  return workloads(objects)
    .filter((workload) => {
      const labels = workload.spec.template.metadata.labels;
      return policies.some(
        (p) =>
          p.metadata.namespace === workload.metadata.namespace &&
          selectorMatches(p.spec.podSelector, labels) &&
          (p.spec.egress ?? []).some(
            (rule: any) =>
              admitsPort(rule, port) && admitsNamespace(rule, namespace, workload.metadata.namespace as string),
          ),
      );
    })
    .map((w) => w.metadata.name)
    .sort();
}

function tracingChecks(scenario: TracingScenario) {
  const objects = () => scenario.render();

  it('api and worker containers get every tracing variable, each Deployment its own service name', { skip }, () => {
    const names = new Set<string>();
    for (const { deployment, container, where } of tracedContainers(objects())) {
      const env = environment(objects(), container);
      assert.ok(
        endpointVariables.some((name) => env.get(name)),
        `${where}: no OTLP endpoint, tracing stays off`,
      );
      assert.equal(env.get('OTEL_SERVICE_NAME'), traced[deployment], `${where} OTEL_SERVICE_NAME`);
      names.add(env.get('OTEL_SERVICE_NAME') as string);
      assert.ok(env.get('OTEL_RESOURCE_ATTRIBUTES'), `${where} OTEL_RESOURCE_ATTRIBUTES`);
      assert.notEqual(env.get('OTEL_SDK_DISABLED'), 'true', `${where} OTEL_SDK_DISABLED`);
      assert.ok([undefined, 'otlp'].includes(env.get('OTEL_TRACES_EXPORTER')), `${where} OTEL_TRACES_EXPORTER`);
      // Production sampling: a share of new traces, the caller's decision for the rest.
      assert.equal(env.get('OTEL_TRACES_SAMPLER'), 'parentbased_traceidratio', `${where} OTEL_TRACES_SAMPLER`);
      const ratio = Number(env.get('OTEL_TRACES_SAMPLER_ARG'));
      assert.ok(ratio > 0 && ratio < 1, `${where} OTEL_TRACES_SAMPLER_ARG "${env.get('OTEL_TRACES_SAMPLER_ARG')}"`);
    }
    assert.equal(names.size, Object.keys(traced).length, 'service names are distinct per Deployment');
  });

  it(`the endpoint is plain http to port ${otlpHttpPort} of the collector Service in \`${scenario.collectorNamespace}\``, {
    skip,
  }, () => {
    for (const { container, where } of tracedContainers(objects())) {
      const env = environment(objects(), container);
      const signal = env.get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
      const raw = signal || env.get('OTEL_EXPORTER_OTLP_ENDPOINT');
      assert.ok(raw, `${where} has no endpoint`);
      const url = new URL(raw);
      assert.equal(url.protocol, 'http:', `${where} ${raw}: OTLP/HTTP in the cluster, no TLS`);
      assert.equal(url.port, String(otlpHttpPort), `${where} ${raw}: the OTLP/HTTP port (4317 is gRPC)`);
      // Atrium appends /v1/traces to the base endpoint and uses the signal endpoint as given.
      if (signal) assert.equal(url.pathname, '/v1/traces', `${where} ${raw}`);
      else assert.equal(url.pathname, '/', `${where} ${raw}: base endpoint without a path`);
      const service = url.hostname.match(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/,
      );
      assert.ok(service, `${where} ${raw}: not a <service>.<namespace>.svc name`);
      assert.equal(service[2], scenario.collectorNamespace, `${where} ${raw}: collector namespace`);
    }
  });

  it('no workload is told an OTLP protocol other than http/json', { skip }, () => {
    for (const workload of workloads(objects())) {
      for (const container of containers(workload)) {
        const env = environment(objects(), container);
        for (const name of protocolVariables) {
          const value = env.get(name);
          if (value !== undefined && value !== '') {
            assert.equal(value, 'http/json', `${workload.metadata.name}/${container.name} ${name}`);
          }
        }
      }
    }
  });

  it('resource attributes carry pod, namespace, node and environment from variables defined before them', {
    skip,
  }, () => {
    for (const { container, where } of tracedContainers(objects())) {
      const list: any[] = container.env ?? [];
      const at = list.findIndex((e) => e.name === 'OTEL_RESOURCE_ATTRIBUTES');
      assert.ok(at >= 0, `${where}: OTEL_RESOURCE_ATTRIBUTES is not in env`);
      const value: string = list[at].value;
      const defined = new Map(list.slice(0, at).map((e) => [e.name, e]));
      // The kubelet expands $(VAR) only from variables defined earlier; anything else stays literal text.
      for (const [, name] of value.matchAll(/\$\(([^)]*)\)/g)) {
        assert.ok(defined.has(name as string), `${where}: $(${name}) is not defined before OTEL_RESOURCE_ATTRIBUTES`);
      }
      const attributes = new Map<string, string>();
      for (const pair of value.split(',')) {
        const eq = pair.indexOf('=');
        assert.ok(eq > 0 && eq < pair.length - 1, `${where}: "${pair}" is not key=value`);
        attributes.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      const variableOf = (attribute: string) => {
        const reference = attributes.get(attribute)?.match(/^\$\(([^)]+)\)$/);
        assert.ok(reference, `${where}: ${attribute} is not taken from a variable`);
        return defined.get(reference[1] as string);
      };
      for (const [attribute, fieldPath] of Object.entries(downwardAttributes)) {
        assert.equal(variableOf(attribute)?.valueFrom?.fieldRef?.fieldPath, fieldPath, `${where}: ${attribute}`);
      }
      const environmentVariable = variableOf('deployment.environment.name');
      const environmentName = environment(objects(), { env: [environmentVariable] }).get(environmentVariable.name);
      assert.equal(environmentName, scenario.environment, `${where}: deployment.environment.name`);
      // Values are percent-decoded by the server: literal parts must need no encoding.
      for (const [key, part] of attributes) {
        const literal = part.replace(/\$\([^)]*\)/g, '');
        assert.equal(encodeURIComponent(literal), literal, `${where}: ${key} needs percent-encoding`);
      }
    }
  });

  it(`only the api and worker pods may reach the collector, on TCP ${otlpHttpPort}`, { skip }, () => {
    const reaching = workloadsReaching(objects(), scenario.collectorNamespace, otlpHttpPort);
    assert.deepEqual(reaching, Object.keys(traced).sort(), 'workloads allowed to send to the collector');
    // And through a rule naming the collector's namespace, not one open to every destination.
    for (const policy of byKind(objects(), 'NetworkPolicy')) {
      for (const rule of policy.spec.egress ?? []) {
        if (!admitsPort(rule, otlpHttpPort)) continue;
        assert.ok(rule.to?.length > 0, `${policy.metadata.name} allows ${otlpHttpPort} to every destination`);
      }
    }
    const named = byKind(objects(), 'NetworkPolicy').some((p) =>
      (p.spec.egress ?? []).some(
        (rule: any) =>
          admitsPort(rule, otlpHttpPort) &&
          (rule.to ?? []).some(
            (peer: any) =>
              peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === scenario.collectorNamespace,
          ),
      ),
    );
    assert.ok(named, `no egress rule selects namespace ${scenario.collectorNamespace} by kubernetes.io/metadata.name`);
  });
}

for (const scenario of tracingScenarios) {
  describe(`tracing: ${scenario.name}`, () => tracingChecks(scenario));
}

// Opt-in: no overlay runs a collector, so none turns tracing on (deploy/README.md "Tracing"). An overlay that starts
// to must be taken out of this list, together with a note in the README.
describe('tracing is off in the overlays as committed', () => {
  for (const overlay of overlays) {
    it(`${overlay}: no OTLP endpoint and no egress to ${otlpHttpPort}`, { skip }, () => {
      const objects = renderOverlay(overlay);
      for (const workload of workloads(objects)) {
        for (const container of containers(workload)) {
          const env = environment(objects, container);
          for (const name of endpointVariables) {
            assert.equal(env.get(name), undefined, `${workload.metadata.name}/${container.name} ${name}`);
          }
        }
      }
      assert.deepEqual(workloadsReaching(objects, 'observability', otlpHttpPort), [], 'egress to the collector');
      // The component needs this key; every overlay sets it, so enabling tracing is one line.
      const config = byKind(objects, 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config-'));
      assert.equal(config?.data?.DEPLOYMENT_ENVIRONMENT, overlay.split('/')[1], 'atrium-config DEPLOYMENT_ENVIRONMENT');
    });
  }
});
