import type { IdKind } from '@atrium/contracts';
import type { App } from '../apps/server/src/routes/shared.ts';
import { call } from './app.ts';

/**
 * How to make one resource of each id kind in a tenant, through the API. The isolation suite needs one for
 * every kind of id that appears in a route's path; a new kind without a factory fails the suite on purpose.
 */
export type Factory = (app: App, tenant: string) => Promise<string>;

async function created(response: Promise<{ status: number; body: any }>): Promise<string> {
  const { status, body } = await response;
  if (status !== 201) throw new Error(`factory failed with ${status}: ${JSON.stringify(body)}`);
  return body.id as string;
}

let counter = 0;
const unique = (prefix: string) => `${prefix} ${++counter}`;

export const factories: Partial<Record<IdKind, Factory>> = {
  organization: async (_app, tenant) => tenant,
  membership: async (app, tenant) => {
    const { body } = await call(app, 'GET', `/api/v1/organizations/${tenant}/members`, undefined, { tenant });
    return body[0].id as string;
  },
  invitation: (app, tenant) =>
    created(
      call(
        app,
        'POST',
        `/api/v1/organizations/${tenant}/invitations`,
        { email: `${unique('invitee').replace(' ', '')}@example.com`, role: 'member' },
        { tenant },
      ),
    ),
  apiKey: (app, tenant) =>
    created(call(app, 'POST', '/api/v1/api-keys', { name: unique('Key'), role: 'member' }, { tenant })),
  workspace: (app, tenant) =>
    created(call(app, 'POST', '/api/v1/workspaces', { name: unique('Workspace') }, { tenant })),
  license: (app, tenant) => created(call(app, 'POST', '/api/v1/licenses', { max_seats: 2 }, { tenant })),
  fingerprint: async (app, tenant) => {
    const license = await call(
      app,
      'POST',
      '/api/v1/licenses',
      { max_seats: 2, policy: { mode: 'node_locked', max_fingerprints: 2 } },
      { tenant },
    );
    const key = license.body.license_key;
    await call(
      app,
      'POST',
      '/api/v1/licenses/acquire',
      { license_key: key, fingerprint: unique('pc').replace(' ', '-') },
      { tenant },
    );
    const list = await call(app, 'GET', `/api/v1/licenses/${license.body.id}/fingerprints`, undefined, { tenant });
    return list.body.data[0].id as string;
  },
  project: async (app, tenant) => {
    const workspaceId = await factories.workspace?.(app, tenant);
    return created(
      call(app, 'POST', '/api/v1/projects', { workspace_id: workspaceId, name: unique('Project') }, { tenant }),
    );
  },
  organizationExport: async (app, tenant) => {
    const { status, body } = await call(app, 'POST', '/api/v1/organization-exports', {}, { tenant });
    if (status !== 202) throw new Error(`factory failed with ${status}: ${JSON.stringify(body)}`);
    return body.id as string;
  },
  flowRun: async (app, tenant) => {
    const { status, body } = await call(app, 'POST', '/api/v1/organization-exports', {}, { tenant });
    if (status !== 202) throw new Error(`factory failed with ${status}: ${JSON.stringify(body)}`);
    return body.run_id as string;
  },
  flowSchedule: (app, tenant) =>
    created(
      call(app, 'POST', '/api/v1/flow-schedules', { flow_id: `test.flow-${++counter}`, cron: '0 * * * *' }, { tenant }),
    ),
};
