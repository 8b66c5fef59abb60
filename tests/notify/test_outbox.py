"""The outbox against real PostgreSQL and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.notify.local_smtp import LocalSmtpServer
from shared.notify.mailer import SmtpMailer
from shared.notify.outbox import MAX_ATTEMPTS, drain_outbox, queue_email
from shared.notify.settings import MailSettings
from shared.tasks.emulator import free_port


@pytest.fixture(scope="module")
def smtp(tmp_path_factory) -> LocalSmtpServer:
    server = LocalSmtpServer(tmp_path_factory.mktemp("mail")).start()
    yield server
    server.stop()


@pytest.fixture
def mailer(smtp: LocalSmtpServer) -> SmtpMailer:
    smtp.start()  # a test may have stopped it
    smtp.clear()
    return SmtpMailer(MailSettings(smtp_host=smtp.host, smtp_port=smtp.port, smtp_timeout=5,
                                   mail_from="shortpub <no-reply@shortpub.test>"))


@pytest.fixture(autouse=True)
def empty_outbox(db):
    # The session database is shared with other test modules; mails they left unsent
    # would be drained here too and skew the counts, so they are set aside first.
    with db.service() as conn:
        conn.execute("update notifications set sent_at = now() where sent_at is null")


def queue(db, user, key: str | None = None, subject: str = "Your video is live on YouTube Shorts") -> bool:
    with db.service() as conn:
        return queue_email(conn, user_id=user["sub"], kind="post_published", subject=subject,
                           body="Hi,\n\nIt is live.", dedupe_key=key or f"test:{uuid.uuid4()}")


def rows(db, user) -> list[dict]:
    with db.service() as conn:
        return conn.execute("select * from notifications where user_id = %s order by created_at",
                            (user["sub"],)).fetchall()


def test_the_same_event_queued_twice_is_one_row_and_one_mail(db, user_a, mailer, smtp):
    assert queue(db, user_a, "published:target-1") is True
    assert queue(db, user_a, "published:target-1") is False
    assert len(rows(db, user_a)) == 1
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 1
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 0
    assert len(smtp.messages()) == 1


def test_drain_sends_to_the_account_address_and_marks_sent(db, user_a, mailer, smtp):
    queue(db, user_a, "published:target-2")
    sent_at = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
    assert drain_outbox(db, mailer, now=sent_at) == 1

    [row] = rows(db, user_a)
    assert row["sent_at"] == sent_at and row["attempts"] == 1 and row["last_error"] is None
    [message] = smtp.messages()
    assert message["To"] == user_a["email"]
    assert message["From"] == "shortpub <no-reply@shortpub.test>"
    assert message["Subject"] == "Your video is live on YouTube Shorts"
    assert message["Message-ID"] == f"<{row['id']}@shortpub>"
    assert message.get_content().strip() == "Hi,\n\nIt is live."
    saved = list(Path(smtp.folder).glob("*.eml"))
    assert any(f"<{row['id']}@shortpub>" in path.read_text() for path in saved)


def test_smtp_down_counts_an_attempt_and_the_next_drain_sends_exactly_once(db, user_a, mailer, smtp):
    queue(db, user_a, "failed:target-3")
    smtp.stop()
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 0
    [row] = rows(db, user_a)
    assert row["sent_at"] is None and row["attempts"] == 1
    assert "Connection" in row["last_error"]

    smtp.start()  # same port as before
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 1
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 0
    [row] = rows(db, user_a)
    assert row["sent_at"] is not None and row["attempts"] == 2 and row["last_error"] is None
    assert len(smtp.messages()) == 1


def test_gives_up_after_max_attempts(db, user_a, mailer, smtp):
    queue(db, user_a, "failed:target-4")
    nowhere = SmtpMailer(MailSettings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=2))
    for _ in range(MAX_ATTEMPTS + 2):
        drain_outbox(db, nowhere, now=datetime.now(UTC))
    [row] = rows(db, user_a)
    assert row["attempts"] == MAX_ATTEMPTS and row["sent_at"] is None
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 0
    assert smtp.messages() == []


def test_drain_respects_its_limit(db, user_a, mailer, smtp):
    for _ in range(3):
        queue(db, user_a)
    assert drain_outbox(db, mailer, limit=2, now=datetime.now(UTC)) == 2
    assert drain_outbox(db, mailer, limit=2, now=datetime.now(UTC)) == 1
    assert len(smtp.messages()) == 3


def test_concurrent_drains_send_each_mail_once(db, user_a, mailer, smtp):
    for n in range(16):
        queue(db, user_a, subject=f"mail {n}")
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(drain_outbox(db, mailer, now=datetime.now(UTC))))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 16
    subjects = sorted(str(m["Subject"]) for m in smtp.messages())
    assert subjects == sorted(f"mail {n}" for n in range(16))


def test_a_rolled_back_event_leaves_no_mail(db, user_a, mailer, smtp):
    with pytest.raises(RuntimeError), db.service() as conn:
        queue_email(conn, user_id=user_a["sub"], kind="post_failed", subject="s", body="b",
                    dedupe_key="failed:rolled-back")
        raise RuntimeError("the state change failed")
    assert rows(db, user_a) == []
    assert drain_outbox(db, mailer, now=datetime.now(UTC)) == 0


def test_a_user_without_an_email_address_gets_no_mail(db, mailer):
    user_id = str(uuid.uuid4())
    with db.service() as conn:
        conn.execute("insert into auth.users (id, email) values (%s, null)", (user_id,))
        assert queue_email(conn, user_id=user_id, kind="post_published", subject="s", body="b",
                           dedupe_key=f"published:{user_id}") is False
    assert rows(db, {"sub": user_id}) == []


def test_users_read_only_their_own_notifications(db, user_a, user_b):
    queue(db, user_a, "published:rls")
    with db.user(user_a) as conn:
        assert len(conn.execute("select id from notifications").fetchall()) == 1
    with db.user(user_b) as conn:
        assert conn.execute("select id from notifications").fetchall() == []
