-- The user's consent to TikTok's Music Usage Confirmation (and, for branded content, its
-- Branded Content Policy), recorded with the platform post it was given for: which
-- declaration was shown and when the user agreed. TikTok's content-sharing guidelines
-- require the user's explicit consent before a post is sent
-- (https://developers.tiktok.com/doc/content-sharing-guidelines/).
alter table public.publish_targets add column consent jsonb;

comment on column public.publish_targets.consent is
  'TikTok: {"policies": [...], "declaration": "...", "agreed_at": "..."} the user agreed to; null elsewhere';

-- Users give consent when they create or edit the post; the API records it as the service
-- after its checks, like every other write (docs/security.md: users write nothing directly).
