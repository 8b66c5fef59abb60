-- Supabase Realtime: the frontend subscribes to changes of its targets, posts and
-- connections (supabase-js `postgres_changes`) instead of polling. Realtime checks each
-- change against the subscriber's RLS select policy, so a user hears only about
-- their own rows.
--
-- Realtime also drops columns the subscriber's role may not select (realtime.apply_rls
-- checks has_column_privilege), which already hides the token ciphertexts; connections
-- are published with a column list (PostgreSQL 15+) as well, so the ciphertexts never
-- leave the database through replication at all.
-- https://supabase.com/docs/guides/realtime/postgres-changes

alter publication supabase_realtime add table public.publish_targets, public.posts;

alter publication supabase_realtime add table public.social_connections (
  id, user_id, platform, platform_account_id, username, display_name, avatar_url, account_type,
  follower_count, account_info, scopes, access_token_expires_at, refresh_token_expires_at, status,
  status_reason, last_refreshed_at, created_at, updated_at);
