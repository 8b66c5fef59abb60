-- What each published post gained per day, kept as snapshots arrive (the overview's chart).
--
-- The overview's daily series is, per day (UTC), each post's highest counts that day minus
-- those of its previous day with a snapshot, summed over the filtered posts. Computing that
-- from every snapshot on each request sorts all of a user's snapshots (150,000 for 5,000
-- posts over 60 days); here each post's day is kept with its gain when a snapshot is
-- stored, so the report only sums one narrow row per post and day.

create table public.analytics_daily (
  target_id uuid not null references public.publish_targets (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  -- the day's highest counts (a post read twice in a day counts once)
  views bigint,
  likes bigint,
  comments bigint,
  shares bigint,
  -- minus those of the post's previous day with a snapshot (0 before the first one)
  gained_views bigint,
  gained_likes bigint,
  gained_comments bigint,
  gained_shares bigint,
  primary key (target_id, day)
);
create index analytics_daily_user_idx on public.analytics_daily (user_id, day);

alter table public.analytics_daily enable row level security;
revoke all on public.analytics_daily from anon, authenticated;
grant select on public.analytics_daily to authenticated;
create policy analytics_daily_own on public.analytics_daily for select to authenticated
  using ((select auth.uid()) = user_id);

-- The gain of one post's day against its previous day with a snapshot.
create function public.analytics_daily_gain(target uuid, on_day date) returns void
language plpgsql security definer set search_path = public as $$
declare
  prev record;
begin
  select views, likes, comments, shares into prev from analytics_daily
   where target_id = target and day < on_day order by day desc limit 1;
  update analytics_daily
     set gained_views = views - coalesce(prev.views, 0), gained_likes = likes - coalesce(prev.likes, 0),
         gained_comments = comments - coalesce(prev.comments, 0), gained_shares = shares - coalesce(prev.shares, 0)
   where target_id = target and day = on_day;
end $$;

-- A snapshot raises its day's counts, which changes that day's gain and the next day's.
-- Snapshots come in time order, so the day is usually new and written once with its gain;
-- a later day exists only when an older snapshot arrives late.
create function public.analytics_daily_on_snapshot() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  on_day date := (new.fetched_at at time zone 'UTC')::date;
  prev record;
  later date;
begin
  select views, likes, comments, shares into prev from analytics_daily
   where target_id = new.target_id and day < on_day order by day desc limit 1;
  insert into analytics_daily as d (target_id, user_id, day, views, likes, comments, shares,
                                    gained_views, gained_likes, gained_comments, gained_shares)
  values (new.target_id, new.user_id, on_day, new.views, new.likes, new.comments, new.shares,
          new.views - coalesce(prev.views, 0), new.likes - coalesce(prev.likes, 0),
          new.comments - coalesce(prev.comments, 0), new.shares - coalesce(prev.shares, 0))
  on conflict (target_id, day) do update set
    views = greatest(d.views, excluded.views), likes = greatest(d.likes, excluded.likes),
    comments = greatest(d.comments, excluded.comments), shares = greatest(d.shares, excluded.shares),
    gained_views = greatest(d.views, excluded.views) - coalesce(prev.views, 0),
    gained_likes = greatest(d.likes, excluded.likes) - coalesce(prev.likes, 0),
    gained_comments = greatest(d.comments, excluded.comments) - coalesce(prev.comments, 0),
    gained_shares = greatest(d.shares, excluded.shares) - coalesce(prev.shares, 0);
  select min(day) into later from analytics_daily where target_id = new.target_id and day > on_day;
  if later is not null then
    perform analytics_daily_gain(new.target_id, later);
  end if;
  return null;
end $$;

create trigger analytics_snapshots_daily after insert on public.analytics_snapshots
  for each row execute function public.analytics_daily_on_snapshot();

-- Snapshots stored before this migration.
insert into public.analytics_daily (target_id, user_id, day, views, likes, comments, shares,
                                    gained_views, gained_likes, gained_comments, gained_shares)
select target_id, user_id, day, views, likes, comments, shares,
       views - coalesce(lag(views) over w, 0), likes - coalesce(lag(likes) over w, 0),
       comments - coalesce(lag(comments) over w, 0), shares - coalesce(lag(shares) over w, 0)
  from (select target_id, min(user_id::text)::uuid as user_id, (fetched_at at time zone 'UTC')::date as day,
               max(views) as views, max(likes) as likes, max(comments) as comments, max(shares) as shares
          from public.analytics_snapshots group by 1, 3) days
window w as (partition by target_id order by day);
