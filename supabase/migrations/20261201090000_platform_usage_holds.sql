-- Meta's usage headers (X-App-Usage, X-Business-Use-Case-Usage), shared by every worker instance
-- (shared/publishing/usage_holds.py): when an answer says the app or an account is near its limit,
-- no instance calls for that scope until `held_until`. One row per (platform, scope); scope is
-- 'app' or the platform account id. https://developers.facebook.com/docs/graph-api/overview/rate-limiting
create table public.platform_usage_holds (
  platform text not null,
  scope text not null,
  held_until timestamptz not null,
  observed_at timestamptz not null default now(),
  primary key (platform, scope)
);

-- The server's alone: RLS on, no policy, no grant.
alter table public.platform_usage_holds enable row level security;
revoke all on public.platform_usage_holds from public, anon, authenticated;
