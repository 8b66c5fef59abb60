-- A target parked for a reconnect (or deferred) may hold an irreversible call whose outcome
-- is unknown (`step_data.pending_call`): the video may already be live. Canceling it would
-- show "canceled" for a live video and stop the check, so cancel refuses such a target;
-- after the reconnect the pipeline asks the platform first.
create or replace function public.cancel_target(p_target_id uuid) returns public.publish_targets
language plpgsql security definer set search_path = public as $$
declare
  t public.publish_targets;
begin
  update public.publish_targets
     set state = 'canceled', next_attempt_at = null, lease_owner = null, lease_expires_at = null
   where id = p_target_id and user_id = auth.uid()
     and state in ('scheduled', 'queued', 'deferred', 'needs_reconnect')
     and (state <> 'queued' or (step_data = '{}'::jsonb and lease_owner is null))
     and not (step_data ? 'pending_call')
  returning * into t;
  return t;
end $$;
revoke all on function public.cancel_target(uuid) from public, anon;
grant execute on function public.cancel_target(uuid) to authenticated;
