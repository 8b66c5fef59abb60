-- What the API roles may do directly in the database (docs/security.md, "Database privileges").
--
-- Users read their own rows (RLS) and change nothing directly: every write goes
-- through the API (Cloud Functions), which checks captions, media, schedule and
-- budgets and then writes as service_role. The only direct actions left to
-- `authenticated` are the two functions that check ownership and state themselves
-- (cancel_target, retry_target). `anon` has nothing.
--
-- Supabase grants anon/authenticated everything on new tables, sequences and
-- functions in public by default privileges of the role that creates them (postgres,
-- which runs these migrations). Those defaults are revoked below for future objects;
-- https://supabase.com/kb/troubleshooting/cant-change-the-default-privileges-of-supabase_admin-in-the-public-schema
-- explains that only the creating role's own defaults can be changed, which is all we need.

-- Sequences: usage/select/update would allow nextval/currval/setval. One setval to the
-- maximum stops every insert into the identity tables (the audit trigger's included).
revoke all on all sequences in schema public from public, anon, authenticated;

-- Functions: PostgreSQL lets PUBLIC execute every new function. Only the user actions stay.
revoke all on all functions in schema public from public, anon, authenticated;
grant execute on function public.cancel_target(uuid), public.retry_target(uuid) to authenticated;

-- Tables: no direct writes by users anywhere.
revoke insert, update, delete, truncate, references, trigger on all tables in schema public
  from public, anon, authenticated;
-- Idempotency keys are the API's bookkeeping; nothing in them is for the user to read.
revoke select on public.idempotency_keys from anon, authenticated;

drop policy posts_insert_own on public.posts;
drop policy posts_update_own on public.posts;
drop policy posts_delete_own on public.posts;
drop policy publish_targets_insert_own on public.publish_targets;
drop policy publish_targets_update_own on public.publish_targets;
drop policy idempotency_keys_own on public.idempotency_keys;

-- Future objects created by this role: nothing for the API roles unless a migration grants it.
alter default privileges in schema public revoke all on tables from public, anon, authenticated;
alter default privileges in schema public revoke all on sequences from public, anon, authenticated;
alter default privileges in schema public revoke all on functions from public, anon, authenticated;
-- The PUBLIC execute grant on new functions is a global default; a per-schema revoke cannot remove it.
alter default privileges revoke execute on functions from public;
