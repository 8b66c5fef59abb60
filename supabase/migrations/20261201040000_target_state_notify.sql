-- A publish request with `wait` answers as soon as its post is done: every change of a
-- platform post's state notifies the channel `publish_target_state` with the post's id
-- (delivered when the changing transaction commits; shared/publishing/waiting.py listens).
create or replace function public.notify_target_state() returns trigger
language plpgsql as $$
begin
  perform pg_notify('publish_target_state', new.post_id::text);
  return null;
end;
$$;

create trigger publish_targets_state_notify
  after update of state on public.publish_targets
  for each row
  when (old.state is distinct from new.state)
  execute function public.notify_target_state();
