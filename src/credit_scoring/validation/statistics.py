"""Statistics a model validator asks for: uncertainty of discrimination, calibration tests.

- ``auc_confidence``: ROC AUC with DeLong's variance (the fast mid-rank form of Sun & Xu,
  2014), so Gini = 2 AUC - 1 gets the same interval mapped; ``auc_difference``: DeLong's
  paired test of two models on the same applicants (champion against challenger);
- ``ks_confidence``: KS with a seeded, stratified basic-bootstrap interval (KS has no simple
  variance formula);
- ``jeffreys``: the Jeffreys test of a PD grade (EBA/ECB practice): the posterior of the
  grade's default rate under a Jeffreys prior is Beta(D + 1/2, N - D + 1/2); its CDF at the
  grade's mean PD is the one-sided p-value of "the PD is not too low";
- ``hosmer_lemeshow``: observed vs expected bads over PD groups, chi-squared with g - 2
  degrees of freedom (g on a holdout sample);
- ``gains_table``: bads captured, bad rate and lift per PD decile;
- ``band_monotonicity``: do default rates fall from each score band to the next? Fisher's
  exact one-sided test of a reversal per adjacent pair, with the power the pair had to
  tell the two bands apart at their mean PDs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta, chi2, fisher_exact, norm, rankdata

from credit_scoring.models.evaluation import ks_statistic


def _split(y, pd_scores) -> tuple[np.ndarray, np.ndarray]:
    y, pd_scores = np.asarray(y), np.asarray(pd_scores, dtype=float)
    return pd_scores[y == 1], pd_scores[y == 0]


def _delong(y, pd_scores) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components: per bad the share of goods ranked below it,
    per good the share of bads ranked above it (ties count half)."""
    bads, goods = _split(y, pd_scores)
    m, n = len(bads), len(goods)
    ranks = rankdata(np.concatenate([bads, goods]))
    bad_wins = (ranks[:m] - rankdata(bads)) / n
    good_losses = 1 - (ranks[m:] - rankdata(goods)) / m
    return float(bad_wins.mean()), bad_wins, good_losses


def _variance(bad_wins: np.ndarray, good_losses: np.ndarray) -> float:
    return float(bad_wins.var(ddof=1) / len(bad_wins) + good_losses.var(ddof=1) / len(good_losses))


def auc_confidence(y, pd_scores, level: float = 0.95) -> dict[str, float]:
    """ROC AUC and its ``level`` confidence interval from DeLong's variance.

    Returns:
        ``auc``, ``auc_low``, ``auc_high`` (clipped to [0, 1]) and ``auc_se``.
    """
    auc, bad_wins, good_losses = _delong(y, pd_scores)
    se = np.sqrt(_variance(bad_wins, good_losses))
    z = norm.ppf(0.5 + level / 2)
    return {"auc": auc, "auc_low": max(auc - z * se, 0.0), "auc_high": min(auc + z * se, 1.0),
            "auc_se": se}


def auc_difference(y, pd_a, pd_b, level: float = 0.95) -> dict[str, float]:
    """DeLong's paired test of two models' AUCs on the same applicants: AUC(a) - AUC(b).

    Paired, so the shared sampling noise cancels: the variance is that of the per-applicant
    differences of the structural components.

    Returns:
        ``difference``, its interval ``low`` / ``high`` and the two-sided ``p_value`` of
        "equal AUCs".
    """
    auc_a, wins_a, losses_a = _delong(y, pd_a)
    auc_b, wins_b, losses_b = _delong(y, pd_b)
    difference = auc_a - auc_b
    se = np.sqrt(_variance(wins_a - wins_b, losses_a - losses_b))
    z = norm.ppf(0.5 + level / 2)
    p_value = float(2 * norm.sf(abs(difference) / se)) if se > 0 else float(difference == 0)
    return {"difference": difference, "low": difference - z * se, "high": difference + z * se,
            "p_value": p_value}


def ks_confidence(y, pd_scores, n_resamples: int, seed: int,
                  level: float = 0.95) -> dict[str, float]:
    """KS and a percentile interval over ``n_resamples`` stratified bootstrap samples.

    Bads and goods are resampled separately, so every sample keeps the bad rate.
    """
    bads, goods = _split(y, pd_scores)
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(len(bads)), np.zeros(len(goods))]
    samples = [ks_statistic(labels, np.r_[rng.choice(bads, len(bads)),
                                          rng.choice(goods, len(goods))])
               for _ in range(n_resamples)]
    tail = (1 - level) / 2
    ks = ks_statistic(y, pd_scores)
    # the basic (reverse-percentile) interval: a maximum is biased upwards in resamples, so
    # the plain percentile interval sits too high and covers the true KS too rarely
    upper, lower = 2 * ks - np.quantile(samples, [tail, 1 - tail])
    return {"ks": ks, "ks_low": float(max(lower, 0.0)), "ks_high": float(min(upper, 1.0))}


def jeffreys(defaults, count, mean_pd, level: float = 0.95) -> dict[str, np.ndarray]:
    """Jeffreys test and interval of each grade's default rate against its mean PD.

    Args:
        defaults, count, mean_pd: per grade, the observed bads, applicants and mean PD.

    Returns:
        ``p_value``: P(default rate <= mean PD | observed), small when the PD is too low;
        ``low`` / ``high``: the equal-tailed Jeffreys interval of the default rate (0 when
        no applicant defaulted, 1 when all did).
    """
    defaults, count = np.asarray(defaults, dtype=float), np.asarray(count, dtype=float)
    posterior = beta(defaults + 0.5, count - defaults + 0.5)
    tail = (1 - level) / 2
    return {
        "p_value": posterior.cdf(np.asarray(mean_pd, dtype=float)),
        "low": np.where(defaults == 0, 0.0, posterior.ppf(tail)),
        "high": np.where(defaults == count, 1.0, posterior.ppf(1 - tail)),
    }


def traffic_light(p_values, amber_below: float, red_below: float) -> np.ndarray:
    """green / amber / red by a test's p-value (red: the PD is significantly too low)."""
    p_values = np.asarray(p_values, dtype=float)
    return np.select([p_values < red_below, p_values < amber_below], ["red", "amber"],
                     default="green")


def pd_groups(pd_scores, n_groups: int) -> np.ndarray:
    """Equal-population PD groups 0 (lowest PDs) .. n_groups - 1; ties stay together."""
    return pd.qcut(rankdata(pd_scores, method="min"), n_groups, labels=False,
                   duplicates="drop").astype(int)


def hosmer_lemeshow(y, pd_scores, n_groups: int = 10, holdout: bool = False) -> dict[str, float]:
    """Hosmer-Lemeshow: sum over PD groups of (O - E)^2 / (E (1 - E / N)), chi-squared with
    g - 2 degrees of freedom on the sample the PDs were fitted to, g on a holdout sample."""
    table = pd.DataFrame({"y": np.asarray(y, dtype=float), "pd": np.asarray(pd_scores, dtype=float),
                          "group": pd_groups(pd_scores, n_groups)})
    groups = table.groupby("group").agg(observed=("y", "sum"), expected=("pd", "sum"),
                                        count=("y", "size"))
    statistic = float(((groups["observed"] - groups["expected"]) ** 2 / (
        groups["expected"] * (1 - groups["expected"] / groups["count"]))).sum())
    dof = len(groups) - (0 if holdout else 2)
    return {"statistic": statistic, "dof": dof, "p_value": float(chi2.sf(statistic, dof))}


def gains_table(y, pd_scores, n_groups: int = 10) -> pd.DataFrame:
    """Per PD decile, riskiest first: applicants, bads, bad rate, cumulative share of all bads
    captured and lift (the decile's bad rate over the overall bad rate)."""
    y = np.asarray(y, dtype=float)
    groups = pd_groups(pd_scores, n_groups)
    groups = groups.max() - groups  # 0 = riskiest decile (ties can leave fewer than n_groups)
    table = pd.DataFrame({"y": y, "pd": np.asarray(pd_scores, dtype=float), "decile": groups + 1})
    gains = table.groupby("decile").agg(applicants=("y", "size"), bads=("y", "sum"),
                                        mean_pd=("pd", "mean"))
    gains["bads"] = gains["bads"].astype(int)
    gains["bad_rate"] = gains["bads"] / gains["applicants"]
    gains["cumulative_bads_captured"] = gains["bads"].cumsum() / y.sum()
    gains["lift"] = gains["bad_rate"] / y.mean()
    return gains.reset_index()


def band_monotonicity(applicants, bads, mean_pd, alpha: float = 0.05) -> pd.DataFrame:
    """Per adjacent pair of score bands (riskiest first): is the next band's default rate
    significantly *higher* (a reversal), and could the pair have shown the expected order?

    ``p_value`` is Fisher's exact one-sided test of "the safer band defaults more". ``power``
    is that of a one-sided two-proportion z-test at ``alpha`` to tell the two bands apart
    when their default rates are their mean PDs: a pair with little power can neither
    confirm nor refute the order, whatever it shows.

    Returns:
        One row per pair: ``band`` and ``next_band`` (positions 1..k), both default rates,
        ``reversed`` (the next band defaults more), ``p_value`` and ``power``.
    """
    n, d, p = (np.asarray(v, dtype=float) for v in (applicants, bads, mean_pd))
    rows = []
    for k in range(len(n) - 1):
        table = [[d[k + 1], n[k + 1] - d[k + 1]], [d[k], n[k] - d[k]]]
        p_value = float(fisher_exact(table, alternative="greater").pvalue)
        spread = np.sqrt(p[k] * (1 - p[k]) / n[k] + p[k + 1] * (1 - p[k + 1]) / n[k + 1])
        power = (float(norm.cdf((p[k] - p[k + 1]) / spread - norm.ppf(1 - alpha)))
                 if spread > 0 else np.nan)
        rows.append({"band": k + 1, "next_band": k + 2, "default_rate": d[k] / n[k],
                     "next_default_rate": d[k + 1] / n[k + 1],
                     "reversed": bool(d[k + 1] / n[k + 1] > d[k] / n[k]),
                     "p_value": p_value, "power": power})
    return pd.DataFrame(rows, columns=["band", "next_band", "default_rate", "next_default_rate",
                                       "reversed", "p_value", "power"])
