import { defineFlow, type FlowContext, NonRetryableError } from '../definition.ts';
import type { FlowInputSecrets } from '../input-secrets.ts';
import type { EmailMessage, Mailer } from './mailer.ts';

export interface WelcomeInput {
  email: string;
  name?: string;
}

export interface InvitationInput {
  email: string;
  role?: string;
  /** The invitation secret (only its hash is stored with the invitation), sealed with FlowInputSecrets (ADR 0203). */
  token_sealed?: string;
  /** Runs enqueued before ADR 0203 carry the token in clear; still honoured, redacted in the runs API. */
  token?: string;
  accept_url: string;
}

/** Email flows the identity work enqueues (with `enqueue(tx, 'email.welcome', input, { tenantId, idempotencyKey })`). */
export function emailFlows(mailer: Mailer, secrets: FlowInputSecrets | null) {
  return [
    defineFlow<WelcomeInput>({
      id: 'email.welcome',
      version: 1,
      retry: { maxAttempts: 8, initialDelayMs: 5000 },
      run: (ctx) => {
        const hello = ctx.input.name ? `Hello ${ctx.input.name},` : 'Hello,';
        const text = `${hello}\n\nyour Atrium account is ready.\n`;
        return deliver(ctx, mailer, { to: ctx.input.email, subject: 'Welcome to Atrium', text });
      },
    }),
    defineFlow<InvitationInput>({
      id: 'email.invitation',
      version: 1,
      retry: { maxAttempts: 8, initialDelayMs: 5000 },
      run: async (ctx) => {
        const organization = await ctx.step('organization', () =>
          ctx.withTenant(async (tx) => {
            const { rows } = await tx.query<{ name: string }>('select name from organizations where id = $1', [
              ctx.tenantId,
            ]);
            return rows[0]?.name ?? 'an organization';
          }),
        );
        const token = invitationToken(ctx, secrets);
        const role = ctx.input.role ? ` as ${ctx.input.role}` : '';
        const text =
          `You are invited to join ${organization}${role} on Atrium.\n\n` +
          `Accept at ${ctx.input.accept_url} with this invitation code:\n\n${token}\n`;
        const subject = `Join ${organization} on Atrium`;
        return deliver(ctx, mailer, { to: ctx.input.email, subject, text });
      },
    }),
  ];
}

/** The outbox insert commits with the step's result (exactly once); SMTP is at-least-once with a stable Message-ID. */
async function deliver(ctx: FlowContext<unknown>, mailer: Mailer, message: EmailMessage) {
  const key = `${ctx.runId}:send`;
  if (mailer.kind === 'outbox') {
    await ctx.transactionalStep('send', (tx) => mailer.send(tx, ctx.tenantId, message, key));
  } else {
    await ctx.step('send', () => ctx.withTenant((tx) => mailer.send(tx, ctx.tenantId, message, key)));
  }
  return { sent_to: message.to, via: mailer.kind };
}

/** The token, opened only in memory for the email; never a step result (steps are stored). */
function invitationToken(ctx: FlowContext<InvitationInput>, secrets: FlowInputSecrets | null): string {
  const { token_sealed: sealed, token } = ctx.input;
  if (sealed === undefined) {
    if (token === undefined) throw new NonRetryableError('the invitation run has no token');
    return token;
  }
  // Retryable: another worker of the installation may have the key this one lacks.
  if (!secrets) throw new Error('this worker has no ATRIUM_SECRET_KEY: it cannot open the invitation token');
  try {
    return secrets.open(sealed, { tenantId: ctx.tenantId, flowId: 'email.invitation', field: 'token' });
  } catch {
    throw new NonRetryableError('the invitation token was sealed with another ATRIUM_SECRET_KEY; invite again');
  }
}
