-- Caption suggestions (issue 15): what a video is about, and how many suggestions a user asked for.
--
-- The context is optional and given when the video is added (upload, register, import):
-- the prompt it was generated from, a description, the product or brand, its language.
-- Suggestions are made from it; nothing here is ever posted as a caption.
alter table public.videos
  add column generation_prompt text check (char_length(generation_prompt) <= 4000),
  add column description text check (char_length(description) <= 4000),
  add column brand text check (char_length(brand) <= 200),
  add column language text check (char_length(language) <= 35);

-- One row per suggestion request: the per-user daily cap is counted here, and the
-- engine that answered and the tokens it used are kept for cost reports.
create table public.caption_suggestions (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  video_id uuid references public.videos (id) on delete set null,
  platforms text[] not null default '{}',
  engine text check (engine in ('gemini', 'local')),
  prompt_tokens integer,
  output_tokens integer,
  created_at timestamptz not null default now()
);
create index caption_suggestions_user_day_idx on public.caption_suggestions (user_id, created_at desc);

alter table public.caption_suggestions enable row level security;
revoke all on public.caption_suggestions from anon, authenticated;
-- Users may see their own usage; only the server writes it.
grant select on public.caption_suggestions to authenticated;
create policy caption_suggestions_own on public.caption_suggestions for select to authenticated
  using ((select auth.uid()) = user_id);
