-- A target is `published` as soon as the platform confirms the video is live; when its
-- id or link could not be read yet, a follow-up step fills it in later. Such a target
-- keeps `next_attempt_at` set (every other published target has it null), so the
-- scheduler tick finds a follow-up whose task went missing with one short index scan.
create index publish_targets_link_due_idx on public.publish_targets (next_attempt_at)
  where state = 'published' and next_attempt_at is not null;
