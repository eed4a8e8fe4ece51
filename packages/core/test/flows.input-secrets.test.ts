import { describe, expect, it } from 'vitest';
import { FlowInputSecrets } from '../src/index.ts';

const key = 'flow-input-secrets-test-key-0123456789';
const context = { tenantId: '0190a0b0-0000-7000-8000-000000000001', flowId: 'email.invitation', field: 'token' };

describe('sealed flow inputs', () => {
  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const secrets = new FlowInputSecrets(key);
    const sealed = secrets.seal('the-invitation-token', context);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('the-invitation-token');
    expect(secrets.seal('the-invitation-token', context)).not.toBe(sealed);
    expect(secrets.open(sealed, context)).toBe('the-invitation-token');
  });

  it('refuses a value moved to another tenant, flow or field, or opened with another server secret', () => {
    const sealed = new FlowInputSecrets(key).seal('secret', context);
    const secrets = new FlowInputSecrets(key);
    expect(() => secrets.open(sealed, { ...context, tenantId: '0190a0b0-0000-7000-8000-000000000002' })).toThrow();
    expect(() => secrets.open(sealed, { ...context, flowId: 'email.welcome' })).toThrow();
    expect(() => secrets.open(sealed, { ...context, field: 'password' })).toThrow();
    expect(() => new FlowInputSecrets(`${key}-other`).open(sealed, context)).toThrow();
    expect(() => secrets.open('v1.broken', context)).toThrow('not a sealed flow input');
  });
});
