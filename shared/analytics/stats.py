"""The statistical tests behind "best platform", recommendations and A/B verdicts.

Every verdict comes from a standard test in scipy, never a hand-written formula:
- two groups of per-post numbers (views at 72 h, engagement rates): Mann-Whitney U,
  which assumes no distribution (social numbers are heavy-tailed), with the
  rank-biserial correlation as the effect size;
- several groups (hours of the day, weekdays): Kruskal-Wallis first, so a "best hour"
  is named only when the hours differ at all;
- two rates with their counts (engagements out of views, one platform against
  another for one video): Pearson's chi-square test on the 2x2 table, the
  two-proportion z-test's equivalent, without continuity correction;
- two variants' engagement rates (A/B verdicts): a quasi-binomial Wald test
  (`compare_engagement`). A view can bring a like, a comment and a share, so the
  engagement count is not one yes/no per view and the 2x2 table understates its
  variance; and posts differ beyond chance, which the dispersion factor measures.

scipy costs ~150 ms at import, so it is imported inside the functions: only the
analytics routes and the tick's experiment duty pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from shared import responses


@dataclass(frozen=True)
class Evidence:
    """A test's result at full precision, which decisions use; answers show it rounded (`as_model`)."""

    test: str
    posts: int               # posts (or views, for rates) behind the verdict
    p_value: float
    effect: float            # rank-biserial correlation (groups) or relative lift (rates)
    significant: bool

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def as_model(self) -> responses.Evidence:
        """As the answer shows it (rounded): the computation keeps its full precision for the decision."""
        return responses.Evidence.model_validate(self.as_dict())


def compare_groups(best: Sequence[float], rest: Sequence[float], alpha: float) -> Evidence:
    """Is `best` stochastically larger than `rest`? One-sided Mann-Whitney U."""
    from scipy.stats import mannwhitneyu

    result = mannwhitneyu(best, rest, alternative="greater")
    # Rank-biserial correlation: 2U/(n1 n2) - 1, in [-1, 1]; 0 means no difference.
    effect = 2 * float(result.statistic) / (len(best) * len(rest)) - 1
    p_value = float(result.pvalue)
    return Evidence("mann-whitney-u", len(best) + len(rest), p_value, effect, p_value < alpha)


def groups_differ(groups: Sequence[Sequence[float]], alpha: float) -> tuple[bool, float]:
    """Kruskal-Wallis H over several groups: do they differ at all?"""
    from scipy.stats import kruskal

    usable = [list(g) for g in groups if len(g) > 0]
    if len(usable) < 2 or len({v for g in usable for v in g}) < 2:
        return False, 1.0
    p_value = float(kruskal(*usable).pvalue)
    return p_value < alpha, p_value


def compare_rates(successes_a: int, trials_a: int, successes_b: int, trials_b: int, alpha: float) -> Evidence:
    """Is rate A (successes/trials) higher than rate B? Chi-square on the 2x2 table, one-sided."""
    from scipy.stats import chi2_contingency

    rate_a = successes_a / trials_a if trials_a else 0.0
    rate_b = successes_b / trials_b if trials_b else 0.0
    lift = (rate_a / rate_b - 1) if rate_b else 0.0
    table = [[successes_a, trials_a - successes_a], [successes_b, trials_b - successes_b]]
    if min(trials_a, trials_b) == 0 or successes_a + successes_b == 0 \
            or (trials_a - successes_a) + (trials_b - successes_b) == 0:
        return Evidence("chi-square-2x2", trials_a + trials_b, 1.0, lift, False)
    two_sided = float(chi2_contingency(table, correction=False).pvalue)
    # The chi-square test is two-sided; the one-sided p-value halves it in the tested direction.
    p_value = two_sided / 2 if rate_a > rate_b else 1 - two_sided / 2
    return Evidence("chi-square-2x2", trials_a + trials_b, p_value, lift, p_value < alpha)


ENGAGEMENT_KINDS = ("likes", "comments", "shares")


def compare_engagement(best: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]],
                       alpha: float) -> Evidence:
    """Is the engagement rate of the `best` posts higher than that of the `other` posts? One-sided.

    Each post is {views, likes, comments, shares}. A quasi-binomial Wald test:
    - per view, engagement is three yes/no counts (a like, a comment, a share), so its
      variance is the sum of the three binomial variances, not that of one proportion;
    - posts of the same variant scatter more than that when their audiences differ: the
      Pearson chi-square of the posts around their variant's rate over its degrees of
      freedom (posts minus variants) is the dispersion factor. It inflates the variance
      when above 1 (never shrinks it below the binomial's) and the statistic is then read
      against Student's t on those degrees of freedom; with one post per variant nothing
      is left to measure it and the binomial variance stands (normal reference).
    """
    from scipy.stats import norm, t

    groups = [[p for p in posts if (p.get("views") or 0) > 0] for posts in (best, other)]
    summaries = []
    for posts in groups:
        views = float(sum(p["views"] for p in posts))
        rates = [sum(float(p.get(kind) or 0) for p in posts) / views if views else 0.0 for kind in ENGAGEMENT_KINDS]
        summaries.append((views, sum(rates), sum(r * (1 - r) for r in rates)))
    (views_a, rate_a, var_a), (views_b, rate_b, var_b) = summaries
    lift = (rate_a / rate_b - 1) if rate_b else 0.0
    if not views_a or not views_b or var_a + var_b <= 0:
        return Evidence("quasi-binomial-wald", round(views_a + views_b), 1.0, lift, False)
    pearson, freedom = 0.0, 0
    for posts, (_views, rate, variance) in zip(groups, summaries, strict=True):
        freedom += max(0, len(posts) - 1)
        if variance > 0:
            pearson += sum((_engagements(p) - p["views"] * rate) ** 2 / (p["views"] * variance) for p in posts)
    dispersion = pearson / freedom if freedom else 1.0
    scale = max(1.0, dispersion)
    statistic = (rate_a - rate_b) / (scale * (var_a / views_a + var_b / views_b)) ** 0.5
    p_value = float(t.sf(statistic, freedom) if dispersion > 1 else norm.sf(statistic))
    return Evidence("quasi-binomial-wald", round(views_a + views_b), p_value, lift, p_value < alpha)


def _engagements(post: Mapping[str, Any]) -> float:
    return sum(float(post.get(kind) or 0) for kind in ENGAGEMENT_KINDS)


def midpoint(values: Sequence[float]) -> float | None:
    return float(median(values)) if values else None
