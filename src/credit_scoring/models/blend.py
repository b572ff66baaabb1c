"""The blended candidate: a logistic stack of the best single candidates' PDs.

    logit(PD) = intercept + sum_i weight_i * logit(PD_i),   every weight_i >= 0

The weights are fitted by maximum likelihood on the members' out-of-fold PDs, which every
candidate stage persisted on the same folds. The blend's own CV metrics are cross-fitted:
for each persisted fold, the weights are fitted on the other folds' out-of-fold PDs and
applied to that fold's (as calibration is chosen), so it competes with the single
candidates on the same folds without a scored row's label ever choosing its weights.
Weights are non-negative: each member can only add evidence, so a blend's reason codes
(the weighted sum of its members' contributions, in log-odds) read like any model's.

When it wins, thresholding refits each member once on all training rows, with its own
seed and class weighting (``fit_blend``). The fitted ``BlendedPD`` is stored as each
member's native file and skops preprocessing plus a JSON of the weights (``save`` /
``load``), so a blended champion is one PD model like any other: raw row in, decision out.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from credit_scoring.models import families
from credit_scoring.models.calibration import log_odds
from credit_scoring.models.encoders import PREPROCESSING
from credit_scoring.models.estimators import fit_candidate, predict_pd
from credit_scoring.models.model_files import UnsafeModelError, check_savable, inside, load_skops

logger = logging.getLogger(__name__)

CANDIDATE = "thresholding.blend"
"""The blend's name in the candidate ranking."""
WEIGHTS_FILE = "blend.json"


def fit_stack(member_pds: np.ndarray, y) -> tuple[np.ndarray, float]:
    """Non-negative weights and an intercept on the members' logit(PD), by maximum likelihood.

    Args:
        member_pds: one column per member, one row per applicant.

    Returns:
        The weights (one per member) and the intercept.
    """
    z, y = log_odds(np.asarray(member_pds, dtype=float)), np.asarray(y, dtype=float)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        eta = theta[0] + z @ theta[1:]
        residual = (expit(eta) - y) / len(y)
        return (float(np.mean(np.logaddexp(0.0, eta) - y * eta)),
                np.concatenate([[residual.sum()], z.T @ residual]))

    k = z.shape[1]
    fitted = minimize(loss, np.r_[0.0, np.full(k, 1.0 / k)], jac=True, method="L-BFGS-B",
                      bounds=[(None, None)] + [(0.0, None)] * k, options={"gtol": 1e-10})
    return fitted.x[1:], float(fitted.x[0])


def stack(member_pds: np.ndarray, weights: np.ndarray, intercept: float) -> np.ndarray:
    """The blend's PD from its members' PDs."""
    return expit(intercept + log_odds(np.asarray(member_pds, dtype=float)) @ np.asarray(weights))


def cross_fitted_stack(member_pds: pd.DataFrame, y: pd.Series, folds: pd.Series) -> np.ndarray:
    """Each row's blended PD, with weights fitted on the other folds' out-of-fold PDs."""
    blended = np.empty(len(y))
    for fold in np.unique(folds):
        held_out = (folds == fold).to_numpy()
        weights, intercept = fit_stack(member_pds.to_numpy()[~held_out], y[~held_out])
        blended[held_out] = stack(member_pds.to_numpy()[held_out], weights, intercept)
    return blended


def blend_members(ranking: pd.DataFrame, specs: dict[str, dict[str, Any]], size: int) -> list[str]:
    """The ``size`` best-ranked candidates that tell applicants apart (not a prior-only model).

    Empty when fewer than two qualify: a blend of one model is that model.
    """
    members = [name for name in ranking["candidate"]
               if families.FAMILIES[specs[name]["spec"]["estimator"]].contributions is not None]
    return members[:size] if min(size, len(members)) >= 2 else []


def blend_candidate(
    member_pds: pd.DataFrame, y: pd.Series, folds: pd.Series, specs: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], np.ndarray]:
    """The blend of the candidates in ``member_pds``' columns: its spec and cross-fitted PDs.

    Returns:
        What ``fit_blend`` refits (each member's spec with its weight, the intercept) and
        the blend's out-of-fold PDs on the persisted folds.
    """
    weights, intercept = fit_stack(member_pds.to_numpy(), y)
    members = list(member_pds.columns)
    logger.info("Blend: logit(PD) = %.3f + %s.", intercept,
                " + ".join(f"{w:.3f} x logit(PD of {m})" for m, w in zip(members, weights,
                                                                          strict=True)))
    spec = {
        "candidate": CANDIDATE,
        "spec": {"estimator": families.BLEND, "intercept": intercept,
                 "members": [{**specs[name], "candidate": name, "weight": float(weight)}
                             for name, weight in zip(members, weights, strict=True)]},
        "random_state": specs[members[0]]["random_state"],
        "class_weighting": None,  # each member keeps its own
    }
    return spec, cross_fitted_stack(member_pds, y, folds)


@dataclass
class Member:
    """One fitted member of a blend."""

    candidate: str
    family: str
    preprocess: Any
    estimator: Any
    weight: float
    encoded_mean: list[float] | None = None  # a centred family's reference (a linear model)


class BlendedPD(ClassifierMixin, BaseEstimator):
    """A fitted blend: ``predict_proba`` and ``contributions`` on model input rows.

    Contributions are the weighted sum of the members' contributions in log-odds; a member
    explained in PD points (a scikit-learn forest) is converted at its own PD
    (d logit / d PD = 1 / (PD (1 - PD))).
    """

    def __init__(self, members: list[Member], intercept: float) -> None:
        self.members = members
        self.intercept = float(intercept)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = list(members[0].preprocess.feature_names_in_)

    def fit(self, X=None, y=None) -> BlendedPD:
        """Fitted at construction (``fit_blend`` refits each member with its own spec); here
        so that scikit-learn's pipeline treats the blend as the fitted estimator it is."""
        return self

    def _member_pds(self, model_input: pd.DataFrame) -> np.ndarray:
        return np.column_stack([predict_pd(m.preprocess, m.estimator, None, model_input)
                                for m in self.members])

    def predict_proba(self, model_input: pd.DataFrame) -> np.ndarray:
        pd_scores = stack(self._member_pds(model_input), [m.weight for m in self.members],
                          self.intercept)
        return np.column_stack([1 - pd_scores, pd_scores])

    def contributions(self, model_input: pd.DataFrame) -> np.ndarray:
        total = np.zeros((len(model_input), len(self.feature_names_in_)))
        for member in self.members:
            values = families.attribute_contributions(
                member.family, member.preprocess, member.estimator, model_input,
                member.encoded_mean).reindex(columns=self.feature_names_in_, fill_value=0.0)
            values = values.to_numpy(dtype=float)
            if not families.FAMILIES[member.family].log_odds:
                pd_scores = np.clip(predict_pd(member.preprocess, member.estimator, None,
                                               model_input), 1e-6, 1 - 1e-6)
                values = values / (pd_scores * (1 - pd_scores))[:, None]
            total += member.weight * values
        return total

    def save(self, folder: Path) -> None:
        """Each member's native estimator file and skops preprocessing, and ``blend.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True)
        entries = []
        for number, member in enumerate(self.members, start=1):
            native = families.native_format(member.family)
            files = {"preprocessing": f"member_{number}.preprocessing.skops",
                     "estimator": f"member_{number}.estimator{native.suffixes[0]}"}
            check_savable(member.preprocess, f"preprocessing of {member.candidate}")
            skops.io.dump(member.preprocess, folder / files["preprocessing"])
            native.save(member.estimator, folder / files["estimator"])
            entries.append({"candidate": member.candidate, "family": member.family,
                            "weight": member.weight, "encoded_mean": member.encoded_mean,
                            **files})
        (folder / WEIGHTS_FILE).write_text(json.dumps(
            {"intercept": self.intercept, "members": entries}, indent=2))

    @classmethod
    def load(cls, folder: Path) -> BlendedPD:
        """The blend in ``folder``, read code-free (member files by their family's format).

        Raises:
            UnsafeModelError: for a member family the project does not know, or a file
                outside the folder.
        """
        folder = Path(folder)
        config = json.loads((folder / WEIGHTS_FILE).read_text())
        members = []
        for entry in config["members"]:
            family = entry["family"]
            if family not in families.FAMILIES or family == families.BLEND:
                raise UnsafeModelError(f"{folder.name}: member {entry['candidate']} has family "
                                       f"{family!r}, not a single model family the project reads.")
            members.append(Member(
                entry["candidate"], family, load_skops(inside(folder, entry["preprocessing"])),
                families.native_format(family).load(inside(folder, entry["estimator"])),
                float(entry["weight"]), entry["encoded_mean"]))
        return cls(members, config["intercept"])


def fit_blend(candidate: dict[str, Any], X: pd.DataFrame, y: pd.Series,
              feature_schema: dict[str, Any]) -> Pipeline:
    """Refit each member of a blend candidate once on (X, y): the blend as a fitted pipeline.

    Its first step passes the model input through unchanged (each member encodes it its own
    way), so the blend has the same (preprocessing, estimator) shape as any PD model.
    """
    members = []
    for member in candidate["spec"]["members"]:
        model = fit_candidate(member, X, y, feature_schema)
        family = families.family_name(model[-1])
        members.append(Member(member["candidate"], family, model[:-1], model[-1],
                              member["weight"], families.centring_reference(family, model[:-1], X)))
    passthrough = PREPROCESSING["passthrough"](feature_schema).fit(X)
    return Pipeline([("preprocess", passthrough),
                     ("model", BlendedPD(members, candidate["spec"]["intercept"]))])


# the blend's entries in the family registry: a blend reads its members through it
families.FORMATS["blend"] = families.NativeFormat(
    "scikit-learn", (".blend",), lambda model, path: model.save(path), BlendedPD.load)
families.FAMILIES[families.BLEND] = families.Family(
    "blend", lambda blend, inputs: blend.contributions(inputs), complexity=4)
