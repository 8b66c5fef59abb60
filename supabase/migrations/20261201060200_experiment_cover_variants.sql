-- A/B tests of the cover (FR-14 "captions and thumbnails"): each variant may name the frame
-- of the video its posts show as the cover, in seconds (sent as each platform's own cover
-- frame field: TikTok video_cover_timestamp_ms, Blotato videoCoverTimestamp, Instagram
-- thumb_offset). Null: the platform's own choice.
alter table public.experiment_variants add column cover_offset_seconds numeric
  check (cover_offset_seconds is null or cover_offset_seconds >= 0);
