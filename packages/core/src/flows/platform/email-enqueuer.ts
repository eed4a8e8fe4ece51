import type { EmailEnqueuer } from '../../identity/identity.ts';
import { enqueue } from '../enqueue.ts';
import type { FlowInputSecrets } from '../input-secrets.ts';

/**
 * Identity's emails become flow runs in the caller's transaction: the welcome or invitation email exists exactly
 * when the user or invitation does. `publicUrl` makes the invitation's accept link. The invitation token is sealed
 * with `secrets` before it reaches the run's input (ADR 0203): the database never stores it in clear.
 */
export function flowEmailEnqueuer(publicUrl: string, secrets: FlowInputSecrets): EmailEnqueuer {
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
    const tokenSealed = secrets.seal(token, { tenantId: email.tenantId, flowId: 'email.invitation', field: 'token' });
    await enqueue(
      tx,
      'email.invitation',
      {
        email: email.to,
        role: email.data.role,
        token_sealed: tokenSealed,
        accept_url: `${publicUrl}/invitations/accept`,
      },
      { tenantId: email.tenantId },
    );
  };
}
