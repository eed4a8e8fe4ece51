import Type, { type Static } from 'typebox';
import { PublicId, Timestamp } from './common.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const FlowId = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$',
  description: 'A flow id such as email.welcome',
});

export const Flow = Type.Object({
  id: FlowId,
  version: Type.Integer(),
  events: Type.Array(Type.String()),
  schedule: Nullable(Type.Object({ cron: Type.String(), timezone: Type.String() })),
});
export type Flow = Static<typeof Flow>;

export const FlowRunStatus = Type.Union(
  ['queued', 'running', 'succeeded', 'dead', 'cancelled', 'timed_out'].map((status) => Type.Literal(status)),
);

const Json = Type.Unknown({ description: 'Any JSON value' });

export const FlowRun = Type.Object({
  id: PublicId('flowRun'),
  flow_id: FlowId,
  status: FlowRunStatus,
  input: Json,
  output: Json,
  error: Json,
  priority: Type.Integer(),
  attempts: Type.Integer(),
  trigger: Type.String(),
  run_at: Timestamp,
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
});
export type FlowRun = Static<typeof FlowRun>;

export const FlowStepRecord = Type.Object({
  name: Type.String(),
  result: Json,
  attempt: Type.Integer(),
  duration_ms: Type.Integer(),
  completed_at: Timestamp,
});

export const FlowAttemptStatus = Type.Union(
  ['running', 'succeeded', 'failed', 'timed_out', 'lost', 'cancelled', 'handed_back'].map((status) =>
    Type.Literal(status),
  ),
  {
    description:
      'lost: the worker stopped renewing its lease (it died); handed_back: the worker drained and gave the run ' +
      'back at once (not counted toward max attempts)',
  },
);

export const FlowAttempt = Type.Object({
  id: PublicId('flowAttempt'),
  number: Type.Integer(),
  status: FlowAttemptStatus,
  worker_id: Type.String(),
  enqueued_at: Timestamp,
  started_at: Timestamp,
  finished_at: Nullable(Timestamp),
  error: Json,
});

export const FlowRunDetail = Type.Intersect([
  FlowRun,
  Type.Object({ steps: Type.Array(FlowStepRecord), attempts_detail: Type.Array(FlowAttempt) }),
]);
export type FlowRunDetail = Static<typeof FlowRunDetail>;

export const StartFlowRun = Type.Object(
  {
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The flow input (an object)' })),
    priority: Type.Optional(
      Type.Integer({ minimum: -100, maximum: 100, description: 'Higher runs first (Default: 0)' }),
    ),
    run_at: Type.Optional(Type.String({ format: 'date-time', description: 'Delayed start: not before this time' })),
  },
  { additionalProperties: false },
);

export const FlowRunQuery = {
  flow_id: Type.Optional(FlowId),
  status: Type.Optional(FlowRunStatus),
};

export const FlowScheduleView = Type.Object({
  id: PublicId('flowSchedule'),
  flow_id: FlowId,
  cron: Type.String(),
  timezone: Type.String(),
  paused: Type.Boolean(),
  next_run_at: Timestamp,
  last_run_at: Nullable(Timestamp),
});
export type FlowScheduleView = Static<typeof FlowScheduleView>;

export const DailyUsageReport = Type.Object({
  id: PublicId('usageReport'),
  day: Type.String({ format: 'date' }),
  rows: Type.Array(Type.Object({ metric: Type.String(), value: Type.Number() })),
  created_at: Timestamp,
});
export type DailyUsageReport = Static<typeof DailyUsageReport>;

export const OrganizationExport = Type.Object({
  id: PublicId('organizationExport'),
  status: Type.Union([Type.Literal('pending'), Type.Literal('ready')]),
  run_id: Nullable(PublicId('flowRun')),
  created_at: Timestamp,
});
export type OrganizationExport = Static<typeof OrganizationExport>;

export const CreateFlowSchedule = Type.Object(
  {
    flow_id: FlowId,
    cron: Type.String({ minLength: 9, maxLength: 100, description: 'Five or six cron fields' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone (Default: UTC)' })),
    input: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  {
    additionalProperties: false,
    examples: [{ flow_id: 'usage.daily-report', cron: '0 6 * * *', timezone: 'Europe/Paris' }],
  },
);

/** Action routes (cancel, redrive, pause, resume) take no input; an empty object or no body at all. */
export const NoInput = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()], {
  examples: [{}],
});

export const ScheduleDeletion = Type.Object(
  {
    delay_seconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 90 * 86_400, description: 'Grace period before deletion (Default: 7 days)' }),
    ),
  },
  { additionalProperties: false, examples: [{ delay_seconds: 604_800 }] },
);
