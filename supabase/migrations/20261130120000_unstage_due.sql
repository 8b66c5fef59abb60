-- A canceled target whose staged object (a private YouTube video with publishAt, say) is still
-- on the platform keeps `next_attempt_at` set until the worker removed it; every other canceled
-- target has it null. The tick's safety net finds the ones whose task went missing here.
create index publish_targets_unstage_due_idx on public.publish_targets (next_attempt_at)
  where state = 'canceled' and next_attempt_at is not null;
