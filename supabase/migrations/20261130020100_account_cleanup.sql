-- Deleting a user (a row removed from auth.users, as Supabase's admin API does) cascades
-- to every table here, which would orphan their stored files and leave their platform
-- grants live. Before the row goes, a trigger writes down what must still be cleaned
-- outside the database; the scheduler tick works through it (shared/accounts/cleanup.py)
-- and deletes each entry once done. docs/security.md, "Deleting an account".
--
-- Triggers on auth.users are how Supabase projects react to users
-- (https://supabase.com/docs/guides/auth/managing-user-data#using-triggers).

create table public.account_cleanup (
  id bigint generated always as identity primary key,
  user_id uuid not null,                  -- no foreign key: the user is gone
  kind text not null check (kind in ('revoke', 'objects')),
  platform text,                          -- revoke: whose grant
  platform_account_id text,
  -- revoke: the vault ciphertexts, still bound to (user_id, platform); deleted with the row.
  access_token_ciphertext bytea,
  refresh_token_ciphertext bytea,
  storage_prefix text,                    -- objects: every object under it ('<user_id>/')
  attempts integer not null default 0,
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index account_cleanup_due_idx on public.account_cleanup (next_attempt_at);

-- The server's alone: RLS on, no policy, no grant (the user it concerns no longer exists).
alter table public.account_cleanup enable row level security;
revoke all on public.account_cleanup from public, anon, authenticated;

create function public.record_account_cleanup() returns trigger
language plpgsql security definer set search_path = public as $$
begin
  insert into public.account_cleanup
    (user_id, kind, platform, platform_account_id, access_token_ciphertext, refresh_token_ciphertext)
  select c.user_id, 'revoke', c.platform, c.platform_account_id, c.access_token_ciphertext,
         c.refresh_token_ciphertext
    from public.social_connections c
   where c.user_id = old.id
     and (c.access_token_ciphertext is not null or c.refresh_token_ciphertext is not null);
  -- Every object lives under '<user_id>/' (videos, converted copies, covers, and uploads
  -- that were never registered), so one prefix covers them all.
  insert into public.account_cleanup (user_id, kind, storage_prefix)
  values (old.id, 'objects', old.id::text || '/');
  return old;
end $$;
revoke all on function public.record_account_cleanup() from public, anon, authenticated;

create trigger auth_users_account_cleanup before delete on auth.users
  for each row execute function public.record_account_cleanup();
