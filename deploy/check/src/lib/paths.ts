import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Repository root (deploy/check/src/lib → four levels up). */
export const repoRoot = resolve(here, '../../../..');
export const deployDir = join(repoRoot, 'deploy');
export const k8sDir = join(deployDir, 'k8s');
export const terraformDir = join(deployDir, 'terraform');
export const monitoringDir = join(deployDir, 'monitoring');
export const argocdDir = join(deployDir, 'argocd');
export const runbooksDir = join(repoRoot, 'docs', 'runbooks');
export const metricsCatalogPath = join(repoRoot, 'packages', 'contracts', 'src', 'metrics-catalog.json');

/** Every overlay the issue asks for; a missing one is a failure, not a smaller loop. */
export const overlays = [
  'gcp/dev',
  'gcp/staging',
  'gcp/uat',
  'gcp/production',
  'aws/staging',
  'aws/production',
] as const;
export type Overlay = (typeof overlays)[number];
