"""Finding a user's Pages: personal Pages, Pages owned through a business, paged lists.

The sandbox answers like Graph v17+: business Pages only with `business_management`,
and every list paged at 25 by default.
"""

from __future__ import annotations

import httpx
import pytest

from shared.platforms.facebook.oauth import FacebookOAuth
from shared.platforms.facebook.settings import FacebookSettings
from shared.platforms.oauth import TokenSet

USER = "fbuser-business"


@pytest.fixture
def provider(sandbox):
    settings = FacebookSettings(graph_base=sandbox.url + "/facebook-graph", www_base=sandbox.url + "/facebook-www",
                                app_id="sbx-fb-app", app_secret="sbx-fb-secret")
    oauth = FacebookOAuth(settings, http=httpx.Client(timeout=httpx.Timeout(5.0)))
    yield oauth
    oauth.http.close()


def _pages(prefix: str, count: int) -> list[dict]:
    return [{"id": f"{prefix}{n:04d}", "name": f"{prefix} page {n}"} for n in range(count)]


def _user_token(sandbox, scopes: tuple[str, ...]) -> TokenSet:
    token = sandbox.sandbox.mint_token("facebook", USER, scopes=scopes)
    return TokenSet(token.value, None, 5_184_000, 5_184_000, scopes)


def test_requests_business_management() -> None:
    assert "business_management" in FacebookOAuth.DEFAULT_SCOPES


def test_lists_personal_and_business_pages_across_all_result_pages_once_each(sandbox, provider) -> None:
    shared = {"id": "7770000", "name": "Also in a business"}
    sandbox.sandbox.add_account("facebook", USER, name="Agency owner", pages=[*_pages("77701", 30), shared],
                                businesses=[
                                    {"id": "b-1", "name": "Agency", "owned_pages": [*_pages("77702", 27), shared],
                                     "client_pages": _pages("77703", 3)},
                                    {"id": "b-2", "name": "Side business", "owned_pages": _pages("77704", 2)},
                                ])
    accounts = provider.accounts(_user_token(sandbox, FacebookOAuth.DEFAULT_SCOPES))
    ids = [a.profile.platform_account_id for a in accounts]
    assert len(ids) == len(set(ids))  # a Page reachable twice is one connection
    assert len(ids) == 30 + 1 + 27 + 3 + 2
    assert {"777010029", "777020026", "777030002", "777040001"} <= set(ids)
    # Every Page comes with its own Page token, which the publishing sandbox accepts for that Page.
    for account in accounts:
        token = sandbox.sandbox.check_token("facebook", account.tokens.access_token)
        assert token.account_id == account.profile.platform_account_id


def test_without_business_management_only_personal_pages_are_found(sandbox, provider) -> None:
    sandbox.sandbox.add_account("facebook", USER, name="Owner", pages=_pages("77705", 2),
                                businesses=[{"id": "b-3", "owned_pages": _pages("77706", 2)}])
    scopes = tuple(s for s in FacebookOAuth.DEFAULT_SCOPES if s != "business_management")
    accounts = provider.accounts(_user_token(sandbox, scopes))
    assert sorted(a.profile.platform_account_id for a in accounts) == ["777050000", "777050001"]


def test_pages_only_in_a_business_are_found(sandbox, provider) -> None:
    sandbox.sandbox.add_account("facebook", USER, name="Business only", pages=[],
                                businesses=[{"id": "b-4", "client_pages": _pages("77707", 1)}])
    accounts = provider.accounts(_user_token(sandbox, FacebookOAuth.DEFAULT_SCOPES))
    assert [a.profile.platform_account_id for a in accounts] == ["777070000"]
