import { defineFlow, type FlowContext } from '../definition.ts';
import type { EmailMessage, Mailer } from './mailer.ts';

export interface WelcomeInput {
  email: string;
  name?: string;
}

export interface InvitationInput {
  email: string;
  role?: string;
  /** The invitation secret (only its hash is stored with the invitation); redacted in the runs API. */
  token: string;
  accept_url: string;
}

/** Email flows the identity work enqueues (with `enqueue(tx, 'email.welcome', input, { tenantId, idempotencyKey })`). */
export function emailFlows(mailer: Mailer) {
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
        const role = ctx.input.role ? ` as ${ctx.input.role}` : '';
        const text =
          `You are invited to join ${organization}${role} on Atrium.\n\n` +
          `Accept at ${ctx.input.accept_url} with this invitation code:\n\n${ctx.input.token}\n`;
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
