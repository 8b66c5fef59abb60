"""A platform key is written only where the platform is: its package, the registry, the sandbox wiring.

Generic code asks the platform's descriptor (shared/platforms/platform.py) instead of comparing
keys, so adding a platform never means editing it. Checked on the code's string literals, f-strings
included (docstrings and comments may name platforms); SQL in a string counts when it quotes a key.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.platforms.registry import registry

ROOT = Path(__file__).resolve().parents[2]
KEYS = tuple(sorted(registry().keys()))
QUOTED_IN_SQL = re.compile("'(" + "|".join(KEYS) + ")'")

# Where keys belong: the platform packages themselves (Blotato's own API says "tiktok") and the
# registry (the sandbox, outside shared/, names its own settings and paths).
HOMES = ("shared/platforms/registry.py",)
PACKAGES = tuple(f"shared/platforms/{key}/" for key in KEYS)

# Not generic code: the local demo's script (`make demo`) is data about which accounts to connect
# and what to publish where, as a person would type it into the API; naming platforms is its content.
# Every other file asks the descriptors. The list may only shrink: a file listed here without a key
# literal fails the test, so it must leave the list.
NOT_YET_GENERIC = {
    "shared/local/demo.py",
}


def _key_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        # f-strings included: their literal parts are Constants too.
        text = node.value if isinstance(node, ast.Constant) and id(node) not in docstrings else None
        if isinstance(text, str) and (text in KEYS or QUOTED_IN_SQL.search(text)):
            found.append((node.lineno, text[:60]))
    return sorted(found)


def _generic_files() -> list[Path]:
    files = sorted((ROOT / "shared").rglob("*.py")) + sorted((ROOT / "functions").rglob("*.py"))
    out = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in HOMES or rel.startswith(PACKAGES):
            continue
        out.append(path)
    return out


def test_no_platform_key_is_written_in_generic_code() -> None:
    offenders = {}
    for path in _generic_files():
        rel = path.relative_to(ROOT).as_posix()
        literals = _key_literals(path)
        if literals and rel not in NOT_YET_GENERIC:
            offenders[rel] = literals
    assert offenders == {}


def test_the_not_yet_generic_list_only_names_files_that_still_need_it() -> None:
    stale = sorted(rel for rel in NOT_YET_GENERIC if not _key_literals(ROOT / rel))
    assert stale == []


def test_the_check_finds_a_key_a_quoted_key_in_sql_and_one_in_an_f_string(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Publishes to youtube."""\n'
                      'if platform == "youtube":\n'
                      '    sql = "where platform = \'tiktok\'"\n'
                      '    text = f"{n} and \'facebook\'"\n')
    assert [value for _, value in _key_literals(sample)] == ["youtube", "where platform = 'tiktok'", " and 'facebook'"]
