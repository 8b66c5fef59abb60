-- A transient failure that keeps the target in its state (a retry of a read-only
-- step, say) changed no state, so it left no audit row. Record it as its own
-- event so retries are countable per platform (NFR-19/20).
create or replace function public.publish_targets_audit() returns trigger
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
  elsif new.attempts > old.attempts then
    insert into public.publish_events
      (user_id, platform, post_id, target_id, event, from_state, to_state, error_code, detail)
    values (new.user_id, new.platform, new.post_id, new.id, 'retry_scheduled', old.state, new.state,
            new.error_code,
            jsonb_strip_nulls(jsonb_build_object(
              'error_class', new.error_class, 'user_message', new.user_message,
              'attempts', new.attempts, 'next_attempt_at', new.next_attempt_at)));
  end if;
  return new;
end $$;
