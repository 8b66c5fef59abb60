-- Signals: an outbox of events (webhooks and outcome mails), webhook endpoints with their
-- deliveries and attempts, per-user mail preferences.
--
-- Events are written by triggers in the same transaction as the state change that
-- causes them, so an event exists exactly when its change was committed: nothing is
-- announced twice or lost, whichever code path changed the row. The scheduler tick
-- reads the outbox: it fans each event out to the user's webhook endpoints (delivered
-- through their own Cloud Tasks queue) and turns publishing outcomes into mails.


-- The outbox ----------------------------------------------------------------------
create table public.outbox_events (
  id uuid primary key default gen_random_uuid(),   -- the webhook-id receivers deduplicate on
  user_id uuid not null references auth.users (id) on delete cascade,
  type text not null,                     -- target.published, post.completed, connection.expired, ...
  post_id uuid,
  target_id uuid,
  connection_id uuid,
  batch_id uuid,
  data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  fanout_due boolean not null default false,   -- still to be handed to the user's webhook endpoints
  mail_due boolean not null default false      -- still to be turned into a mail (publishing outcomes)
);
create index outbox_events_fanout_idx on public.outbox_events (created_at) where fanout_due;
create index outbox_events_mail_idx on public.outbox_events (created_at) where mail_due;
create index outbox_events_user_idx on public.outbox_events (user_id, created_at desc);
create index outbox_events_post_idx on public.outbox_events (post_id) where post_id is not null;

-- Webhook endpoints, deliveries and attempts ----------------------------------------
create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  url text not null,
  description text,
  events text[] not null,
  -- The signing secret, AES-256-GCM from the token vault, bound to (user, endpoint id).
  secret_ciphertext bytea not null,
  status text not null default 'active' check (status in ('active', 'disabled')),
  disabled_reason text,
  failing_since timestamptz,              -- first failed attempt since the last success
  last_success_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_user_idx on public.webhook_endpoints (user_id) where status = 'active';

create trigger webhook_endpoints_touch before update on public.webhook_endpoints
  for each row execute function public.touch_updated_at();

-- One delivery per (endpoint, event): the event is sent until it is accepted or the
-- retries run out, never duplicated by a second fan-out.
create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  event_id uuid references public.outbox_events (id) on delete cascade,   -- null: a test event
  user_id uuid not null references auth.users (id) on delete cascade,
  event_type text not null,
  payload jsonb not null,                 -- exactly what is signed and sent
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed', 'canceled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  leased_until timestamptz,               -- an attempt is in flight until then
  enqueue_seq integer not null default 0, -- part of the task name; bumps when the tick re-enqueues
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (endpoint_id, event_id)
);
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, created_at desc);
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at) where status = 'pending';

create table public.webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references public.webhook_deliveries (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  attempt integer not null,
  succeeded boolean not null,
  response_status integer,                -- null: no HTTP answer (refused, timeout, ...)
  latency_ms integer not null,
  error text,
  attempted_at timestamptz not null default now()
);
create index webhook_attempts_endpoint_idx on public.webhook_attempts (endpoint_id, attempted_at desc);
create index webhook_attempts_delivery_idx on public.webhook_attempts (delivery_id);

-- Mail preferences ----------------------------------------------------------------
-- Per kind of mail: 'all', 'failures' (only mails about something that went wrong or
-- needs the user) or 'none'. No row: everything.
create table public.notification_preferences (
  user_id uuid primary key references auth.users (id) on delete cascade,
  publishing text not null default 'all' check (publishing in ('all', 'failures', 'none')),
  connections text not null default 'all' check (connections in ('all', 'failures', 'none')),
  webhooks text not null default 'all' check (webhooks in ('all', 'failures', 'none')),
  updated_at timestamptz not null default now()
);

create trigger notification_preferences_touch before update on public.notification_preferences
  for each row execute function public.touch_updated_at();

-- Triggers that write the outbox ---------------------------------------------------
create function public.signal_event(
  p_user_id uuid, p_type text, p_data jsonb, p_post_id uuid default null, p_target_id uuid default null,
  p_connection_id uuid default null, p_batch_id uuid default null, p_mail boolean default false
) returns void language plpgsql security definer set search_path = public as $$
begin
  insert into public.outbox_events (user_id, type, post_id, target_id, connection_id, batch_id, data,
                                    fanout_due, mail_due)
  values (p_user_id, p_type, p_post_id, p_target_id, p_connection_id, p_batch_id, jsonb_strip_nulls(p_data),
          exists (select 1 from public.webhook_endpoints e where e.user_id = p_user_id and e.status = 'active'),
          p_mail);
end $$;

-- batch.completed once every target of every post of an expanded batch is final.
create function public.signal_batch_if_complete(p_batch_id uuid) returns void
language plpgsql security definer set search_path = public as $$
declare
  b public.publish_batches;
  counts jsonb;
begin
  -- The batch row lock orders this check against sibling targets finishing at the same time.
  select * into b from public.publish_batches where id = p_batch_id for no key update;
  if b.id is null or b.status <> 'expanded' then
    return;
  end if;
  if exists (select 1 from public.publish_targets t join public.posts p on p.id = t.post_id
              where p.batch_id = p_batch_id and t.state not in ('published', 'failed', 'canceled')) then
    return;
  end if;
  select jsonb_build_object(
           'videos', b.total,
           'posts', (select count(*) from public.posts where batch_id = p_batch_id),
           'targets', count(t.id),
           'published', count(t.id) filter (where t.state = 'published'),
           'failed', count(t.id) filter (where t.state = 'failed'),
           'canceled', count(t.id) filter (where t.state = 'canceled'))
    into counts
    from public.posts p join public.publish_targets t on t.post_id = p.id
   where p.batch_id = p_batch_id;
  perform public.signal_event(b.user_id, 'batch.completed', counts, p_batch_id => p_batch_id);
end $$;

create function public.publish_targets_signal() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  p public.posts;
  states jsonb;
begin
  if new.state is not distinct from old.state then
    return new;
  end if;
  if new.state in ('published', 'failed', 'needs_reconnect', 'deferred') then
    perform public.signal_event(
      new.user_id, 'target.' || new.state,
      jsonb_build_object(
        'platform', new.platform, 'state', new.state, 'previous_state', old.state,
        'platform_post_id', new.platform_post_id, 'platform_url', new.platform_url,
        'published_at', new.published_at, 'scheduled_at', new.scheduled_at,
        'next_attempt_at', case when new.state = 'deferred' then new.next_attempt_at end,
        'error_code', new.error_code, 'error_class', new.error_class, 'message', new.user_message),
      p_post_id => new.post_id, p_target_id => new.id, p_connection_id => new.connection_id,
      p_mail => new.state in ('published', 'failed', 'deferred'));
  end if;
  if new.state in ('published', 'failed', 'canceled') then
    -- Two targets of a post finishing in two transactions at once: the post row lock makes
    -- the second wait, and its next statement sees the first one's target as final.
    select * into p from public.posts where id = new.post_id for no key update;
    if not exists (select 1 from public.publish_targets
                    where post_id = new.post_id and state not in ('published', 'failed', 'canceled')) then
      select jsonb_agg(jsonb_build_object('target_id', id, 'platform', platform, 'state', state,
                                          'platform_url', platform_url, 'message', user_message)
                       order by platform)
        into states from public.publish_targets where post_id = new.post_id;
      perform public.signal_event(new.user_id, 'post.completed', jsonb_build_object('targets', states),
                                  p_post_id => new.post_id, p_batch_id => p.batch_id);
      if p.batch_id is not null then
        perform public.signal_batch_if_complete(p.batch_id);
      end if;
    end if;
  end if;
  return new;
end $$;

create trigger publish_targets_signal after update of state on public.publish_targets
  for each row execute function public.publish_targets_signal();

create function public.publish_batches_signal() returns trigger
language plpgsql security definer set search_path = public as $$
begin
  if new.status = 'expanded' and old.status is distinct from 'expanded' then
    perform public.signal_batch_if_complete(new.id);
  end if;
  return new;
end $$;

create trigger publish_batches_signal after update of status on public.publish_batches
  for each row execute function public.publish_batches_signal();

create function public.social_connections_signal() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  account jsonb := jsonb_build_object(
    'platform', new.platform, 'platform_account_id', new.platform_account_id,
    'username', new.username, 'display_name', new.display_name);
begin
  if new.status = 'expired' and old.status is distinct from 'expired' then
    perform public.signal_event(new.user_id, 'connection.expired',
                                account || jsonb_build_object('reason', new.status_reason),
                                p_connection_id => new.id);
  end if;
  -- The 7-day reminder is recorded in expiry_warning_sent_for by the tick (connections/warnings.py).
  if new.expiry_warning_sent_for is not null
     and new.expiry_warning_sent_for is distinct from old.expiry_warning_sent_for then
    perform public.signal_event(new.user_id, 'connection.expiring',
                                account || jsonb_build_object('expires_at', new.expiry_warning_sent_for),
                                p_connection_id => new.id);
  end if;
  return new;
end $$;

create trigger social_connections_signal after update of status, expiry_warning_sent_for
  on public.social_connections for each row execute function public.social_connections_signal();

revoke all on function public.signal_event(uuid, text, jsonb, uuid, uuid, uuid, uuid, boolean) from public, anon,
  authenticated;
revoke all on function public.signal_batch_if_complete(uuid) from public, anon, authenticated;

-- Row level security ---------------------------------------------------------------
alter table public.outbox_events enable row level security;
alter table public.webhook_endpoints enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_attempts enable row level security;
alter table public.notification_preferences enable row level security;

revoke all on public.outbox_events, public.webhook_endpoints, public.webhook_deliveries, public.webhook_attempts,
  public.notification_preferences from anon, authenticated;

-- Users read their own events, deliveries and attempts; the server writes them.
grant select on public.outbox_events, public.webhook_deliveries, public.webhook_attempts to authenticated;
create policy outbox_events_own on public.outbox_events for select to authenticated
  using ((select auth.uid()) = user_id);
create policy webhook_deliveries_own on public.webhook_deliveries for select to authenticated
  using ((select auth.uid()) = user_id);
create policy webhook_attempts_own on public.webhook_attempts for select to authenticated
  using ((select auth.uid()) = user_id);

-- Endpoints: users see theirs but never the secret; creating, disabling and deleting go
-- through the webhooks function (it checks the URL and encrypts the secret).
grant select (id, user_id, url, description, events, status, disabled_reason, failing_since, last_success_at,
  created_at, updated_at) on public.webhook_endpoints to authenticated;
create policy webhook_endpoints_own on public.webhook_endpoints for select to authenticated
  using ((select auth.uid()) = user_id);

-- Preferences are the user's own to read; they change through PATCH /me/notifications,
-- which checks the values and writes as the service (users write no table directly).
grant select on public.notification_preferences to authenticated;
create policy notification_preferences_own on public.notification_preferences for select to authenticated
  using ((select auth.uid()) = user_id);
