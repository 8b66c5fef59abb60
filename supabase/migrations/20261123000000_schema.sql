-- shortpub schema: videos, social connections, posts and their per-platform targets,
-- OAuth states, quota usage, notifications outbox, publish events, analytics.
-- Every user table has RLS. Users read their own rows; what they must not change
-- (states, platform ids, tokens) is written only by service_role or by the
-- security-definer functions at the end of this file.


-- Videos -------------------------------------------------------------------------
create table public.videos (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  storage_path text not null unique,
  original_filename text,
  content_type text not null default 'video/mp4',
  size_bytes bigint not null check (size_bytes >= 0),
  sha256 text,
  probe jsonb,
  created_at timestamptz not null default now(),
  -- Set from the last scheduled publish; retention deletes after it (never while needed).
  delete_after timestamptz,
  deleted_at timestamptz
);
create index videos_user_created_idx on public.videos (user_id, created_at desc);
create index videos_retention_idx on public.videos (delete_after) where deleted_at is null;

-- Converted copies (H.264/AAC fast-start) and per-platform covers of a video.
create table public.video_renditions (
  id uuid primary key default gen_random_uuid(),
  video_id uuid not null references public.videos (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null,            -- 'converted', 'cover:youtube', 'cover:instagram', ...
  storage_path text not null unique,
  content_type text not null,
  size_bytes bigint not null check (size_bytes >= 0),
  probe jsonb,
  created_at timestamptz not null default now(),
  unique (video_id, kind)
);
create index video_renditions_user_idx on public.video_renditions (user_id);

-- Social connections -------------------------------------------------------------
create table public.social_connections (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  platform text not null,                 -- adapter key: tiktok, blotato, instagram, facebook, youtube
  platform_account_id text not null,
  username text,
  display_name text,
  avatar_url text,
  account_type text,
  follower_count bigint,
  account_info jsonb not null default '{}'::jsonb,   -- creator info, page id, channel id, ...
  scopes text[] not null default '{}',
  -- AES-256-GCM ciphertexts from the token vault, bound to (user_id, platform).
  access_token_ciphertext bytea,
  refresh_token_ciphertext bytea,
  access_token_expires_at timestamptz,
  refresh_token_expires_at timestamptz,
  status text not null default 'connected'
    check (status in ('connected', 'expired', 'error', 'disconnected')),
  status_reason text,
  last_refreshed_at timestamptz,
  expiry_warning_sent_for timestamptz,   -- the expiry a warning mail was already sent for
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, platform, platform_account_id)
);
create index social_connections_user_idx on public.social_connections (user_id, platform);
create index social_connections_refresh_idx on public.social_connections (access_token_expires_at)
  where status = 'connected';

-- Single-use OAuth state (CSRF) with the PKCE verifier, short-lived.
create table public.oauth_states (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  platform text not null,
  state_hash text not null unique,        -- sha256 of the state; the state itself is never stored
  code_verifier_ciphertext bytea,
  redirect_to text,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index oauth_states_expiry_idx on public.oauth_states (expires_at);

-- Posts and publish targets -------------------------------------------------------
create table public.publish_batches (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  total integer not null default 0,
  status text not null default 'accepted' check (status in ('accepted', 'expanding', 'expanded', 'failed')),
  request jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index publish_batches_user_idx on public.publish_batches (user_id, created_at desc);

create table public.posts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  video_id uuid not null references public.videos (id),
  batch_id uuid references public.publish_batches (id) on delete set null,
  caption text not null default '',
  hashtags text[] not null default '{}',
  campaign text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index posts_user_created_idx on public.posts (user_id, created_at desc);
create index posts_batch_idx on public.posts (batch_id) where batch_id is not null;
create index posts_video_idx on public.posts (video_id);

create table public.publish_targets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  post_id uuid not null references public.posts (id) on delete cascade,
  connection_id uuid not null references public.social_connections (id),
  platform text not null,
  caption text,
  title text,
  hashtags text[],
  options jsonb not null default '{}'::jsonb,
  scheduled_at timestamptz,               -- null: publish now
  timezone text not null default 'UTC',   -- the user's zone the time was chosen in
  state text not null default 'queued' check (state in (
    'scheduled', 'queued', 'uploading', 'processing', 'publishing', 'published',
    'failed', 'needs_reconnect', 'deferred', 'reconciling', 'canceled')),
  attempts integer not null default 0,    -- failed attempts of the current step
  next_attempt_at timestamptz,            -- when the next step is due (tick's safety net)
  task_seq integer not null default 0,    -- bumps on every enqueue; part of the task name
  lease_owner text,
  lease_expires_at timestamptz,
  step_data jsonb not null default '{}'::jsonb,
  platform_post_id text,
  platform_url text,
  error_code text,
  error_class text check (error_class in ('transient', 'auth', 'quota', 'permanent')),
  user_message text,
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index publish_targets_post_idx on public.publish_targets (post_id);
create index publish_targets_user_sched_idx on public.publish_targets (user_id, coalesce(scheduled_at, created_at));
create index publish_targets_due_idx on public.publish_targets (next_attempt_at)
  where state in ('scheduled', 'queued', 'uploading', 'processing', 'publishing', 'deferred', 'reconciling');
create index publish_targets_parked_idx on public.publish_targets (connection_id)
  where state = 'needs_reconnect';
create index publish_targets_conn_sched_idx on public.publish_targets (connection_id, scheduled_at)
  where state not in ('failed', 'canceled');

-- A retried publish request with the same key returns the first answer.
create table public.idempotency_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  key text not null,
  request_hash text not null,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);

-- Quota and notifications ---------------------------------------------------------
-- One row per unit used against a platform budget (YouTube uploads, IG/FB 24 h
-- publishing limits, TikTok caps); windows are counted over these rows.
create table public.platform_quota_usage (
  id bigint generated always as identity primary key,
  platform text not null,
  scope text not null,                    -- e.g. 'project', 'account:<id>', 'page:<id>'
  user_id uuid references auth.users (id) on delete cascade,
  target_id uuid references public.publish_targets (id) on delete set null,
  units integer not null default 1,
  used_at timestamptz not null default now()
);
create index platform_quota_usage_window_idx on public.platform_quota_usage (platform, scope, used_at);
create index platform_quota_usage_user_idx on public.platform_quota_usage (user_id);

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null,
  to_email text not null,
  subject text not null,
  body text not null,
  dedupe_key text unique,                 -- one mail per event, never two
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index notifications_unsent_idx on public.notifications (created_at) where sent_at is null;
create index notifications_user_idx on public.notifications (user_id);

-- Audit trail: every state change of a target, written by trigger.
create table public.publish_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  platform text not null,
  post_id uuid,
  target_id uuid,
  event text not null,
  from_state text,
  to_state text,
  error_code text,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index publish_events_target_idx on public.publish_events (target_id, created_at);
create index publish_events_platform_idx on public.publish_events (platform, created_at);
create index publish_events_user_idx on public.publish_events (user_id, created_at desc);

create table public.analytics_snapshots (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  target_id uuid not null references public.publish_targets (id) on delete cascade,
  platform text not null,
  platform_post_id text not null,
  views bigint,
  likes bigint,
  comments bigint,
  shares bigint,
  saves bigint,
  watch_time_seconds numeric,
  raw jsonb not null default '{}'::jsonb,
  fetched_at timestamptz not null default now()
);
create index analytics_snapshots_target_idx on public.analytics_snapshots (target_id, fetched_at desc);
create index analytics_snapshots_user_idx on public.analytics_snapshots (user_id, fetched_at desc);

-- Triggers -------------------------------------------------------------------------
create function public.touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;

create trigger posts_touch before update on public.posts
  for each row execute function public.touch_updated_at();
create trigger social_connections_touch before update on public.social_connections
  for each row execute function public.touch_updated_at();

-- A new target is due now or at its scheduled time; editing the time moves it.
create function public.publish_targets_schedule() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if new.scheduled_at is not null and new.scheduled_at > now() and new.state = 'queued' then
      new.state := 'scheduled';
    end if;
    new.next_attempt_at := coalesce(new.next_attempt_at, new.scheduled_at, now());
  elsif new.scheduled_at is distinct from old.scheduled_at and new.state = 'scheduled' then
    new.next_attempt_at := coalesce(new.scheduled_at, now());
  end if;
  new.updated_at := now();
  return new;
end $$;

create trigger publish_targets_schedule before insert or update on public.publish_targets
  for each row execute function public.publish_targets_schedule();

create function public.publish_targets_audit() returns trigger
language plpgsql security definer set search_path = public as $$
begin
  if tg_op = 'INSERT' then
    insert into public.publish_events (user_id, platform, post_id, target_id, event, to_state)
    values (new.user_id, new.platform, new.post_id, new.id, 'created', new.state);
  elsif new.state is distinct from old.state then
    insert into public.publish_events
      (user_id, platform, post_id, target_id, event, from_state, to_state, error_code, detail)
    values (new.user_id, new.platform, new.post_id, new.id, 'state_changed', old.state, new.state,
            new.error_code,
            jsonb_strip_nulls(jsonb_build_object(
              'error_class', new.error_class, 'user_message', new.user_message,
              'attempts', new.attempts, 'platform_url', new.platform_url)));
  end if;
  return new;
end $$;

create trigger publish_targets_audit after insert or update on public.publish_targets
  for each row execute function public.publish_targets_audit();

-- Row level security ---------------------------------------------------------------
alter table public.videos enable row level security;
alter table public.video_renditions enable row level security;
alter table public.social_connections enable row level security;
alter table public.oauth_states enable row level security;
alter table public.publish_batches enable row level security;
alter table public.posts enable row level security;
alter table public.publish_targets enable row level security;
alter table public.idempotency_keys enable row level security;
alter table public.platform_quota_usage enable row level security;
alter table public.notifications enable row level security;
alter table public.publish_events enable row level security;
alter table public.analytics_snapshots enable row level security;

-- anon has nothing here; authenticated gets exactly the rights below.
revoke all on public.videos, public.video_renditions, public.social_connections, public.oauth_states,
  public.publish_batches, public.posts, public.publish_targets, public.idempotency_keys,
  public.platform_quota_usage, public.notifications, public.publish_events, public.analytics_snapshots
  from anon, authenticated;

-- Read-only to users (written by the server): their own rows.
grant select on public.videos, public.video_renditions, public.publish_batches, public.platform_quota_usage,
  public.notifications, public.publish_events, public.analytics_snapshots
  to authenticated;

create policy videos_own on public.videos for select to authenticated
  using ((select auth.uid()) = user_id);
create policy video_renditions_own on public.video_renditions for select to authenticated
  using ((select auth.uid()) = user_id);
create policy publish_batches_own on public.publish_batches for select to authenticated
  using ((select auth.uid()) = user_id);
create policy platform_quota_usage_own on public.platform_quota_usage for select to authenticated
  using ((select auth.uid()) = user_id);
create policy notifications_own on public.notifications for select to authenticated
  using ((select auth.uid()) = user_id);
create policy publish_events_own on public.publish_events for select to authenticated
  using ((select auth.uid()) = user_id);
create policy analytics_snapshots_own on public.analytics_snapshots for select to authenticated
  using ((select auth.uid()) = user_id);

-- Connections: users see their accounts but never the token ciphertexts.
grant select (id, user_id, platform, platform_account_id, username, display_name, avatar_url,
  account_type, follower_count, account_info, scopes, access_token_expires_at, refresh_token_expires_at,
  status, status_reason, last_refreshed_at, created_at, updated_at)
  on public.social_connections to authenticated;
create policy social_connections_own on public.social_connections for select to authenticated
  using ((select auth.uid()) = user_id);

-- OAuth states are the server's alone (RLS on, no policy for users).

-- Posts: users create them for their own videos and edit the text.
grant select, delete on public.posts to authenticated;
grant insert (id, user_id, video_id, batch_id, caption, hashtags, campaign) on public.posts to authenticated;
grant update (caption, hashtags, campaign) on public.posts to authenticated;
create policy posts_select_own on public.posts for select to authenticated
  using ((select auth.uid()) = user_id);
create policy posts_insert_own on public.posts for insert to authenticated
  with check (
    (select auth.uid()) = user_id
    and exists (select 1 from public.videos v
                where v.id = posts.video_id and v.user_id = (select auth.uid()) and v.deleted_at is null)
    and (posts.batch_id is null or exists (select 1 from public.publish_batches b
                where b.id = posts.batch_id and b.user_id = (select auth.uid()))));
create policy posts_update_own on public.posts for update to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
-- A post can be deleted only before any of its targets started.
create policy posts_delete_own on public.posts for delete to authenticated
  using ((select auth.uid()) = user_id
         and not exists (select 1 from public.publish_targets t
                         where t.post_id = posts.id and t.state not in ('scheduled', 'canceled')));

-- Targets: users create them on their own posts and connections, and edit what
-- they chose (text, options, time) while the target is still scheduled.
grant select on public.publish_targets to authenticated;
grant insert (id, user_id, post_id, connection_id, platform, caption, title, hashtags, options,
  scheduled_at, timezone) on public.publish_targets to authenticated;
grant update (caption, title, hashtags, options, scheduled_at, timezone) on public.publish_targets
  to authenticated;
create policy publish_targets_select_own on public.publish_targets for select to authenticated
  using ((select auth.uid()) = user_id);
create policy publish_targets_insert_own on public.publish_targets for insert to authenticated
  with check (
    (select auth.uid()) = user_id
    and exists (select 1 from public.posts p where p.id = publish_targets.post_id and p.user_id = (select auth.uid()))
    and exists (select 1 from public.social_connections c
                where c.id = publish_targets.connection_id and c.user_id = (select auth.uid())
                  and c.platform = publish_targets.platform and c.status <> 'disconnected'));
create policy publish_targets_update_own on public.publish_targets for update to authenticated
  using ((select auth.uid()) = user_id and state = 'scheduled')
  with check ((select auth.uid()) = user_id and state = 'scheduled');

grant select, insert, delete on public.idempotency_keys to authenticated;
grant update (response) on public.idempotency_keys to authenticated;
create policy idempotency_keys_own on public.idempotency_keys for all to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);

-- User actions that change server-owned columns go through these functions, which
-- check ownership and state themselves.
create function public.cancel_target(p_target_id uuid) returns public.publish_targets
language plpgsql security definer set search_path = public as $$
declare
  t public.publish_targets;
begin
  update public.publish_targets
     set state = 'canceled', next_attempt_at = null, lease_owner = null, lease_expires_at = null
   where id = p_target_id and user_id = auth.uid()
     and state in ('scheduled', 'queued', 'deferred', 'needs_reconnect')
     and (state <> 'queued' or (step_data = '{}'::jsonb and lease_owner is null))
  returning * into t;
  return t;
end $$;
revoke all on function public.cancel_target(uuid) from public, anon;
grant execute on function public.cancel_target(uuid) to authenticated;

create function public.retry_target(p_target_id uuid) returns public.publish_targets
language plpgsql security definer set search_path = public as $$
declare
  t public.publish_targets;
begin
  update public.publish_targets
     set state = case when step_data ? 'pending_call' then 'reconciling' else 'queued' end,
         attempts = 0, next_attempt_at = now(),
         error_code = null, error_class = null, user_message = null
   where id = p_target_id and user_id = auth.uid() and state = 'failed'
  returning * into t;
  return t;
end $$;
revoke all on function public.retry_target(uuid) from public, anon;
grant execute on function public.retry_target(uuid) to authenticated;
