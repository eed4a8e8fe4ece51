import { type Pool, withTenant } from '@atrium/db';
import { type Logger, silentLogger } from './completions.ts';
import type { FlowRegistry } from './definition.ts';
import { enqueue } from './enqueue.ts';
import { dueSchedules, ensureSchedules, lockDueSchedule, nextFire, setNextRun } from './schedules.repository.ts';

export interface SchedulerOptions {
  pool: Pool;
  registry: FlowRegistry;
  /** How often due schedules are looked for (Default: 1000 ms). */
  tickMs?: number;
  log?: Logger;
}

/**
 * Starts runs of due schedules. Several workers may run it at once: each schedule row is locked with SKIP LOCKED
 * and each firing has an idempotency key (schedule id + firing time), so a firing starts one run.
 */
export class FlowScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastEnsure = 0;
  private readonly options: Required<SchedulerOptions>;

  constructor(options: SchedulerOptions) {
    this.options = { tickMs: 1000, log: silentLogger, ...options };
  }

  start() {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = null));
    }, this.options.tickMs);
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: platform schedules for new organizations (every minute), then every due schedule. */
  async tick(now = new Date()) {
    try {
      if (now.getTime() - this.lastEnsure > 60_000) {
        for (const flow of this.options.registry.all()) {
          if (!flow.schedule) continue;
          const zone = flow.schedule.timezone ?? 'UTC';
          await ensureSchedules(
            this.options.pool,
            flow.id,
            flow.schedule.cron,
            zone,
            nextFire(flow.schedule.cron, zone, now),
          );
        }
        this.lastEnsure = now.getTime();
      }
      for (const due of await dueSchedules(this.options.pool, 100)) await this.fire(due.tenant_id, due.id);
    } catch (err) {
      this.options.log.warn({ err }, 'flow scheduler tick failed');
    }
  }

  private async fire(tenantId: string, scheduleId: string) {
    await withTenant(this.options.pool, tenantId, async (tx) => {
      const schedule = await lockDueSchedule(tx, tenantId, scheduleId);
      if (!schedule) return;
      const firing = schedule.next_run_at;
      await enqueue(
        tx,
        schedule.flow_id,
        { ...(schedule.input as object), scheduled_for: firing.toISOString() },
        {
          tenantId,
          idempotencyKey: `schedule:${schedule.id}:${firing.toISOString()}`,
          trigger: 'schedule',
        },
      );
      // Missed firings (workers were down) are not replayed one by one: the next firing is after now.
      await setNextRun(tx, tenantId, schedule.id, nextFire(schedule.cron, schedule.timezone, new Date()), firing);
    });
  }
}
