"""The local writer on the evaluation set: every answer within every limit, 3-5 valid related hashtags."""

from __future__ import annotations

import pytest

from shared.captions import hashtags
from shared.captions.limits import resolve
from shared.captions.local import LocalWriter, candidate_tags, spread_tags
from shared.captions.models import Draft, Material
from shared.captions.phrases import PHRASES
from shared.captions.service import finish
from tests.captions.evaluation import CASES, PLATFORMS, limit_problems, material, tag_problems

TARGETS = resolve(PLATFORMS)


def _finished(m: Material) -> list[dict]:
    fallback = spread_tags(candidate_tags(m), TARGETS)
    by_key = {t.key: t for t in TARGETS}
    return [finish(d, by_key[d.platform], m, fallback[d.platform]) for d in LocalWriter().write(m, TARGETS)]


@pytest.mark.parametrize("tone", ["friendly", "professional", "playful", "bold"])
@pytest.mark.parametrize("case", CASES, ids=[f"{c['language']}-{c['kind']}" for c in CASES])
def test_every_answer_fits_and_has_three_to_five_valid_hashtags(case, tone):
    m = material(case, tone)
    items = _finished(m)
    assert [i["platform"] for i in items] == PLATFORMS
    keys = hashtags.source_keys(m.source_text(), m.language)
    for item, target in zip(items, TARGETS, strict=True):
        assert limit_problems(item, target) == []
        assert tag_problems(item) == []
        assert all(c["fits"] for c in item["counts"])
        assert all(hashtags.relates(t, keys, m.language) for t in item["hashtags"]), item["hashtags"]
        assert item["caption"].strip()
        assert "#" not in item["caption"]
    youtube = items[PLATFORMS.index("youtube")]
    assert youtube["title"] and len(youtube["title"]) <= 100


def test_same_input_gives_the_same_answer():
    m = material(CASES[0])
    assert _finished(m) == _finished(m)


def test_each_platform_gets_its_register():
    m = material(CASES[0])  # English coffee shop with a brand and a brief
    tiktok, instagram, youtube, facebook = _finished(m)
    assert any(tiktok["caption"].startswith(h) for h in PHRASES["en"].hooks["friendly"])
    assert len(tiktok["caption"]) <= 150
    assert instagram["caption"].startswith("☕") and "\n\n" in instagram["caption"]
    assert youtube["title"].startswith("Coffee Shop | Bean There")
    assert facebook["caption"].endswith("?")
    assert tiktok["title"] is None and facebook["title"] is None
    assert "20% off all lattes this weekend." in facebook["caption"]


def test_writes_in_the_videos_language():
    german = next(c for c in CASES if c["language"] == "de")
    items = _finished(material(german, "friendly"))
    assert any(items[0]["caption"].startswith(h) for h in PHRASES["de"].hooks["friendly"])
    assert items[3]["caption"].endswith("?")


def test_a_language_without_phrases_gets_only_the_users_words():
    m = Material(description="Il nostro gelato artigianale al pistacchio è fatto ogni mattina con latte fresco.",
                 language="it")
    tiktok = _finished(m)[0]
    assert tiktok["caption"].startswith("👀 Il nostro gelato artigianale")
    assert tag_problems(tiktok) == []


def test_a_caption_over_the_limit_is_cut_at_a_word_boundary():
    tiktok = TARGETS[0]
    long = " ".join(["wonderful"] * 400)  # 3,999 characters; TikTok allows 2,200 UTF-16 units
    m = material(CASES[0])
    item = finish(Draft("tiktok", long, ["coffee", "latte", "barista"]), tiktok, m, [])
    assert limit_problems(item, tiktok) == []
    assert item["caption"].endswith("wonderful…")
    assert item["counts"][0]["length"] <= 2200
    assert any("shortened" in n for n in item["notes"])


def test_tiktok_counts_emoji_as_two_utf16_units():
    tiktok = TARGETS[0]
    caption = "☕" * 10 + " 🥐" * 700  # 🥐 is outside the BMP: 2 UTF-16 units each
    item = finish(Draft("tiktok", caption, ["coffee", "latte", "barista"]), tiktok, material(CASES[0]), [])
    assert item["counts"][0]["unit"] == "utf16"
    assert item["counts"][0]["length"] == len(item["text"].encode("utf-16-le")) // 2 <= 2200
    assert len(item["text"]) < item["counts"][0]["length"]


def test_bad_hashtags_are_left_out_with_a_reason_and_filled_up():
    instagram = TARGETS[1]
    draft = Draft("instagram", "Latte art!", ["#fyp", "latte art", "follow4follow", "Latte", "latte", "2026"])
    item = finish(draft, instagram, material(CASES[0]), ["baristas", "morning", "downtown"])
    # "latte art" becomes one word; duplicates go; too few are filled from the local writer's tags
    assert item["hashtags"] == ["latteart", "Latte", "baristas"]
    assert "Left out #fyp: it is a spam or reach-bait tag." in item["notes"]
    assert "Left out #follow4follow: it is a spam or reach-bait tag." in item["notes"]
    assert "Left out #2026: it has no letters." in item["notes"]


def test_too_little_text_is_refused_by_the_writer():
    from shared.captions.local import NotEnoughToGoOn

    with pytest.raises(NotEnoughToGoOn):
        LocalWriter().write(Material(description="Wow"), TARGETS)
