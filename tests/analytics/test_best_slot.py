"""The next slot of the recommended hour (publish_at "best") reads the verdict the recommendations answer with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.analytics import recommend
from shared.analytics.history import Outcome

LIMITS = recommend.Thresholds(min_posts=20, min_group_posts=5, alpha=0.05)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _posts(strong_hour: int | None) -> list[Outcome]:
    """Four posts a day over 3-hour windows; the posts in `strong_hour`'s window get five times the views."""
    found = []
    for i in range(200):
        at = START + timedelta(days=i // 4, hours=(i * 3) % 24)
        views = (100 + i % 7) * (5 if at.hour == strong_hour else 1)
        found.append(Outcome(str(i), str(i), "instagram", "c1", "me", at, "A caption", (), None, views, views * 0.1))
    return found


def test_the_next_slot_is_the_start_of_the_recommended_window_after_now():
    found = _posts(strong_hour=18)
    best = recommend.for_outcomes(found, "UTC", LIMITS).best_hour
    assert (best.status, best.value, best.label) == ("recommended", 18, "18:00-21:00")
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert recommend.next_best_slot(found, "instagram", "UTC", now, LIMITS) == datetime(2026, 6, 1, 18, tzinfo=UTC)
    # A day without room moves it to the same hour of the next day.
    full = datetime(2026, 6, 1, 18, tzinfo=UTC)
    assert recommend.next_best_slot(found, "instagram", "UTC", now, LIMITS, fits=lambda slot: slot != full) == \
        datetime(2026, 6, 2, 18, tzinfo=UTC)


def test_no_slot_while_the_best_hour_is_withheld():
    found = _posts(strong_hour=None)
    assert recommend.for_outcomes(found, "UTC", LIMITS).best_hour.status == "withheld"
    assert recommend.next_best_slot(found, "instagram", "UTC", START, LIMITS) is None
