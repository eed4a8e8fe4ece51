import type { EmailEnqueuer } from '../../identity/identity.ts';
import { enqueue } from '../enqueue.ts';

/**
 * Identity's emails become flow runs in the caller's transaction: the welcome or invitation email exists exactly
 * when the user or invitation does. `publicUrl` makes the invitation's accept link.
 */
export function flowEmailEnqueuer(publicUrl: string): EmailEnqueuer {
  return async (tx, email) => {
    if (email.template === 'welcome') {
      const name = typeof email.data.name === 'string' ? email.data.name : undefined;
      await enqueue(
        tx,
        'email.welcome',
        { email: email.to, ...(name ? { name } : {}) },
        {
          tenantId: email.tenantId,
          idempotencyKey: `welcome:${email.to}`,
        },
      );
      return;
    }
    const token = String(email.data.token ?? '');
    await enqueue(
      tx,
      'email.invitation',
      { email: email.to, role: email.data.role, token, accept_url: `${publicUrl}/invitations/accept` },
      { tenantId: email.tenantId },
    );
  };
}
