"""Candidates and fitting: from a YAML candidate to a fitted, calibrated, ranked PD model.

Encoders and estimators, the family registry (native file formats, contributions, early
stopping), the blend, calibration, folds and CV metrics, the WoE-logistic scorecard, the
candidate-stage template, code-free model files, candidate plots, and ``selection``: the
rules that choose a model. May import ``data``; nothing here knows decisions or MLflow.
Importing the package registers the blend in the family registry.
"""

from credit_scoring import public_face
from credit_scoring.models import blend  # noqa: F401  (registers the blend family)

_HOMES = {
    "BLEND": "families",
    "blend_candidate": "blend",
    "BlendedPD": "blend",
    "build_estimator": "estimators",
    "candidate_evaluation": "candidates",
    "CategoryOneHot": "encoders",
    "ChampionRule": "selection",
    "choose_calibration": "calibration",
    "cross_fitted_challenger": "scorecard",
    "evaluate_candidates": "candidates",
    "FAMILIES": "families",
    "family_name": "families",
    "fit_blend": "blend",
    "fit_candidate": "estimators",
    "fit_scorecard": "scorecard",
    "HIGHER_IS_BETTER": "evaluation",
    "load_skops": "model_files",
    "METRICS": "evaluation",
    "native_format": "families",
    "NativeCategories": "encoders",
    "out_of_fold_metrics": "evaluation",
    "pd_metrics": "evaluation",
    "PDCalibrator": "calibration",
    "PDPipeline": "estimators",
    "predict_pd": "estimators",
    "PREPROCESSING": "encoders",
    "Promotion": "selection",
    "promotion": "selection",
    "rank_candidates": "selection",
    "RegisteredChampion": "selection",
    "SKOPS_TRUSTED_TYPES": "model_files",
    "UnsafeModelError": "model_files",
}
__all__ = [
    "BLEND",
    "BlendedPD",
    "CategoryOneHot",
    "ChampionRule",
    "FAMILIES",
    "HIGHER_IS_BETTER",
    "METRICS",
    "NativeCategories",
    "PDCalibrator",
    "PDPipeline",
    "PREPROCESSING",
    "Promotion",
    "RegisteredChampion",
    "SKOPS_TRUSTED_TYPES",
    "UnsafeModelError",
    "blend_candidate",
    "build_estimator",
    "candidate_evaluation",
    "choose_calibration",
    "cross_fitted_challenger",
    "evaluate_candidates",
    "family_name",
    "fit_blend",
    "fit_candidate",
    "fit_scorecard",
    "load_skops",
    "native_format",
    "out_of_fold_metrics",
    "pd_metrics",
    "predict_pd",
    "promotion",
    "rank_candidates",
]
__getattr__ = public_face(__name__, _HOMES)
