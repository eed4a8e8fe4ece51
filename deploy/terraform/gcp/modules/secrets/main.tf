# Secret Manager entries for Atrium (document 001's inventory, narrowed to what Atrium reads). The External
# Secrets Operator reads them with the service accounts' Workload Identity; nothing is stored in manifests.
resource "google_secret_manager_secret" "this" {
  for_each  = var.secrets
  project   = var.project_id
  secret_id = each.key
  labels    = { app = "atrium" }

  replication {
    auto {}
  }

  annotations = {
    description = each.value
  }
}

resource "google_secret_manager_secret_version" "this" {
  for_each    = nonsensitive(toset(keys(var.values)))
  secret      = google_secret_manager_secret.this[each.key].id
  secret_data = var.values[each.key]
}

resource "google_secret_manager_secret_iam_member" "accessors" {
  for_each = {
    for pair in setproduct(keys(var.secrets), var.accessor_members) : "${pair[0]}/${pair[1]}" => { secret = pair[0], member = pair[1] }
  }
  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
