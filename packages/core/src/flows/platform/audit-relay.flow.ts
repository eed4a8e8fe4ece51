import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Pool, withTenant } from '@atrium/db';
import { context, propagation, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { inChildSpan } from '../../shared/tracing.ts';
import { defineFlow, retryDelayMs } from '../definition.ts';
import { type ClaimedDelivery, claimAuditBatch, markDelivered, markFailed } from './audit-deliveries.repository.ts';

export interface AuditWebhook {
  url: string;
  secret: string;
}

export interface AuditRelayOptions {
  /** Events per webhook call (Default: 500). */
  batchSize?: number;
  /** A failed call is tried again after this, doubling per failure (Default: 5000 ms)… */
  retryInitialDelayMs?: number;
  /** …up to this (Default: 600000 ms = 10 min). */
  retryMaxDelayMs?: number;
  /** One webhook call at most (Default: 10000 ms); the batch's lease is this plus 20 s. */
  timeoutMs?: number;
  /**
   * How long one run waits for older transactions to end when the only new events were written by younger ones
   * (Default: 1000 ms); after that the next run sends them.
   */
  horizonWaitMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Each call is a CLIENT span under the run's, and its context goes to the receiver as `traceparent` (ADR 0009). */
  tracer?: Tracer | null;
}

export interface RelayResult {
  relayed: number;
  /** The batch still to deliver, when the receiver failed (now or earlier) or another relay is sending it. */
  pending: { attempts: number; retry_at: string; error: string | null } | null;
}

/** Header a receiver checks: `sha256=` + HMAC-SHA256 of the raw body with the shared secret. */
export function signAuditBody(secret: string, body: string) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * audit_logs is the outbox: each change wrote its event in its own transaction. The relay claims a batch (a
 * short transaction: an audit_deliveries row with a stable id, the cursor moved past its events) and commits;
 * calls the webhook with no transaction open; then records the result in another short transaction. Delivery
 * is at least once: a receiver dedupes by `x-atrium-event-id` (also sent as Idempotency-Key, and as `id` in the
 * body), the same for every retry of a batch. A failing receiver delays only the relay (backoff per batch),
 * never the transactions that write audit events.
 */
export async function relayAuditEvents(
  pool: Pool,
  tenantId: string,
  webhook: AuditWebhook,
  options: AuditRelayOptions = {},
): Promise<RelayResult> {
  const batchSize = options.batchSize ?? 500;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retry = {
    maxAttempts: Number.POSITIVE_INFINITY,
    initialDelayMs: options.retryInitialDelayMs ?? 5000,
    maxDelayMs: options.retryMaxDelayMs ?? 600_000,
  };
  const waitUntil = Date.now() + (options.horizonWaitMs ?? 1000);
  let relayed = 0;
  for (let round = 0; round < 20; ) {
    const claimed = await withTenant(pool, tenantId, (tx) =>
      claimAuditBatch(tx, tenantId, batchSize, timeoutMs + 20_000),
    );
    if (claimed.kind === 'idle') break;
    if (claimed.kind === 'held') {
      if (Date.now() >= waitUntil) break;
      await sleep(25, undefined, { signal: options.signal });
      continue;
    }
    round++;
    if (claimed.kind === 'waiting') {
      const retryAt = claimed.until.toISOString();
      return { relayed, pending: { attempts: claimed.attempts, retry_at: retryAt, error: claimed.lastError } };
    }
    const { delivery } = claimed;
    const failure = await send(webhook, tenantId, delivery, timeoutMs, options);
    if (failure === null) {
      await withTenant(pool, tenantId, (tx) => markDelivered(tx, tenantId, delivery));
      relayed += delivery.events.length;
      if (delivery.events.length < batchSize) break;
      continue;
    }
    // Stopped by its own run (drain, lease lost): not the receiver's failure, so the next relay may try at once.
    const delayMs = options.signal?.aborted ? 0 : retryDelayMs(retry, delivery.attempts);
    const retryAt = new Date(Date.now() + delayMs);
    await withTenant(pool, tenantId, (tx) => markFailed(tx, tenantId, delivery, failure, retryAt));
    options.signal?.throwIfAborted();
    return { relayed, pending: { attempts: delivery.attempts, retry_at: retryAt.toISOString(), error: failure } };
  }
  return { relayed, pending: null };
}

/** One webhook call; null when the receiver accepted the batch (2xx), otherwise why not. */
function send(
  webhook: AuditWebhook,
  tenantId: string,
  delivery: ClaimedDelivery,
  timeoutMs: number,
  options: AuditRelayOptions,
): Promise<string | null> {
  const target = new URL(webhook.url);
  // The URL without its query or credentials: an operator may have put a token there.
  const attributes = {
    'http.request.method': 'POST',
    'server.address': target.hostname,
    'server.port': Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
    'url.full': `${target.origin}${target.pathname}`,
  };
  return inChildSpan(
    options.tracer,
    'POST',
    attributes,
    (span) => call(webhook, tenantId, delivery, timeoutMs, options, span),
    SpanKind.CLIENT,
  );
}

async function call(
  webhook: AuditWebhook,
  tenantId: string,
  delivery: ClaimedDelivery,
  timeoutMs: number,
  options: AuditRelayOptions,
  span: Span | null,
): Promise<string | null> {
  const body = JSON.stringify({ id: delivery.id, organization_id: tenantId, events: delivery.events });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-atrium-signature': signAuditBody(webhook.secret, body),
    'x-atrium-event-id': delivery.id,
    'idempotency-key': delivery.id,
  };
  // The receiver can join the relay's trace (W3C traceparent); nothing is added when tracing is off.
  propagation.inject(context.active(), headers);
  const timeout = AbortSignal.timeout(timeoutMs);
  let failure: string | null;
  try {
    const response = await (options.fetch ?? fetch)(webhook.url, {
      method: 'POST',
      headers,
      body,
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
    await response.body?.cancel();
    span?.setAttribute('http.response.status_code', response.status);
    failure = response.ok ? null : `audit webhook answered ${response.status}`;
  } catch (err) {
    failure = `audit webhook call failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (failure) span?.setStatus({ code: SpanStatusCode.ERROR, message: failure });
  return failure;
}

/** Every 10 s per organization when a webhook is configured; the run's output says what is still pending. */
export function auditRelayFlow(webhook: AuditWebhook | null, options: AuditRelayOptions = {}) {
  return defineFlow({
    id: 'audit.relay',
    version: 1,
    // Scheduled only when a webhook is configured: otherwise every organization would get a run every 10 s.
    ...(webhook ? { schedule: { cron: '*/10 * * * * *', timezone: 'UTC' } } : {}),
    // The run's own retries cover database errors; a failing receiver is retried per batch (relayAuditEvents).
    retry: { maxAttempts: 3, initialDelayMs: 2000 },
    run: async (ctx) => {
      if (!webhook) return { relayed: 0, pending: null, reason: 'ATRIUM_AUDIT_WEBHOOK_URL is not set' };
      return relayAuditEvents(ctx.pool, ctx.tenantId, webhook, { ...options, signal: ctx.signal });
    },
  });
}

/** Events written but not yet relayed, across organizations (a count through a definer function, no rows). */
export async function auditOutboxPending(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ pending: string }>('select audit_outbox_pending() as pending');
  return Number(rows[0]?.pending ?? 0);
}
