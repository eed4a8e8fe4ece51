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
      cluster_mode: false,
    });
    assert.deepEqual((await tfvars('gcp', 'production')).redis, {
      tier: 'STANDARD_HA',
      memory_size_gb: 10,
      read_replicas: 1,
      rdb_snapshots: true,
      cluster_mode: false,
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
      // Reserved in every environment, so that turning Redis cluster mode on is one flag (ADR 0106).
      assert.match(cidrs.redis_psc ?? '', /^10\.\d+\.\d+\.\d+\/(2[4-9])$/, `${env}: cidrs.redis_psc, a /24–/29`);
      for (const range of [...ranges, cidrs.redis_psc]) all.push([env, range]);
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

/** An expression as hcl2json renders it: `${…}`. */
const hcl = (expression: string) => `\${${expression}}`;

// ADR 0106: Redis Cluster is an opt-in per environment. The Google provider is not mirrored here, so the GCP side is
// checked as parsed HCL; the AWS module and environments are also planned with cluster mode on and off by
// `terraform test` (elasticache-redis.tftest.hcl, <env>.tftest.hcl).
describe('Redis cluster mode (ADR 0106)', () => {
  const countOn = hcl('var.cluster_mode ? 1 : 0');
  const countOff = hcl('var.cluster_mode ? 0 : 1');

  it('Memorystore: the instance stays the default, cluster resources exist only with cluster_mode', async () => {
    const redis = await module('gcp', 'memorystore-redis');
    assert.equal(variableDefault(redis, 'cluster_mode'), false);
    assert.equal(resourceBody(redis, 'google_redis_instance', 'this').count, countOff);
    for (const [type, name] of [
      ['google_redis_cluster', 'this'],
      ['google_compute_subnetwork', 'psc'],
      ['google_network_connectivity_service_connection_policy', 'redis'],
    ]) {
      assert.equal(resourceBody(redis, type, name).count, countOn, `${type}.${name}`);
    }
    // Existing state names the instance without an index: without the move, adding `count` would replace it.
    assert.deepEqual(redis.moved, [
      { from: hcl('google_redis_instance.this'), to: hcl('google_redis_instance.this[0]') },
    ]);
    const constraint: string = redis.terraform[0].required_providers[0].google.version;
    const minimum = /^>= (\d+)\.(\d+)/.exec(constraint);
    const [major, minor] = [Number(minimum?.[1]), Number(minimum?.[2])];
    assert.ok(major > 6 || (major === 6 && minor >= 12), `${constraint}: persistence_config needs provider 6.12`);
  });

  it('the app is told how to authenticate (gcp-iam with the cluster) and which CA to trust, in both modes', async () => {
    const redis = await module('gcp', 'memorystore-redis');
    assert.equal(redis.output.auth_mode[0].value, hcl('var.cluster_mode ? "gcp-iam" : "password"'));
    assert.equal(redis.output.tls_ca[0].value, hcl('local.tls_ca'));
    const locals = Object.assign({}, ...redis.locals);
    // The instance exports its CA; the cluster's is read from the Memorystore API (the provider does not export it).
    assert.match(locals.ca_certs, /local\.instance\.server_ca_certs/);
    assert.match(locals.ca_certs, /data\.http\.cluster_ca\[0\]\.response_body\)\.managedServerCa\.caCerts/);
    const read = redis.data.http.cluster_ca[0];
    assert.equal(read.count, hcl('var.cluster_mode ? 1 : 0'));
    assert.match(read.url, /^https:\/\/redis\.googleapis\.com\/v1\/projects\/.*\/clusters\/.*\/certificateAuthority$/);
    assert.deepEqual(read.depends_on, [hcl('google_redis_cluster.this')]);
  });

  it('Memorystore for Redis Cluster: IAM AUTH, TLS, volatile-lru, replicas in other zones, PSC policy', async () => {
    const redis = await module('gcp', 'memorystore-redis');
    const cluster = resourceBody(redis, 'google_redis_cluster', 'this');
    assert.equal(cluster.authorization_mode, 'AUTH_MODE_IAM_AUTH', 'AUTH: the only kind the cluster offers');
    assert.equal(cluster.transit_encryption_mode, 'TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION');
    assert.equal(cluster.redis_configs['maxmemory-policy'], 'volatile-lru', 'ADR 0105');
    assert.equal(cluster.redis_configs['notify-keyspace-events'], 'Ex');
    assert.equal(cluster.zone_distribution_config[0].mode, 'MULTI_ZONE');
    assert.equal(cluster.replica_count, hcl('var.replicas_per_shard'));
    assert.ok(
      redis.variable.replicas_per_shard[0].validation.some((v: any) => v.condition.includes('[1, 2]')),
      'every shard keeps a replica (automatic failover)',
    );
    assert.equal(variableDefault(redis, 'replicas_per_shard'), 1);
    assert.notEqual(variableDefault(redis, 'cluster_node_type'), 'REDIS_SHARED_CORE_NANO', 'nano has no SLA');
    assert.equal(cluster.psc_configs[0].network, hcl('var.network_id'));
    assert.equal(cluster.persistence_config[0].mode, hcl('var.rdb_snapshots ? "RDB" : "DISABLED"'));
    assert.equal(cluster.maintenance_policy[0].weekly_maintenance_window[0].day, 'SUNDAY');
    assert.equal(variableDefault(redis, 'deletion_protection'), true);
    assert.deepEqual(cluster.depends_on, [hcl('google_network_connectivity_service_connection_policy.redis')]);
    const policy = resourceBody(redis, 'google_network_connectivity_service_connection_policy', 'redis');
    assert.equal(policy.service_class, 'gcp-memorystore-redis');
    assert.equal(policy.network, hcl('var.network_id'));
    assert.deepEqual(policy.psc_config[0].subnetworks, [hcl('google_compute_subnetwork.psc[0].id')]);
    assert.equal(resourceBody(redis, 'google_compute_subnetwork', 'psc').ip_cidr_range, hcl('var.psc_subnet_cidr'));
  });

  it('ElastiCache cluster mode: cluster-enabled, volatile-lru, TLS, AUTH token, failover and Multi-AZ', async () => {
    const redis = await module('aws', 'elasticache-redis');
    assert.equal(variableDefault(redis, 'cluster_mode'), false);
    assert.equal(resourceBody(redis, 'aws_elasticache_replication_group', 'this').count, countOff);
    const cluster = resourceBody(redis, 'aws_elasticache_replication_group', 'cluster');
    assert.equal(cluster.count, countOn);
    assert.equal(cluster.cluster_mode, 'enabled');
    assert.equal(cluster.num_node_groups, hcl('var.shards'));
    assert.equal(cluster.replicas_per_node_group, hcl('var.replicas_per_shard'));
    assert.equal(cluster.automatic_failover_enabled, true);
    assert.equal(cluster.multi_az_enabled, true);
    assert.equal(cluster.transit_encryption_enabled, true);
    assert.equal(cluster.at_rest_encryption_enabled, true);
    assert.equal(cluster.auth_token, hcl('var.auth_token'));
    assert.equal(cluster.parameter_group_name, hcl('aws_elasticache_parameter_group.cluster[0].name'));
    const group = resourceBody(redis, 'aws_elasticache_parameter_group', 'cluster');
    assert.equal(group.family, 'redis7');
    const parameters = Object.fromEntries(group.parameter.map((p: any) => [p.name, p.value]));
    assert.deepEqual(parameters, {
      'cluster-enabled': 'yes',
      'maxmemory-policy': 'volatile-lru',
      'notify-keyspace-events': 'Ex',
    });
    assert.deepEqual(
      redis.moved.map((m: any) => m.to),
      [hcl('aws_elasticache_parameter_group.this[0]'), hcl('aws_elasticache_replication_group.this[0]')],
    );
  });

  for (const cloud of ['gcp', 'aws'] as const) {
    for (const env of requiredEnvironments[cloud]) {
      it(`${cloud}/${env}: cluster mode is off as shipped, and the secrets get the URL and the flag from the module`, async () => {
        const vars = await tfvars(cloud, env);
        const main = await parseModule(tfFiles(join(terraformDir, cloud, 'environments', env)));
        const redis = main.module.redis[0];
        const secrets = main.module.secrets[0];
        if (cloud === 'gcp') {
          assert.equal(vars.redis.cluster_mode, false, 'shipped environments keep the single instance (ADR 0106)');
          assert.equal(redis.cluster_mode, hcl('var.redis.cluster_mode'));
          assert.equal(redis.psc_subnet_cidr, hcl('var.cidrs.redis_psc'));
          assert.deepEqual(secrets.values, {
            'atrium-redis-url': hcl('module.redis.url'),
            'atrium-redis-cluster': hcl('tostring(module.redis.cluster_mode)'),
            'atrium-redis-auth': hcl('module.redis.auth_mode'),
            'atrium-redis-tls-ca': hcl('module.redis.tls_ca'),
          });
          // IAM authentication is the cluster's only AUTH: the API's and worker's identities must be allowed to connect.
          assert.equal(
            main.locals[0].redis_connect_roles,
            hcl('var.redis.cluster_mode ? ["roles/redis.dbConnectionUser"] : []'),
          );
          for (const workload of ['atrium-api', 'atrium-worker']) {
            assert.match(main.module.iam[0].workloads[workload].project_roles, /local\.redis_connect_roles/, workload);
          }
        } else {
          assert.equal(vars.redis_cluster_mode, false, 'shipped environments keep the single primary (ADR 0106)');
          assert.equal(redis.cluster_mode, hcl('var.redis_cluster_mode'));
          assert.deepEqual(secrets.values, {
            'redis-url': hcl('module.redis.url'),
            'redis-cluster': hcl('tostring(module.redis.cluster_mode)'),
          });
        }
      });
    }
  }
});
