"""data_processing.expected_effects: declared directions checked against the model input,
and, with enforce: true, obeyed by every boosted-tree family (its PD moves one way only)."""

import numpy as np
import pandas as pd
import pytest

from credit_scoring.data.schema import expected_effects
from credit_scoring.models.estimators import build_estimator

BOOSTED = {
    "xgboost": {"estimator": "xgboost.XGBClassifier",
                "params": {"n_estimators": 60, "max_depth": 3, "enable_categorical": True,
                           "tree_method": "hist"}},
    "lightgbm": {"estimator": "lightgbm.LGBMClassifier",
                 "params": {"n_estimators": 60, "verbose": -1}},
    "catboost": {"estimator": "catboost.CatBoostClassifier",
                 "params": {"iterations": 60, "verbose": 0, "thread_count": 1},
                 "categorical_features_param": "cat_features"},
}


def loan_table(n_rows=3_000, seed=0):
    """Risk rises with `burden` but wiggles (a free model follows the wiggle), falls with `age`."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"burden": rng.uniform(0, 3, n_rows), "age": rng.uniform(18, 80, n_rows),
                          "region": pd.Categorical(rng.choice(["n", "s"], n_rows))})
    logit = -1 + table["burden"] - 1.5 * np.sin(4 * table["burden"]) - 0.03 * (table["age"] - 40)
    table.loc[::17, "age"] = np.nan
    return table, (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)


def schema(enforce):
    return {"numeric": ["burden", "age"], "categorical": ["region"],
            **expected_effects({"enforce": enforce, "increasing": ["burden"],
                                "decreasing": ["age"]}, ["burden", "age"])}


def pd_along(model, table, column, grid):
    rows = pd.DataFrame({"burden": 1.0, "age": 40.0, column: grid,
                         "region": pd.Categorical(["n"] * len(grid), categories=["n", "s"])})
    return model.predict_proba(rows[table.columns])[:, 1]


@pytest.mark.parametrize("family", sorted(BOOSTED))
def test_enforced_directions_make_the_pd_move_one_way(family):
    table, y = loan_table()
    spec = {**BOOSTED[family], "preprocessing": "native_categorical"}
    grid = np.linspace(0, 3, 61)
    free = build_estimator(spec, schema(enforce=False), 0).fit(table, y)
    assert (np.diff(pd_along(free, table, "burden", grid)) < 0).any()  # it follows the wiggle
    model = build_estimator(spec, schema(enforce=True), 0).fit(table, y)
    assert (np.diff(pd_along(model, table, "burden", grid)) >= -1e-9).all()
    assert (np.diff(pd_along(model, table, "age", np.linspace(18, 80, 63))) <= 1e-9).all()


def test_a_family_without_constraints_stays_free_and_one_hot_boosting_is_refused():
    forest = {"estimator": "sklearn.ensemble.RandomForestClassifier",
              "params": {"n_estimators": 5}, "preprocessing": "one_hot"}
    assert build_estimator(forest, schema(enforce=True), 0)  # checked in validation only
    with pytest.raises(ValueError, match="native_categorical, or set enforce: false"):
        build_estimator({**BOOSTED["xgboost"], "preprocessing": "one_hot"}, schema(True), 0)


def test_a_direction_for_a_category_or_an_unknown_column_names_it():
    with pytest.raises(ValueError, match=r"\['region', 'agee'\].*Fix the names"):
        expected_effects({"increasing": ["region"], "decreasing": ["agee"]}, ["burden", "age"])
    assert expected_effects({}, ["burden"]) == {"expected_effects": {},
                                                "monotone_constraints": False}
