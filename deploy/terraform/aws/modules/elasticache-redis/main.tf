# ElastiCache for Redis, the AWS twin of Memorystore (document 000): AUTH token, TLS in transit, encryption at rest,
# a replica with automatic failover in production, daily snapshots, volatile-lru (ADR 0105) and expiry notifications.
# `cluster_mode` swaps the single-primary replication group for a cluster-mode-enabled one (ADR 0106). They are two
# resources, not one in two shapes: a switch builds a new, empty store beside the old one and removes the old one,
# because Atrium rebuilds its seats from the PostgreSQL lease journal (ADR 0100) and needs no data copied.
resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis from the application subnets only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

# Cluster-mode nodes listen on the same port as the single primary, so one rule serves both modes.
resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.this.id
  description       = "Redis from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
}

# Single primary (cluster mode disabled): the default, as before ADR 0106.
resource "aws_elasticache_parameter_group" "this" {
  count  = var.cluster_mode ? 0 : 1
  name   = "${var.name}-redis7"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru" # evicts only keys with a TTL; never a lease set (ADR 0105)
  }
  parameter {
    name  = "notify-keyspace-events"
    value = "Ex"
  }
  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  count                = var.cluster_mode ? 0 : 1
  replication_group_id = var.name
  description          = "Atrium cache, seat store and rate limiter"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this[0].name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0

  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  auth_token                 = var.auth_token

  snapshot_retention_limit = var.snapshot_retention_days
  snapshot_window          = "02:00-03:00"
  maintenance_window       = "sun:03:00-sun:04:00"

  tags = var.tags
}

# State written before cluster mode existed names the single-primary objects without an index.
moved {
  from = aws_elasticache_parameter_group.this
  to   = aws_elasticache_parameter_group.this[0]
}

moved {
  from = aws_elasticache_replication_group.this
  to   = aws_elasticache_replication_group.this[0]
}

# Redis Cluster (cluster mode enabled). A license's keys share the hash tag {lic:<id>}, so every seat script runs on
# one shard (ADR 0100). The same policy as the single primary, plus cluster-enabled.
resource "aws_elasticache_parameter_group" "cluster" {
  count  = var.cluster_mode ? 1 : 0
  name   = "${var.name}-redis7-cluster"
  family = "redis7"
  parameter {
    name  = "cluster-enabled"
    value = "yes"
  }
  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru" # evicts only keys with a TTL; never a lease set (ADR 0105)
  }
  parameter {
    name  = "notify-keyspace-events"
    value = "Ex"
  }
  tags = var.tags
}

resource "aws_elasticache_replication_group" "cluster" {
  count = var.cluster_mode ? 1 : 0
  # Its own id, so that the new store can be built while the single primary still serves.
  replication_group_id = "${var.name}-cluster"
  description          = "Atrium cache, seat store and rate limiter (Redis Cluster)"
  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.cluster[0].name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  cluster_mode            = "enabled"
  num_node_groups         = var.shards
  replicas_per_node_group = var.replicas_per_shard
  # A shard whose primary fails must promote its replica: without it the shard's licenses answer 503 until the
  # node is replaced, and come back empty (ADR 0100, amendment).
  automatic_failover_enabled = true
  multi_az_enabled           = true

  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  auth_token                 = var.auth_token

  snapshot_retention_limit = var.snapshot_retention_days
  snapshot_window          = "02:00-03:00"
  maintenance_window       = "sun:03:00-sun:04:00"

  tags = var.tags
}

locals {
  endpoint = var.cluster_mode ? one(aws_elasticache_replication_group.cluster[*].configuration_endpoint_address) : one(aws_elasticache_replication_group.this[*].primary_endpoint_address)
  port     = var.cluster_mode ? one(aws_elasticache_replication_group.cluster[*].port) : one(aws_elasticache_replication_group.this[*].port)
}
