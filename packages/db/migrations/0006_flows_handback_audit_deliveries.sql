-- Flows, closing gaps (docs/flows.md):
--   an attempt a draining worker hands back is recorded as handed_back (not lost, not counted toward maxAttempts);

alter table flow_attempts drop constraint flow_attempts_status_check;
alter table flow_attempts add constraint flow_attempts_status_check
  check (status in ('running', 'succeeded', 'failed', 'timed_out', 'lost', 'cancelled', 'handed_back'));
