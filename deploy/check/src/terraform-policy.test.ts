// Policies over the Terraform code, parsed to JSON. The Google provider is not mirrored on these machines, so GCP
// code is checked here rather than by `terraform validate`; the AWS code gets both.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { overlaps } from './lib/cidr.ts';
import { listFiles } from './lib/files.ts';
import { parseFile, parseModule, resourceBody, variableDefault } from './lib/hcl.ts';
import { terraformDir } from './lib/paths.ts';

const requiredModules = {
  gcp: ['network', 'gke', 'cloudsql-postgres', 'memorystore-redis', 'kms-signing', 'secrets', 'cloud-armor', 'iam'],
  aws: ['vpc', 'eks', 'karpenter', 'rds-postgres', 'elasticache-redis', 'waf', 'kms-signing', 'secrets'],
};
const requiredEnvironments = { gcp: ['dev', 'staging', 'uat', 'production'], aws: ['staging', 'production'] };

function tfFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .map((f) => join(dir, f));
}

async function module(cloud: string, name: string) {
  return parseModule(tfFiles(join(terraformDir, cloud, 'modules', name)));
}

async function tfvars(cloud: string, env: string) {
  return parseFile(join(terraformDir, cloud, 'environments', env, 'terraform.tfvars'));
}

describe('terraform layout', () => {
  for (const [cloud, modules] of Object.entries(requiredModules)) {
    for (const name of modules) {
      it(`${cloud}/modules/${name} has main.tf, variables.tf, outputs.tf, versions.tf and README.md`, () => {
        const dir = join(terraformDir, cloud, 'modules', name);
        for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
          assert.ok(existsSync(join(dir, file)), `${cloud}/modules/${name}/${file}`);
        }
      });
    }
    for (const env of requiredEnvironments[cloud as 'gcp' | 'aws']) {
      it(`${cloud}/environments/${env} keeps remote state in ${cloud === 'gcp' ? 'GCS' : 'S3'}`, async () => {
        const backend = await parseFile(join(terraformDir, cloud, 'environments', env, 'backend.tf'));
        const kind = cloud === 'gcp' ? 'gcs' : 's3';
        assert.ok(backend.terraform?.[0]?.backend?.[kind], `backend "${kind}" missing`);
      });
    }
  }

  it('every variable is typed and described, every output described, in every module and environment', async () => {
    const folders = new Set(
      listFiles(terraformDir, (n) => n.endsWith('.tf')).map((f) => f.slice(0, f.lastIndexOf('/'))),
    );
    const problems: string[] = [];
    for (const folder of folders) {
      const document = await parseModule(tfFiles(folder));
      for (const [name, [body]] of Object.entries<any>(document.variable ?? {})) {
        if (!body.type) problems.push(`${folder}: variable ${name} has no type`);
        if (!body.description) problems.push(`${folder}: variable ${name} has no description`);
      }
      for (const [name, [body]] of Object.entries<any>(document.output ?? {})) {
        if (!body.description) problems.push(`${folder}: output ${name} has no description`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('AWS code uses first-party resources only and accepts provider >= 5.100, < 7', async () => {
    for (const folder of new Set(
      listFiles(join(terraformDir, 'aws'), (n) => n.endsWith('.tf')).map((f) => f.slice(0, f.lastIndexOf('/'))),
    )) {
      const document = await parseModule(tfFiles(folder));
      for (const [name, [body]] of Object.entries<any>(document.module ?? {})) {
        assert.match(body.source, /^\.\.?\//, `${folder}: module ${name} comes from ${body.source}`);
      }
      const constraint = document.terraform?.[0]?.required_providers?.[0]?.aws?.version;
      if (constraint) assert.equal(constraint, '>= 5.100, < 7', folder);
    }
  });
});

describe('gcp values match the documents', () => {
  it("Cloud SQL: private IP only, SSL enforced, document 000's flags", async () => {
    const sql = await module('gcp', 'cloudsql-postgres');
    const settings = resourceBody(sql, 'google_sql_database_instance', 'this').settings[0];
    assert.equal(settings.ip_configuration[0].ipv4_enabled, false, 'no public IP');
    assert.equal(settings.ip_configuration[0].ssl_mode, 'ENCRYPTED_ONLY');
    assert.equal(settings.backup_configuration[0].start_time, '02:00');
    assert.deepEqual(variableDefault(sql, 'database_flags'), {
      max_connections: '200',
      shared_buffers: '262144',
      work_mem: '16384',
      maintenance_work_mem: '65536',
      effective_cache_size: '524288',
      log_min_duration_statement: '1000',
    });
  });

  it('Cloud SQL sizes per environment (document 000; dev and uat per deploy/README.md)', async () => {
    const expected: Record<string, object> = {
      staging: {
        tier: 'db-custom-2-7680',
        availability_type: 'ZONAL',
        disk_size_gb: 50,
        point_in_time_recovery: false,
        backup_retention_count: 7,
      },
      production: {
        tier: 'db-custom-4-15360',
        availability_type: 'REGIONAL',
        disk_size_gb: 200,
        point_in_time_recovery: true,
        backup_retention_count: 14,
      },
      uat: {
        tier: 'db-custom-4-15360',
        availability_type: 'REGIONAL',
        disk_size_gb: 200,
        point_in_time_recovery: true,
        backup_retention_count: 14,
      },
      dev: {
        tier: 'db-custom-2-7680',
        availability_type: 'ZONAL',
        disk_size_gb: 50,
        point_in_time_recovery: false,
        backup_retention_count: 7,
      },
    };
    for (const [env, sql] of Object.entries(expected)) assert.deepEqual((await tfvars('gcp', env)).sql, sql, env);
  });

  it('Memorystore: AUTH, TLS, private service access, volatile-lru (ADR 0105); sizes per environment', async () => {
    const redis = resourceBody(await module('gcp', 'memorystore-redis'), 'google_redis_instance', 'this');
    assert.equal(redis.auth_enabled, true);
    assert.equal(redis.transit_encryption_mode, 'SERVER_AUTHENTICATION');
    assert.equal(redis.connect_mode, 'PRIVATE_SERVICE_ACCESS');
    assert.equal(redis.redis_version, 'REDIS_7_0');
    assert.equal(redis.redis_configs['maxmemory-policy'], 'volatile-lru');
    assert.equal(redis.redis_configs['notify-keyspace-events'], 'Ex');
    assert.deepEqual((await tfvars('gcp', 'staging')).redis, {
      tier: 'BASIC',
      memory_size_gb: 5,
      read_replicas: 0,
      rdb_snapshots: false,
    });
    assert.deepEqual((await tfvars('gcp', 'production')).redis, {
      tier: 'STANDARD_HA',
      memory_size_gb: 10,
      read_replicas: 1,
      rdb_snapshots: true,
    });
  });

  it('GKE: n2-standard-4 with 100 GB, 1–3 nodes zonal staging, 3–10 regional production', async () => {
    const staging = await tfvars('gcp', 'staging');
    const production = await tfvars('gcp', 'production');
    assert.equal(staging.gke_location, 'us-central1-a');
    assert.equal(production.gke_location, 'us-central1');
    assert.deepEqual(staging.general_pool, {
      machine_type: 'n2-standard-4',
      min_nodes: 1,
      max_nodes: 3,
      disk_size_gb: 100,
      spot: false,
    });
    assert.deepEqual(production.general_pool, {
      machine_type: 'n2-standard-4',
      min_nodes: 3,
      max_nodes: 10,
      disk_size_gb: 100,
      spot: false,
    });
    const gke = await module('gcp', 'gke');
    const cluster = resourceBody(gke, 'google_container_cluster', 'this');
    assert.equal(cluster.private_cluster_config[0].enable_private_nodes, true);
    assert.equal(cluster.release_channel[0].channel, 'REGULAR');
    assert.equal(cluster.datapath_provider, 'ADVANCED_DATAPATH', 'NetworkPolicies need Dataplane V2');
    assert.equal(cluster.workload_identity_config[0].workload_pool, '${var.project_id}.svc.id.goog');
    assert.equal(cluster.maintenance_policy[0].daily_maintenance_window[0].start_time, '03:00');
  });

  it('network: document 000 ranges, no overlaps within or across environments', async () => {
    const expected: Record<string, string[]> = {
      staging: ['10.10.0.0/20', '10.11.0.0/16', '10.12.0.0/20', '10.13.0.0/20'],
      production: ['10.20.0.0/20', '10.21.0.0/16', '10.22.0.0/20', '10.23.0.0/20'],
    };
    const all: [string, string][] = [];
    for (const env of requiredEnvironments.gcp) {
      const cidrs = (await tfvars('gcp', env)).cidrs;
      const ranges = [cidrs.gke_subnet, cidrs.pods, cidrs.services, cidrs.data];
      if (expected[env]) assert.deepEqual(ranges, expected[env], env);
      for (const range of ranges) all.push([env, range]);
    }
    const awsRanges = await Promise.all(
      requiredEnvironments.aws.map(async (env) => (await tfvars('aws', env)).vpc_cidr as string),
    );
    requiredEnvironments.aws.forEach((env, i) => {
      all.push([`aws/${env}`, awsRanges[i]]);
    });
    // The GKE control plane /28 (document 004) must not collide with any of them either.
    all.push(['gke-master', (await module('gcp', 'gke')).variable.master_cidr[0].default]);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        assert.ok(!overlaps(all[i][1], all[j][1]), `${all[i].join(' ')} overlaps ${all[j].join(' ')}`);
      }
    }
  });

  it('firewall: internal, NATS, IAP SSH, health checks, and a lowest-priority deny-all', async () => {
    const network = await module('gcp', 'network');
    const denyAll = resourceBody(network, 'google_compute_firewall', 'deny_all_ingress');
    assert.equal(denyAll.priority, 65535);
    assert.deepEqual(denyAll.source_ranges, ['0.0.0.0/0']);
    assert.equal(denyAll.deny[0].protocol, 'all');
    assert.deepEqual(resourceBody(network, 'google_compute_firewall', 'allow_nats').allow[0].ports, [
      '4222',
      '6222',
      '8222',
    ]);
    assert.deepEqual(resourceBody(network, 'google_compute_firewall', 'allow_iap_ssh').source_ranges, [
      '35.235.240.0/20',
    ]);
    const nat = resourceBody(network, 'google_compute_router_nat', 'this');
    assert.equal(nat.min_ports_per_vm, 64);
    assert.equal(nat.tcp_established_idle_timeout_sec, 1200);
    assert.equal(
      resourceBody(network, 'google_service_networking_connection', 'private_service_access').deletion_policy,
      'ABANDON',
    );
  });

  it('no public addresses on data services', async () => {
    const sql = resourceBody(await module('gcp', 'cloudsql-postgres'), 'google_sql_database_instance', 'this');
    assert.equal(sql.settings[0].ip_configuration[0].ipv4_enabled, false);
    const redis = resourceBody(await module('gcp', 'memorystore-redis'), 'google_redis_instance', 'this');
    assert.notEqual(redis.connect_mode, 'DIRECT_PEERING_PUBLIC');
    const rds = resourceBody(await module('aws', 'rds-postgres'), 'aws_db_instance', 'this');
    assert.equal(rds.publicly_accessible, false);
  });

  it('KMS: HSM-protected RSA_SIGN_PKCS1_4096_SHA256 signing key (document 001)', async () => {
    const key = resourceBody(await module('gcp', 'kms-signing'), 'google_kms_crypto_key', 'root');
    assert.equal(key.purpose, 'ASYMMETRIC_SIGN');
    assert.equal(key.version_template[0].algorithm, 'RSA_SIGN_PKCS1_4096_SHA256');
    assert.equal(key.version_template[0].protection_level, 'HSM');
    const awsKey = resourceBody(await module('aws', 'kms-signing'), 'aws_kms_key', 'root');
    assert.equal(awsKey.customer_master_key_spec, 'RSA_4096');
    assert.equal(awsKey.key_usage, 'SIGN_VERIFY');
  });

  it('Cloud Armor: rate-based ban at 100 per 60 s per IP, sqli-stable and xss-stable', async () => {
    const armor = await module('gcp', 'cloud-armor');
    assert.equal(variableDefault(armor, 'rate_limit_count'), 100);
    assert.equal(variableDefault(armor, 'rate_limit_interval_sec'), 60);
    const rules: any[] = resourceBody(armor, 'google_compute_security_policy', 'edge').rule;
    const ban = rules.find((r) => r.action === 'rate_based_ban');
    assert.equal(ban.rate_limit_options[0].enforce_on_key, 'IP');
    assert.equal(ban.rate_limit_options[0].rate_limit_threshold[0].count, '${var.rate_limit_count}');
    const expressions = rules.flatMap((r) => r.match[0].expr?.map((e: any) => e.expression) ?? []);
    assert.ok(expressions.includes("evaluatePreconfiguredExpr('sqli-stable')"));
    assert.ok(expressions.includes("evaluatePreconfiguredExpr('xss-stable')"));
  });
});
