import type { Tracer } from '@opentelemetry/api';
import type { FlowDefinition } from '../definition.ts';
import type { FlowInputSecrets } from '../input-secrets.ts';
import { type AuditWebhook, auditRelayFlow } from './audit-relay.flow.ts';
import { emailFlows } from './email.flows.ts';
import { type LicensingSweep, licensingSweepFlow } from './licensing-sweep.flow.ts';
import type { Mailer } from './mailer.ts';
import { organizationDeletionFlow, organizationExportFlow } from './organization.flows.ts';
import { retentionFlow } from './retention.flow.ts';
import { usageReportFlow } from './usage-report.flow.ts';

export {
  type AuditRelayOptions,
  type AuditWebhook,
  auditOutboxPending,
  type RelayResult,
  relayAuditEvents,
  signAuditBody,
} from './audit-relay.flow.ts';
export type { InvitationInput, WelcomeInput } from './email.flows.ts';
export { flowEmailEnqueuer } from './email-enqueuer.ts';
export type { LicensingSweep } from './licensing-sweep.flow.ts';
export { type EmailMessage, type Mailer, outboxMailer, smtpMailer } from './mailer.ts';
export { exportTenant } from './organization.flows.ts';
export { toCsv } from './usage-report.flow.ts';

export interface PlatformFlowDeps {
  mailer: Mailer;
  /** Opens sealed secrets of flow inputs (the invitation token); null on a worker without ATRIUM_SECRET_KEY. */
  inputSecrets: FlowInputSecrets | null;
  auditWebhook: AuditWebhook | null;
  licensingSweep?: LicensingSweep | null;
  fetch?: typeof fetch;
  /** Outbound calls (the audit webhook) become CLIENT spans of the run's trace when tracing is on. */
  tracer?: Tracer | null;
  /** Finished runs older than this are deleted daily (Default: 30). */
  retentionDays?: number;
}

/** The platform's own jobs, run on the flows engine like any other flow. */
export function platformFlows(deps: PlatformFlowDeps): Array<FlowDefinition<never>> {
  return [
    ...emailFlows(deps.mailer, deps.inputSecrets),
    licensingSweepFlow(deps.licensingSweep ?? null),
    usageReportFlow,
    organizationExportFlow,
    organizationDeletionFlow,
    auditRelayFlow(deps.auditWebhook, { ...(deps.fetch ? { fetch: deps.fetch } : {}), tracer: deps.tracer ?? null }),
    retentionFlow(deps.retentionDays ?? 30),
  ] as unknown as Array<FlowDefinition<never>>;
}
export * as platformJobs from './jobs.service.ts';
