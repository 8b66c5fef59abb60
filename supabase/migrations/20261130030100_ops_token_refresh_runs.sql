-- Token refresh counts per scheduler tick, for the "token refreshes failing" alert.
-- In a schema of its own, not exposed through the Data API: only server code (service
-- role) reads or writes it.
create schema if not exists ops;
revoke all on schema ops from public;
grant usage on schema ops to service_role;

create table ops.token_refresh_runs (
  id bigint generated always as identity primary key,
  ran_at timestamptz not null,
  refreshed integer not null default 0 check (refreshed >= 0),
  expired integer not null default 0 check (expired >= 0),
  failed integer not null default 0 check (failed >= 0)
);
create index token_refresh_runs_ran_at_idx on ops.token_refresh_runs (ran_at);
alter table ops.token_refresh_runs enable row level security;
grant select, insert, delete on ops.token_refresh_runs to service_role;
