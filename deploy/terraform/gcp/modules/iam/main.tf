# Document 000's Workload Identity map: one Google service account per Kubernetes service account, bound with
# roles/iam.workloadIdentityUser, plus its project roles (Cloud SQL client, Secret Manager accessor, …).
resource "google_service_account" "this" {
  for_each     = var.workloads
  project      = var.project_id
  account_id   = "${var.environment}-${each.key}"
  display_name = "Atrium ${each.key} (${var.environment})"
}

resource "google_service_account_iam_member" "workload_identity" {
  for_each           = var.workloads
  service_account_id = google_service_account.this[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${each.value.kubernetes_service_account}]"
}

resource "google_project_iam_member" "roles" {
  for_each = merge([
    for name, w in var.workloads : { for role in w.project_roles : "${name}/${role}" => { name = name, role = role } }
  ]...)
  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.this[each.value.name].email}"
}
