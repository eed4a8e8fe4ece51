import {
  CreateFlowSchedule,
  Flow,
  FlowId,
  FlowRun,
  FlowRunDetail,
  FlowRunQuery,
  FlowScheduleView,
  fromPublicId,
  IdParams,
  NoInput,
  Page,
  PageQuery,
  StartFlowRun,
} from '@atrium/contracts';
import { flowRuns, flowSchedules } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, IdempotencyHeaders, problems, type RouteDeps, sendStored, tenantRouteProblems } from './shared.ts';

const tags = ['flows'];
const RunParams = IdParams('flowRun');
const ScheduleParams = IdParams('flowSchedule');

export interface FlowRouteDeps extends RouteDeps {
  /** Runs of one organization waiting or running at most; more is refused with flow_queue_full. */
  flowTenantQueueQuota: number;
}

export function flowRoutes(app: App, { pool, flowTenantQueueQuota }: FlowRouteDeps) {
  const runId = (id: string) => fromPublicId('flowRun', id) as string;
  const scheduleId = (id: string) => fromPublicId('flowSchedule', id) as string;

  app.get(
    '/api/v1/flows',
    {
      schema: {
        tags,
        summary: 'List the flows the workers can run',
        response: { 200: Type.Object({ data: Type.Array(Flow) }), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => ({ data: await flowRuns.listFlows(tenantContext(request, pool)) }),
  );

  app.post(
    '/api/v1/flows/:id/runs',
    {
      schema: {
        tags,
        summary: 'Start a run of a flow (now, or later with run_at)',
        params: Type.Object({ id: FlowId }, { additionalProperties: false }),
        headers: IdempotencyHeaders,
        body: StartFlowRun,
        response: { 201: FlowRun, ...problems(...tenantRouteProblems, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const stored = await flowRuns.startRun(tenantContext(request, pool), request.params.id, request.body, {
        idempotencyKey: request.headers['idempotency-key'],
        queueQuota: flowTenantQueueQuota,
      });
      return sendStored(reply, stored);
    },
  );

  app.get(
    '/api/v1/flow-runs',
    {
      schema: {
        tags,
        summary: 'List flow runs, newest first',
        querystring: Type.Object({ ...PageQuery, ...FlowRunQuery }, { additionalProperties: false }),
        response: { 200: Page(FlowRun), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => {
      const { flow_id, status, ...page } = request.query;
      return flowRuns.listRuns(tenantContext(request, pool), { flowId: flow_id, status }, { limit: 20, ...page });
    },
  );

  app.get(
    '/api/v1/flow-runs/:id',
    {
      schema: {
        tags,
        summary: 'Get a run with its steps, attempts, errors and timing',
        params: RunParams,
        response: { 200: FlowRunDetail, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => flowRuns.getRun(tenantContext(request, pool), runId(request.params.id)),
  );

  app.post(
    '/api/v1/flow-runs/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a queued run, or ask a running one to stop (its step signal fires)',
        params: RunParams,
        body: NoInput,
        response: { 200: FlowRun, ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request) => flowRuns.cancelRun(tenantContext(request, pool), runId(request.params.id)),
  );

  app.post(
    '/api/v1/flow-runs/:id/redrive',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Run a dead or timed-out run again with fresh attempts',
        params: RunParams,
        body: NoInput,
        response: { 200: FlowRun, ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request) => flowRuns.redriveRun(tenantContext(request, pool), runId(request.params.id)),
  );

  app.get(
    '/api/v1/flow-schedules',
    {
      schema: {
        tags,
        summary: 'List the schedules of this organization',
        response: { 200: Type.Object({ data: Type.Array(FlowScheduleView) }), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => ({ data: await flowSchedules.listSchedules(tenantContext(request, pool)) }),
  );

  app.post(
    '/api/v1/flow-schedules',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Schedule a flow for this organization (cron with time zone)',
        body: CreateFlowSchedule,
        response: { 201: FlowScheduleView, ...problems(...tenantRouteProblems, 409, 413, 415) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await flowSchedules.createSchedule(tenantContext(request, pool), request.body)),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/v1/flow-schedules/:id/${action}`,
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: action === 'pause' ? 'Pause a schedule' : 'Resume a paused schedule',
          params: ScheduleParams,
          body: NoInput,
          response: { 200: FlowScheduleView, ...problems(...tenantRouteProblems, 404) },
        },
      },
      async (request) =>
        flowSchedules.setSchedulePaused(
          tenantContext(request, pool),
          scheduleId(request.params.id),
          action === 'pause',
        ),
    );
  }
}
