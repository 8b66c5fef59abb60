-- Unpublished videos age out (shared/storage/retention.py): a video never published (unused, or only in
-- failed or canceled posts) is removed UNPUBLISHED_VIDEO_DAYS after its last use, and its owner is told
-- VIDEO_REMOVAL_NOTICE_DAYS before. `removal_notice_at` is when that notice went out: the removal waits for it.
alter table public.videos add column removal_notice_at timestamptz;
