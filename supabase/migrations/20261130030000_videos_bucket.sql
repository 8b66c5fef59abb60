-- The private Storage bucket that holds uploaded videos, renditions and covers.
-- The functions reach it with the service-role key; a frontend uploads large files
-- straight into it (then calls POST /videos/register), but only into the folder named
-- after the signed-in user, and reads back only its own files. Nobody else sees them:
-- the bucket is not public and there are no policies for anon.
insert into storage.buckets (id, name, public)
values ('videos', 'videos', false)
on conflict (id) do update set public = false;

create policy "videos: users add files to their own folder"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "videos: users read their own files"
  on storage.objects for select to authenticated
  using (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "videos: users replace their own files"
  on storage.objects for update to authenticated
  using (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "videos: users delete their own files"
  on storage.objects for delete to authenticated
  using (bucket_id = 'videos' and (storage.foldername(name))[1] = (select auth.uid())::text);
