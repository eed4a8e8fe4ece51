# Document 000's VPC: a GKE subnet with pod and service secondary ranges, a data range reserved for Private Service
# Access (Cloud SQL and Memorystore get private IPs only), Cloud NAT for egress, and firewall rules that allow
# internal traffic, NATS, IAP SSH and Google health checks above a lowest-priority deny-all.
resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = "${var.name}-vpc"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
  mtu                     = 1460
}

resource "google_compute_subnetwork" "gke" {
  project                  = var.project_id
  name                     = "${var.name}-gke"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.gke_subnet_cidr
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }

  # Document 001: flow logs at 5-second aggregation.
  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = var.flow_log_sampling
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# The data range is handed to Google's service producer network; Cloud SQL and Memorystore draw addresses from it.
resource "google_compute_global_address" "private_service_access" {
  project       = var.project_id
  name          = "${var.name}-private-service-access"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = split("/", var.data_cidr)[0]
  prefix_length = tonumber(split("/", var.data_cidr)[1])
  network       = google_compute_network.this.id
}

resource "google_service_networking_connection" "private_service_access" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_service_access.name]
  # One connection per VPC; abandoning it on destroy avoids the providers' well-known "producer services still
  # using this connection" failure when the network is torn down.
  deletion_policy = "ABANDON"
}

resource "google_compute_router" "this" {
  project = var.project_id
  name    = "${var.name}-router"
  region  = var.region
  network = google_compute_network.this.id
}

resource "google_compute_router_nat" "this" {
  project                             = var.project_id
  name                                = "${var.name}-nat"
  router                              = google_compute_router.this.name
  region                              = var.region
  nat_ip_allocate_option              = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat  = "ALL_SUBNETWORKS_ALL_IP_RANGES"
  min_ports_per_vm                    = 64
  tcp_established_idle_timeout_sec    = 1200
  tcp_transitory_idle_timeout_sec     = 30
  tcp_time_wait_timeout_sec           = 120
  enable_endpoint_independent_mapping = false

  log_config {
    enable = true
    filter = "ALL"
  }
}

locals {
  internal_ranges = [var.gke_subnet_cidr, var.pods_cidr, var.services_cidr, var.data_cidr]
}

resource "google_compute_firewall" "allow_internal" {
  project       = var.project_id
  name          = "${var.name}-allow-internal"
  network       = google_compute_network.this.id
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = local.internal_ranges
  allow {
    protocol = "tcp"
  }
  allow {
    protocol = "udp"
  }
  allow {
    protocol = "icmp"
  }
}

resource "google_compute_firewall" "allow_nats" {
  project       = var.project_id
  name          = "${var.name}-allow-nats"
  network       = google_compute_network.this.id
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = [var.gke_subnet_cidr, var.pods_cidr]
  allow {
    protocol = "tcp"
    ports    = ["4222", "6222", "8222"]
  }
}

resource "google_compute_firewall" "allow_iap_ssh" {
  project       = var.project_id
  name          = "${var.name}-allow-iap-ssh"
  network       = google_compute_network.this.id
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = ["35.235.240.0/20"]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_firewall" "allow_health_checks" {
  project       = var.project_id
  name          = "${var.name}-allow-health-checks"
  network       = google_compute_network.this.id
  direction     = "INGRESS"
  priority      = 1000
  source_ranges = ["35.191.0.0/16", "130.211.0.0/22"]
  allow {
    protocol = "tcp"
    ports    = ["8080"]
  }
}

resource "google_compute_firewall" "deny_all_ingress" {
  project       = var.project_id
  name          = "${var.name}-deny-all-ingress"
  network       = google_compute_network.this.id
  direction     = "INGRESS"
  priority      = 65535
  source_ranges = ["0.0.0.0/0"]
  deny {
    protocol = "all"
  }
}
