-- Placeholder. Migration numbers must follow each other without a gap (loadMigrations), and 0005 is reserved for
-- the licensing branch (lic-gaps). When that branch's 0005 is merged, this file is deleted in favour of it; until
-- then it keeps 0006 reachable. It changes nothing.
select 1;
