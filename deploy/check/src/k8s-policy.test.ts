// Policies over the rendered overlays: what the issue and the documents require of every environment.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseModule } from './lib/hcl.ts';
import { type Overlay, overlays, terraformDir } from './lib/paths.ts';
import { byKind, find, type K8sObject, kubectlMissing, podSpec, renderOverlay, workloads } from './lib/render.ts';

const missing = kubectlMissing();
const skip = missing && `skipped: ${missing}`;
const atriumDeployments = ['atrium-api', 'atrium-worker'];
const clusterScopedKinds = new Set(['Namespace', 'NodePool', 'EC2NodeClass']);

function containers(workload: K8sObject): any[] {
  const spec = podSpec(workload);
  return [...(spec.initContainers ?? []), ...spec.containers];
}

function selects(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function policyChecks(overlay: Overlay) {
  const objects = () => renderOverlay(overlay);

  it('namespace enforces Pod Security Admission `restricted`', { skip }, () => {
    const labels = find(objects(), 'Namespace', 'atrium').metadata.labels ?? {};
    for (const mode of ['enforce', 'audit', 'warn']) {
      assert.equal(labels[`pod-security.kubernetes.io/${mode}`], 'restricted', mode);
    }
  });

  it('every namespaced object names its namespace', { skip }, () => {
    const unnamed = objects().filter((o) => !clusterScopedKinds.has(o.kind) && !o.metadata.namespace);
    assert.deepEqual(
      unnamed.map((o) => `${o.kind}/${o.metadata.name}`),
      [],
    );
  });

  it('api and worker probe /health (liveness) and /ready (readiness) on their own port', { skip }, () => {
    const ports: Record<string, number> = { 'atrium-api': 8080, 'atrium-worker': 9090 };
    for (const name of atriumDeployments) {
      const container = podSpec(find(objects(), 'Deployment', name)).containers[0];
      const portNumber = (port: string | number) =>
        typeof port === 'number' ? port : container.ports.find((p: any) => p.name === port).containerPort;
      assert.equal(container.livenessProbe.httpGet.path, '/health', `${name} liveness`);
      assert.equal(container.readinessProbe.httpGet.path, '/ready', `${name} readiness`);
      assert.equal(portNumber(container.livenessProbe.httpGet.port), ports[name], `${name} liveness port`);
      assert.equal(portNumber(container.readinessProbe.httpGet.port), ports[name], `${name} readiness port`);
    }
  });

  it('rolling updates surge by one and never go below the desired count', { skip }, () => {
    for (const name of atriumDeployments) {
      const strategy = find(objects(), 'Deployment', name).spec.strategy;
      assert.equal(strategy.type, 'RollingUpdate');
      assert.equal(strategy.rollingUpdate.maxSurge, 1, name);
      assert.equal(strategy.rollingUpdate.maxUnavailable, 0, name);
    }
  });

  it("API resources are document 001's (500m/1Gi requested, 2 CPU/4Gi limit)", { skip }, () => {
    const resources = podSpec(find(objects(), 'Deployment', 'atrium-api')).containers[0].resources;
    assert.deepEqual(resources, { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } });
  });

  it('HPAs scale 3–20 at 70 % CPU and 80 % memory (document 000)', { skip }, () => {
    for (const name of atriumDeployments) {
      const hpa = find(objects(), 'HorizontalPodAutoscaler', name);
      assert.equal(hpa.spec.scaleTargetRef.name, name);
      assert.equal(hpa.spec.minReplicas, 3);
      assert.equal(hpa.spec.maxReplicas, 20);
      const target = (resource: string) =>
        hpa.spec.metrics.find((m: any) => m.resource?.name === resource)?.resource.target.averageUtilization;
      assert.equal(target('cpu'), 70);
      assert.equal(target('memory'), 80);
    }
  });

  it('every Deployment and StatefulSet is covered by a PodDisruptionBudget', { skip }, () => {
    const budgets = byKind(objects(), 'PodDisruptionBudget');
    for (const workload of objects().filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const labels = workload.spec.template.metadata.labels;
      const budget = budgets.find((b) => selects(b.spec.selector.matchLabels ?? {}, labels));
      assert.ok(budget, `${workload.kind}/${workload.metadata.name} has no PodDisruptionBudget`);
    }
  });

  it('network policies deny by default and never allow ingress from anywhere', { skip }, () => {
    const policies = byKind(objects(), 'NetworkPolicy');
    const denyAll = policies.find(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    assert.ok(denyAll, 'no default-deny NetworkPolicy');
    assert.deepEqual([...denyAll.spec.policyTypes].sort(), ['Egress', 'Ingress']);
    for (const policy of policies) {
      for (const rule of policy.spec.ingress ?? []) {
        assert.ok(rule.from && rule.from.length > 0, `${policy.metadata.name} allows ingress from everywhere`);
        for (const peer of rule.from) assert.notEqual(peer.ipBlock?.cidr, '0.0.0.0/0', policy.metadata.name);
      }
    }
    for (const workload of workloads(objects())) {
      const labels = workload.spec.template.metadata.labels;
      const allowed = policies.some(
        (p) =>
          p !== denyAll &&
          (p.spec.egress?.length ?? 0) > 0 &&
          selects(p.spec.podSelector.matchLabels ?? {}, labels) &&
          (p.spec.podSelector.matchExpressions ?? []).every((e: any) => e.values.includes(labels[e.key])) &&
          Object.keys(p.spec.podSelector).length > 0,
      );
      assert.ok(allowed, `${workload.metadata.name} has no explicit egress allow`);
    }
  });

  it('images carry an explicit tag, never `latest` outside dev', { skip }, () => {
    for (const workload of workloads(objects())) {
      for (const container of containers(workload)) {
        const image: string = container.image;
        const tag = image.includes('@') ? 'digest' : image.split('/').pop()!.split(':')[1];
        assert.ok(tag, `${workload.metadata.name}/${container.name} image ${image} has no tag`);
        if (!overlay.endsWith('/dev')) assert.notEqual(tag, 'latest', `${image} in ${overlay}`);
      }
    }
  });

  it('pods run as non-root with a read-only root filesystem and no capabilities', { skip }, () => {
    for (const workload of workloads(objects())) {
      const spec = podSpec(workload);
      const name = workload.metadata.name;
      assert.equal(spec.securityContext?.runAsNonRoot, true, `${name} runAsNonRoot`);
      assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name} seccomp`);
      assert.equal(spec.automountServiceAccountToken, false, `${name} mounts an API token it does not need`);
      for (const container of containers(workload)) {
        const context = container.securityContext ?? {};
        const where = `${name}/${container.name}`;
        assert.equal(context.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
        assert.equal(context.allowPrivilegeEscalation, false, `${where} allowPrivilegeEscalation`);
        assert.deepEqual(context.capabilities?.drop, ['ALL'], `${where} capabilities`);
        assert.ok(container.resources?.requests && container.resources?.limits, `${where} resources`);
      }
    }
  });

  it('no Secret objects and no secret values in plain env', { skip }, () => {
    assert.deepEqual(
      byKind(objects(), 'Secret').map((s) => s.metadata.name),
      [],
    );
    const secretNames = ['DATABASE_URL', 'DATABASE_APP_URL', 'REDIS_URL', 'SMTP_URL', 'ATRIUM_SECRET_KEY'];
    for (const workload of workloads(objects())) {
      for (const container of containers(workload)) {
        for (const env of container.env ?? []) {
          if (secretNames.includes(env.name)) {
            assert.ok(env.valueFrom?.secretKeyRef, `${workload.metadata.name} sets ${env.name} in plain text`);
          }
        }
      }
    }
    // The API refuses to start without the server secret, and the worker needs it to open sealed flow inputs.
    for (const name of ['atrium-api', 'atrium-worker']) {
      const env = podSpec(find(objects(), 'Deployment', name)).containers[0].env ?? [];
      const secretKey = env.find((e: any) => e.name === 'ATRIUM_SECRET_KEY');
      assert.equal(secretKey?.valueFrom?.secretKeyRef?.name, 'atrium-runtime', `${name} gets ATRIUM_SECRET_KEY`);
    }
    const config = byKind(objects(), 'ConfigMap').filter((c) => c.metadata.name.startsWith('atrium-config'));
    for (const map of config) for (const key of secretNames) assert.ok(!(key in (map.data ?? {})), key);
  });

  it('the migration Job runs `atrium migrate` with the owner URL before the Deployments', { skip }, () => {
    const job = find(objects(), 'Job', 'atrium-migrate');
    const container = podSpec(job).containers[0];
    assert.deepEqual(container.args, ['migrate']);
    assert.equal(
      container.env.find((e: any) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name,
      'atrium-migrate',
    );
    assert.equal(job.metadata.annotations?.['argocd.argoproj.io/sync-wave'], '-1');
  });

  it('config binds 0.0.0.0:8080, worker 9090, and names the cloud signer and its key', { skip }, () => {
    const config = byKind(objects(), 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-config'))!;
    assert.equal(config.data!.HOST, '0.0.0.0');
    assert.equal(config.data!.PORT, '8080');
    assert.equal(config.data!.WORKER_PORT, '9090');
    assert.equal(config.data!.ATRIUM_SIGNER, overlay.startsWith('gcp/') ? 'gcp-kms' : 'aws-kms');
    assert.match(config.data!.ATRIUM_KMS_KEY, overlay.startsWith('gcp/') ? /cryptoKeyVersions\/\d+$/ : /^arn:aws:kms:/);
  });
}

function natsChecks(overlay: Overlay) {
  const objects = () => renderOverlay(overlay);
  it("NATS JetStream follows the official chart's StatefulSet behaviour", { skip }, () => {
    const nats = find(objects(), 'StatefulSet', 'atrium-nats');
    assert.equal(nats.spec.replicas, 3);
    assert.equal(nats.spec.podManagementPolicy, 'Parallel');
    const headless = find(objects(), 'Service', nats.spec.serviceName);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    const servicePorts = headless.spec.ports.map((p: any) => p.port);
    for (const port of [4222, 6222, 8222]) assert.ok(servicePorts.includes(port), `headless port ${port}`);

    const server = podSpec(nats).containers.find((c: any) => c.name === 'nats');
    const monitorPort = server.ports.find((p: any) => p.containerPort === 8222).name;
    const probe = (kind: string) => server[kind].httpGet;
    assert.deepEqual(probe('startupProbe'), { path: '/healthz', port: monitorPort });
    assert.deepEqual(probe('livenessProbe'), { path: '/healthz?js-enabled-only=true', port: monitorPort });
    assert.deepEqual(probe('readinessProbe'), { path: '/healthz?js-server-only=true', port: monitorPort });
    assert.match(server.lifecycle.preStop.exec.command.join(' '), /-sl=ldm=/, 'lame-duck preStop');
    assert.ok(
      server.env.some((e: any) => e.name === 'SERVER_NAME' && e.value.includes('POD_NAME')),
      'server name from pod',
    );

    assert.equal(nats.spec.volumeClaimTemplates.length, 1, 'one PVC per server');
    const spread = podSpec(nats).topologySpreadConstraints ?? [];
    assert.ok(
      spread.some((c: any) => c.topologyKey === 'kubernetes.io/hostname' && c.whenUnsatisfiable === 'DoNotSchedule'),
    );

    const budget = byKind(objects(), 'PodDisruptionBudget').find((b) => b.metadata.name === 'atrium-nats')!;
    assert.equal(budget.spec.maxUnavailable, 1);

    const config = byKind(objects(), 'ConfigMap').find((c) => c.metadata.name.startsWith('atrium-nats-config'))!;
    const conf = config.data!['nats.conf'];
    const routes = [...conf.matchAll(/nats:\/\/(atrium-nats-\d)\.([a-z-]+)\.[^\s:]+:6222/g)];
    assert.equal(routes.length, 3, 'three routes on 6222');
    for (const route of routes)
      assert.equal(route[2], headless.metadata.name, 'routes go through the headless service');
    assert.match(conf, /jetstream\s*\{/);
    assert.match(conf, /lame_duck_duration/);
  });
}

function cloudChecks(overlay: Overlay) {
  const objects = () => renderOverlay(overlay);
  const serviceAccounts = ['atrium-api', 'atrium-worker', 'atrium-migrate', 'atrium-nats'];
  if (overlay.startsWith('gcp/')) {
    it('GKE: Workload Identity on every service account and Cloud Armor on the backend', { skip }, () => {
      for (const name of serviceAccounts) {
        const annotation = find(objects(), 'ServiceAccount', name).metadata.annotations?.[
          'iam.gke.io/gcp-service-account'
        ];
        assert.match(
          annotation ?? '',
          new RegExp(`^${overlay.split('/')[1]}-${name}@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$`),
          name,
        );
      }
      const backend = find(objects(), 'BackendConfig', 'atrium-api');
      assert.equal(backend.spec.securityPolicy.name, 'atrium-edge');
      assert.equal(backend.spec.healthCheck.requestPath, '/health');
      const service = find(objects(), 'Service', 'atrium-api');
      assert.match(service.metadata.annotations?.['cloud.google.com/backend-config'] ?? '', /atrium-api/);
    });
  } else {
    it('EKS: IRSA on every service account, WAF on the ALB, Karpenter pools', { skip }, () => {
      for (const name of serviceAccounts) {
        const annotation = find(objects(), 'ServiceAccount', name).metadata.annotations?.['eks.amazonaws.com/role-arn'];
        assert.match(annotation ?? '', /^arn:aws:iam::\d{12}:role\//, name);
      }
      const ingress = find(objects(), 'Ingress', 'atrium');
      assert.match(ingress.metadata.annotations?.['alb.ingress.kubernetes.io/wafv2-acl-arn'] ?? '', /^arn:aws:wafv2:/);
      assert.ok(byKind(objects(), 'NodePool').length >= 2, 'on-demand and spot NodePools');
      for (const pool of byKind(objects(), 'NodePool'))
        assert.equal(pool.metadata.namespace, undefined, 'NodePools are cluster-scoped');
    });
  }
  it('secrets come from External Secrets `external-secrets.io/v1`', { skip }, () => {
    const external = byKind(objects(), 'ExternalSecret');
    assert.deepEqual(external.map((e) => e.metadata.name).sort(), ['atrium-migrate', 'atrium-runtime']);
    for (const object of [...external, ...byKind(objects(), 'SecretStore')]) {
      assert.equal(object.apiVersion, 'external-secrets.io/v1', `${object.kind}/${object.metadata.name}`);
    }
  });
}

/** The environment's Terraform (deploy/terraform/<cloud>/environments/<env>), parsed. */
async function terraformEnvironment(overlay: Overlay) {
  const dir = join(terraformDir, overlay.split('/')[0], 'environments', overlay.split('/')[1]);
  return parseModule(
    readdirSync(dir)
      .filter((f) => f.endsWith('.tf'))
      .map((f) => join(dir, f)),
  );
}

/** Whether some egress rule of the policies selecting these pod labels allows TCP `port` to `cidr`. */
function egressAllows(policies: K8sObject[], labels: Record<string, string>, cidr: string, port: number): boolean {
  return policies
    .filter(
      (p) =>
        Object.keys(p.spec.podSelector).length > 0 &&
        selects(p.spec.podSelector.matchLabels ?? {}, labels) &&
        (p.spec.podSelector.matchExpressions ?? []).every((e: any) => e.values.includes(labels[e.key])),
    )
    .flatMap((p) => p.spec.egress ?? [])
    .some(
      (rule: any) =>
        (rule.to ?? []).some((peer: any) => peer.ipBlock?.cidr === cidr) &&
        (rule.ports ?? []).some((p: any) => p.protocol === 'TCP' && p.port <= port && port <= (p.endPort ?? p.port)),
    );
}

// ADR 0106: REDIS_URL and ATRIUM_REDIS_CLUSTER describe one store. Terraform writes both secrets in one apply and the
// one ExternalSecret copies both, so a pod cannot get a cluster URL without the flag, or the reverse.
function redisChecks(overlay: Overlay) {
  const objects = () => renderOverlay(overlay);
  const cloud = overlay.split('/')[0];

  // On GKE also how to authenticate (IAM with Memorystore for Redis Cluster) and Memorystore's CA, from the same apply.
  const variables = ['REDIS_URL', 'ATRIUM_REDIS_CLUSTER'].concat(
    cloud === 'gcp' ? ['ATRIUM_REDIS_AUTH', 'ATRIUM_REDIS_TLS_CA'] : [],
  );

  it(`api and worker get ${variables.join(', ')} from atrium-runtime, never from config`, { skip }, () => {
    for (const name of atriumDeployments) {
      const env: any[] = podSpec(find(objects(), 'Deployment', name)).containers[0].env ?? [];
      for (const variable of variables) {
        const ref = env.find((e) => e.name === variable)?.valueFrom?.secretKeyRef;
        assert.equal(ref?.name, 'atrium-runtime', `${name} gets ${variable} from atrium-runtime`);
        assert.equal(ref?.key, variable, `${name} ${variable} key`);
      }
    }
    for (const map of byKind(objects(), 'ConfigMap').filter((c) => c.metadata.name.startsWith('atrium-config'))) {
      for (const variable of variables.slice(1)) {
        assert.ok(!(variable in (map.data ?? {})), `a second source of ${variable} could disagree`);
      }
    }
  });

  it("atrium-runtime copies them from the secrets this environment's Terraform writes", { skip }, async () => {
    const runtime = find(objects(), 'ExternalSecret', 'atrium-runtime');
    const remote = (key: string) => runtime.spec.data.find((d: any) => d.secretKey === key)?.remoteRef?.key;
    const secrets = (await terraformEnvironment(overlay)).module.secrets[0];
    // Secret Manager ids are used as they are; Secrets Manager names get the module's prefix.
    const name = (key: string) => (cloud === 'aws' ? `${secrets.prefix}/${key}` : key);
    const written = Object.keys(secrets.values).map(name);
    for (const variable of variables) {
      assert.ok(remote(variable), `atrium-runtime has no ${variable}`);
      assert.ok(written.includes(remote(variable)), `${remote(variable)} is not written by Terraform (${written})`);
    }
  });

  it('api and worker may reach Redis: 6379, and on GKE the Memorystore cluster nodes 11000–13047', { skip }, () => {
    const policies = byKind(objects(), 'NetworkPolicy');
    for (const name of atriumDeployments) {
      const labels = find(objects(), 'Deployment', name).spec.template.metadata.labels;
      const ports = cloud === 'gcp' ? [6379, 11000, 12000, 13047] : [6379];
      for (const port of ports) assert.ok(egressAllows(policies, labels, '10.0.0.0/8', port), `${name} → ${port}`);
    }
  });
}

for (const overlay of overlays) {
  describe(`overlay ${overlay}`, () => {
    policyChecks(overlay);
    natsChecks(overlay);
    cloudChecks(overlay);
    redisChecks(overlay);
  });
}
