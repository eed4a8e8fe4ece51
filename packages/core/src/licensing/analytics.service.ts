import { toPublicId, type UsageDay } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError } from '../shared/errors.ts';

interface DayRow {
  license_id: string;
  day: string;
  peak: number;
  acquisitions: number;
  denials: number;
  average_seconds: number | null;
}

/**
 * Per license per day, from the lease journal: the peak of concurrent seats (a running sum of +1 per acquire and
 * −1 per release or expiry, counted from the license's first event so a day starts with the seats still held),
 * acquisitions, denials, and the average length of the sessions that ended that day. At equal times an ending
 * is counted before a start, so a seat handed over is not counted twice.
 */
const usageSql = `
  with events as (
    select license_id, session_id, event, occurred_at,
           case event when 'acquired' then 1 when 'released' then -1 when 'expired' then -1 else 0 end as delta
    from license_journal
    where tenant_id = $1 and occurred_at < $3 and ($4::uuid is null or license_id = $4)
  ), running as (
    select license_id, event, occurred_at,
           sum(delta) over (partition by license_id order by occurred_at, delta rows unbounded preceding) as concurrent
    from events
  ), daily as (
    select license_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day,
           max(concurrent)::int as peak,
           count(*) filter (where event = 'acquired')::int as acquisitions,
           count(*) filter (where event = 'denied')::int as denials
    from running where occurred_at >= $2
    group by 1, 2
  ), lengths as (
    select e.license_id, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day,
           avg(extract(epoch from e.occurred_at - a.occurred_at))::float8 as average_seconds
    from events e
    join events a on a.license_id = e.license_id and a.session_id = e.session_id and a.event = 'acquired'
    where e.event in ('released', 'expired') and e.occurred_at >= $2
    group by 1, 2
  )
  select d.license_id, d.day, d.peak, d.acquisitions, d.denials, l.average_seconds
  from daily d left join lengths l on l.license_id = d.license_id and l.day = d.day
  order by d.license_id, d.day`;

export async function usage(
  ctx: TenantContext,
  range: { from: string; to: string; licenseId: string | null },
): Promise<{ data: UsageDay[] }> {
  if (Date.parse(range.to) <= Date.parse(range.from)) {
    throw new AtriumError('validation_failed', '`to` must be after `from`', [
      { path: '/querystring/to', message: 'must be after from' },
    ]);
  }
  if (Date.parse(range.to) - Date.parse(range.from) > 366 * 86_400_000) {
    throw new AtriumError('validation_failed', 'the range may span at most 366 days', [
      { path: '/querystring/to', message: 'at most 366 days after from' },
    ]);
  }
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<DayRow>(usageSql, [ctx.tenantId, range.from, range.to, range.licenseId]),
  );
  return {
    data: rows.map((row) => ({
      license_id: toPublicId('license', row.license_id),
      day: row.day,
      peak_concurrent_seats: Math.max(0, row.peak),
      acquisitions: row.acquisitions,
      denials: row.denials,
      average_session_seconds: row.average_seconds === null ? null : Math.round(row.average_seconds * 1000) / 1000,
    })),
  };
}
