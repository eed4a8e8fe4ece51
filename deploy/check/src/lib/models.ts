import type { K8sObject } from './render.ts';

/**
 * Maps apiVersion to the package folder that holds its generated models. Built-in groups come from
 * kubernetes-models; custom resources from the pinned @kubernetes-models/* packages.
 */
const groupPackages: Record<string, string> = {
  'argoproj.io': '@kubernetes-models/argo-cd/argoproj.io',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
  'external-secrets.io': '@kubernetes-models/external-secrets/external-secrets.io',
  'karpenter.sh': '@kubernetes-models/karpenter/karpenter.sh',
  'karpenter.k8s.aws': '@kubernetes-models/karpenter/karpenter.k8s.aws',
  'cloud.google.com': '@kubernetes-models/gke/cloud.google.com',
  'networking.gke.io': '@kubernetes-models/gke/networking.gke.io',
};

function modulePath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return `kubernetes-models/v1/${kind}`;
  const pkg = groupPackages[group] ?? `kubernetes-models/${group}`;
  return `${pkg}/${version}/${kind}`;
}

/** Validates one object against its generated JSON schema; throws with the model's message when invalid. */
export async function validateModel(object: K8sObject): Promise<void> {
  const path = modulePath(object.apiVersion, object.kind);
  let module: Record<string, any>;
  try {
    module = await import(path);
  } catch {
    throw new Error(`no schema model for ${object.apiVersion} ${object.kind} (looked for ${path})`);
  }
  const Model = module[object.kind];
  if (typeof Model !== 'function') throw new Error(`${path} does not export ${object.kind}`);
  new Model(object).validate();
}
