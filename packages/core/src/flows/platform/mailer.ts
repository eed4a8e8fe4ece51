import type { Tx } from '@atrium/db';
import nodemailer from 'nodemailer';
import type { Logger } from '../completions.ts';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends email. `idempotencyKey` is stable across retries of the same step, so a message goes out once. */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(tx: Tx, tenantId: string, message: EmailMessage, idempotencyKey: string): Promise<void>;
}

/** SMTP via nodemailer (SMTP_URL). The Message-ID is derived from the idempotency key, for receivers that dedupe. */
export function smtpMailer(url: string, from: string): Mailer {
  const transport = nodemailer.createTransport(url);
  return {
    kind: 'smtp',
    async send(_tx, _tenantId, message, idempotencyKey) {
      const messageId = `<${Buffer.from(idempotencyKey).toString('base64url')}@atrium>`;
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, messageId });
    },
  };
}

/**
 * No SMTP configured: the message is written to the email_outbox table (in the step's transaction, so exactly
 * once) and to the log, where a developer can read it.
 */
export function outboxMailer(log: Logger): Mailer {
  return {
    kind: 'outbox',
    async send(tx, tenantId, message, idempotencyKey) {
      const { rowCount } = await tx.query(
        `insert into email_outbox (tenant_id, id, to_address, subject, body_text, idempotency_key)
         values ($1, gen_random_uuid(), $2, $3, $4, $5) on conflict (tenant_id, idempotency_key) do nothing`,
        [tenantId, message.to, message.subject, message.text, idempotencyKey],
      );
      if (rowCount === 1) {
        log.info(
          { to: message.to, subject: message.subject, text: message.text },
          'email (no SMTP_URL: kept in email_outbox)',
        );
      }
    },
  };
}
