"""Reason codes: which applicant attributes pushed a PD up, from the model's own contributions.

Per applicant and attribute, a contribution to the model's raw output, read natively where
the framework has it:

- XGBoost: ``Booster.predict(..., pred_contribs=True)`` (exact TreeSHAP, log-odds);
- CatBoost: ``get_feature_importance(type="ShapValues")`` (SHAP, log-odds);
- scikit-learn tree ensembles (random forest, extra trees): the path decomposition of each
  tree's prediction (Saabas; what XGBoost returns with ``approx_contribs``), in PD points;
- linear models (logistic regression): coefficient x model input, in log-odds: relative
  to the training mean for standardised numbers and to no level for one-hot categories.

One-hot columns are summed back to the attribute they encode, so reasons name applicant
attributes, not encoded columns. Kept free of Kedro and plotting imports: the logged model
bundles this module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from credit_scoring.estimators import original_feature


def _xgboost(estimator, inputs: pd.DataFrame) -> np.ndarray:
    import xgboost  # noqa: PLC0415  (only models of this family need it installed)

    matrix = xgboost.DMatrix(inputs, enable_categorical=True)
    return estimator.get_booster().predict(matrix, pred_contribs=True)[:, :-1]


def _catboost(estimator, inputs: pd.DataFrame) -> np.ndarray:
    import catboost  # noqa: PLC0415  (only models of this family need it installed)

    pool = catboost.Pool(inputs, cat_features=estimator.get_cat_feature_indices())
    return estimator.get_feature_importance(pool, type="ShapValues")[:, :-1]


def _tree_paths(estimator, inputs) -> np.ndarray:
    """Saabas decomposition averaged over the ensemble's trees, on the bad-class probability."""
    values = np.asarray(inputs, dtype=np.float32)
    bad = list(estimator.classes_).index(1)
    total = np.zeros(values.shape, dtype=float)
    for tree in estimator.estimators_:
        structure = tree.tree_
        node_pd = structure.value[:, 0, bad] / structure.value[:, 0, :].sum(axis=1)
        parent = np.full(structure.node_count, -1)
        for children in (structure.children_left, structure.children_right):
            inner = np.flatnonzero(children >= 0)
            parent[children[inner]] = inner
        child = np.flatnonzero(parent >= 0)
        # each step down a tree moves the PD by (child - parent), owed to the parent's split
        steps = sp.csr_matrix(
            (node_pd[child] - node_pd[parent[child]], (child, structure.feature[parent[child]])),
            shape=(structure.node_count, values.shape[1]),
        )
        total += (tree.decision_path(values) @ steps).toarray()
    return total / len(estimator.estimators_)


def _linear(estimator, inputs) -> np.ndarray:
    return np.asarray(inputs, dtype=float) * estimator.coef_[0]


def contributions(preprocess, estimator, rows: pd.DataFrame) -> pd.DataFrame:
    """Each row's contribution per applicant attribute (positive = pushes the PD up).

    Args:
        preprocess: the fitted preprocessing steps of the model pipeline.
        estimator: the fitted final estimator.
        rows: raw applicant rows, the model's input columns.
    """
    inputs = preprocess.transform(rows)
    module = type(estimator).__module__.split(".")[0]
    if module == "xgboost":
        values = _xgboost(estimator, inputs)
    elif module == "catboost":
        values = _catboost(estimator, inputs)
    elif hasattr(estimator, "estimators_") and hasattr(estimator.estimators_[0], "tree_"):
        values = _tree_paths(estimator, inputs)
    elif hasattr(estimator, "coef_"):
        values = _linear(estimator, inputs)
    else:
        raise ValueError(
            f"No contribution method for {type(estimator).__name__}; reason codes support "
            "XGBoost, CatBoost, scikit-learn tree ensembles and linear models."
        )
    encoded = list(preprocess.get_feature_names_out())
    attributes = [original_feature(name, list(rows.columns)) for name in encoded]
    return pd.DataFrame(values, index=rows.index, columns=encoded).T.groupby(
        attributes, sort=False
    ).sum().T


def reason_codes(contribution: pd.DataFrame, n_reasons: int) -> pd.DataFrame:
    """The ``n_reasons`` attributes with the largest contribution to each row's PD, largest first.

    Tree contributions are relative to the average applicant, so for an applicant declined
    with a PD below the average (the cut-off can be) every contribution may be negative:
    the reasons are then the attributes that lowered the PD least, the usual reading of
    an adverse-action reason ("what counted most against you").
    """
    order = np.argsort(-contribution.to_numpy(), axis=1, kind="stable")[:, :n_reasons]
    return pd.DataFrame(
        np.asarray(contribution.columns, dtype=object)[order],
        index=contribution.index,
        columns=[f"reason_{i}" for i in range(1, n_reasons + 1)],
    )
