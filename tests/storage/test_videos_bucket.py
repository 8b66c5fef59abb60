"""The `videos` bucket the migration creates: private, each user confined to their own folder."""

from __future__ import annotations

import psycopg
import pytest

from shared.db.database import Database
from tests.conftest import make_user


def _insert(db: Database, who: dict[str, str], name: str, bucket: str = "videos") -> None:
    with db.user(who) as conn:
        conn.execute("insert into storage.objects (bucket_id, name, owner) values (%s, %s, %s)",
                     (bucket, name, who["sub"]))


def _visible(db: Database, who: dict[str, str] | None) -> set[str]:
    with db.user(who) if who is not None else db.anon() as conn:
        return {row["name"] for row in conn.execute("select name from storage.objects").fetchall()}


def test_the_videos_bucket_exists_and_is_private(db: Database) -> None:
    with db.service() as conn:
        row = conn.execute("select name, public from storage.buckets where id = 'videos'").fetchone()
    assert row == {"name": "videos", "public": False}


def test_a_user_uploads_into_their_own_folder_and_sees_only_their_files(db: Database) -> None:
    owner, other = make_user(db), make_user(db)
    mine = f"{owner['sub']}/clip.mp4"
    _insert(db, owner, mine)
    assert mine in _visible(db, owner)
    assert mine not in _visible(db, other)
    assert _visible(db, None) == set()
    with db.user(other) as conn:
        assert conn.execute("delete from storage.objects where name = %s", (mine,)).rowcount == 0
        assert conn.execute("update storage.objects set name = name || '.x' where name = %s",
                            (mine,)).rowcount == 0
    with db.user(owner) as conn:
        assert conn.execute("delete from storage.objects where name = %s", (mine,)).rowcount == 1


@pytest.mark.parametrize("name", ["{other}/clip.mp4", "clip.mp4", "shared/{owner}/clip.mp4"])
def test_a_user_cannot_upload_outside_their_folder(db: Database, name: str) -> None:
    owner, other = make_user(db), make_user(db)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _insert(db, owner, name.format(owner=owner["sub"], other=other["sub"]))


def test_anon_cannot_upload(db: Database) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.anon() as conn:
        conn.execute("insert into storage.objects (bucket_id, name) values ('videos', 'x/clip.mp4')")
