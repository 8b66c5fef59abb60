-- Daily analytics snapshots (FR-9): when each published target's metrics are next due.
--
-- The minute tick asks "which published targets need a snapshot now?". Answering that
-- from analytics_snapshots would mean looking at every target published in the last
-- 90 days on every tick; a due time on the target, with a partial index holding only
-- targets that still get snapshots, keeps the question one short index range scan
-- (empty when nothing is due).
--
-- First snapshot: one hour after publishing (platforms report nothing sooner; Instagram
-- lags up to 48 h). The collector then moves it to 24 h after each snapshot, and clears
-- it once the target is older than the 90-day window or its platform reports no metrics.

alter table public.publish_targets add column metrics_due_at timestamptz;

create index publish_targets_metrics_due_idx on public.publish_targets (metrics_due_at)
  where metrics_due_at is not null;

create function public.publish_targets_metrics_due() returns trigger language plpgsql as $$
begin
  if new.state = 'published' and (tg_op = 'INSERT' or old.state is distinct from 'published') then
    new.metrics_due_at := coalesce(new.published_at, now()) + interval '1 hour';
  elsif new.state <> 'published' then
    new.metrics_due_at := null;
  end if;
  return new;
end $$;

create trigger publish_targets_metrics_due before insert or update of state on public.publish_targets
  for each row execute function public.publish_targets_metrics_due();

-- Targets published before this migration get their first snapshot on the next tick.
update public.publish_targets
   set metrics_due_at = now()
 where state = 'published' and published_at > now() - interval '90 days';
