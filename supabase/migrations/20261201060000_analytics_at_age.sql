-- Numbers by age, kept as snapshots arrive (FR-9: posts of different ages compare fairly).
--
-- Recommendations and the platform comparison read every published post's views and
-- engagements 24 h / 72 h / 7 days after publishing, interpolated between the two
-- snapshots around that age (shared/analytics/history.py). Finding those two snapshots
-- for 5,000 posts on every request costs two index probes per post; here they are kept
-- per target and age when a snapshot is stored, so a report reads one row per post.
--
-- A row holds the snapshot at or before the age (before_*, none when the first snapshot
-- came later) and the first one at or after it (after_*); the interpolation itself stays
-- in Python, so the numbers are the ones the snapshots give. Engagements are likes +
-- comments + shares (null counts as 0), as everywhere in the reports.

create table public.analytics_at_age (
  target_id uuid not null references public.publish_targets (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  age text not null check (age in ('24h', '72h', '7d')),
  before_at timestamptz,
  before_views bigint,
  before_engagements bigint,
  after_at timestamptz not null,
  after_views bigint,
  after_engagements bigint,
  primary key (target_id, age)
);
create index analytics_at_age_user_idx on public.analytics_at_age (user_id, age);

alter table public.analytics_at_age enable row level security;
revoke all on public.analytics_at_age from anon, authenticated;
grant select on public.analytics_at_age to authenticated;
create policy analytics_at_age_own on public.analytics_at_age for select to authenticated
  using ((select auth.uid()) = user_id);

-- The two snapshots around each age of one target, from its snapshots (index probes on
-- analytics_snapshots (target_id, fetched_at desc)); no row while no snapshot is past the age.
-- Ages in hours, as history.AGES: a day is 24 hours whatever the session's time zone.
create function public.analytics_at_age_refresh(target uuid) returns void
language plpgsql security definer set search_path = public as $$
declare
  owner uuid;
  published timestamptz;
  mark record;
  b record;
  a record;
begin
  select user_id, published_at into owner, published from publish_targets where id = target;
  if published is null then
    return;
  end if;
  for mark in select * from (values ('24h', interval '24 hours'), ('72h', interval '72 hours'),
                                    ('7d', interval '168 hours')) v (label, span) loop
    select s.fetched_at, s.views, coalesce(s.likes, 0) + coalesce(s.comments, 0) + coalesce(s.shares, 0) as eng
      into a from analytics_snapshots s
     where s.target_id = target and s.fetched_at >= published + mark.span
     order by s.fetched_at limit 1;
    if not found then
      continue;
    end if;
    select s.fetched_at, s.views, coalesce(s.likes, 0) + coalesce(s.comments, 0) + coalesce(s.shares, 0) as eng
      into b from analytics_snapshots s
     where s.target_id = target and s.fetched_at <= published + mark.span
     order by s.fetched_at desc limit 1;
    insert into analytics_at_age (target_id, user_id, age, before_at, before_views, before_engagements,
                                  after_at, after_views, after_engagements)
    values (target, owner, mark.label, b.fetched_at, b.views, b.eng, a.fetched_at, a.views, a.eng)
    on conflict (target_id, age) do update set
      before_at = excluded.before_at, before_views = excluded.before_views,
      before_engagements = excluded.before_engagements, after_at = excluded.after_at,
      after_views = excluded.after_views, after_engagements = excluded.after_engagements
    where (analytics_at_age.before_at, analytics_at_age.before_views, analytics_at_age.before_engagements,
           analytics_at_age.after_at, analytics_at_age.after_views, analytics_at_age.after_engagements)
          is distinct from (excluded.before_at, excluded.before_views, excluded.before_engagements,
                            excluded.after_at, excluded.after_views, excluded.after_engagements);
  end loop;
end $$;

-- A new snapshot can only change the ages it is nearest to: those it crosses (it is the
-- first one past the age) or it precedes while the age is still ahead. Snapshots come
-- in time order, so most inserts after the 7-day mark change nothing and skip the work.
create function public.analytics_at_age_on_snapshot() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  published timestamptz;
  known timestamptz;
begin
  select published_at into published from publish_targets where id = new.target_id;
  if published is null then
    return null;
  end if;
  select min(after_at) filter (where age = '7d') into known from analytics_at_age where target_id = new.target_id;
  if known is not null and new.fetched_at > known then
    return null;      -- past every age and later than the snapshot already used for 7 days
  end if;
  perform analytics_at_age_refresh(new.target_id);
  return null;
end $$;

create trigger analytics_snapshots_at_age after insert on public.analytics_snapshots
  for each row execute function public.analytics_at_age_on_snapshot();

-- Snapshots stored before this migration.
do $$
declare
  target uuid;
begin
  for target in select distinct target_id from public.analytics_snapshots loop
    perform public.analytics_at_age_refresh(target);
  end loop;
end $$;
