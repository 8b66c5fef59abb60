from __future__ import annotations

import pytest

from shared.media.samples import SAMPLE_VARIANTS, make_long, make_sample


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """Every sample variant, generated once per session (a few seconds in all)."""
    folder = tmp_path_factory.mktemp("samples")
    made = {kind: make_sample(kind, folder / f"{kind}.mp4") for kind in SAMPLE_VARIANTS}
    made["long_16min"] = make_long(folder / "long.mp4", 16 * 60 + 1)
    return made
