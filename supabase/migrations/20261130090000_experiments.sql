-- A/B tests of captions and titles (FR-14), and the defaults a winner leaves behind.
--
-- An experiment publishes 2-3 variants of one video through the normal pipeline: each
-- variant is a post of its own (its targets are ordinary publish targets), so staging,
-- retries and reconciliation apply unchanged. The decision rule (metric, age, sample,
-- significance level) is stored when the experiment is created and never edited, so a
-- verdict cannot be steered by changing the rule after the numbers are in.
-- Users read their own rows; every write goes through the functions (service role).

create table public.experiments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  video_id uuid not null references public.videos (id),
  name text not null,
  design text not null check (design in ('split_accounts', 'same_account_times')),
  metric text not null check (metric in ('engagement_rate', 'views')),
  metric_age text not null default '72h' check (metric_age in ('24h', '72h', '7d')),
  min_views_per_variant integer not null check (min_views_per_variant > 0),
  alpha numeric not null check (alpha > 0 and alpha < 0.5),
  decide_by timestamptz not null,          -- no verdict by then: "no clear winner"
  auto_apply boolean not null default true,
  status text not null default 'running' check (status in ('running', 'decided', 'no_winner')),
  winner_variant_id uuid,
  result jsonb,
  decided_at timestamptz,
  created_at timestamptz not null default now()
);
create index experiments_running_idx on public.experiments (created_at) where status = 'running';
create index experiments_user_idx on public.experiments (user_id, created_at desc);

create table public.experiment_variants (
  id uuid primary key default gen_random_uuid(),
  experiment_id uuid not null references public.experiments (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  label text not null,
  post_id uuid not null references public.posts (id) on delete cascade,
  caption text not null,
  hashtags text[] not null default '{}',
  title text,
  unique (experiment_id, label)
);

-- What a decided experiment taught, per platform network: the composer and the caption
-- suggestions start from it. `enabled` is the user's switch.
create table public.publishing_defaults (
  user_id uuid not null references auth.users (id) on delete cascade,
  platform text not null,
  traits jsonb not null,
  source_experiment_id uuid references public.experiments (id) on delete set null,
  enabled boolean not null default true,
  updated_at timestamptz not null default now(),
  primary key (user_id, platform)
);

alter table public.experiments enable row level security;
alter table public.experiment_variants enable row level security;
alter table public.publishing_defaults enable row level security;
revoke all on public.experiments, public.experiment_variants, public.publishing_defaults from anon, authenticated;
grant select on public.experiments, public.experiment_variants, public.publishing_defaults to authenticated;
create policy experiments_own on public.experiments for select to authenticated
  using ((select auth.uid()) = user_id);
create policy experiment_variants_own on public.experiment_variants for select to authenticated
  using ((select auth.uid()) = user_id);
create policy publishing_defaults_own on public.publishing_defaults for select to authenticated
  using ((select auth.uid()) = user_id);

-- The analytics reports read a user's published targets by publishing time.
create index publish_targets_published_idx on public.publish_targets (user_id, published_at desc)
  where state = 'published';
