"""model_comparison in memory: tree families on the shared folds, selection and report."""

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from credit_scoring.pipelines.model_comparison import create_pipeline
from credit_scoring.pipelines.model_comparison.nodes import ranking_sample, select_family
from tests.conftest import KeptDataset, loan_book_model_input

SMALL_CANDIDATES = {
    "random_forest": {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 30, "min_samples_leaf": 5, "n_jobs": 1},
        "preprocessing": "one_hot",
    },
    "xgboost": {
        "estimator": "xgboost.XGBClassifier",
        "params": {"n_estimators": 30, "max_depth": 2, "enable_categorical": True, "n_jobs": 1},
        "preprocessing": "native_categorical",
    },
    "catboost": {
        "estimator": "catboost.CatBoostClassifier",
        "params": {"iterations": 30, "depth": 3, "verbose": 0, "thread_count": 1,
                   "allow_writing_files": False},
        "preprocessing": "native_categorical",
        "categorical_features_param": "cat_features",
    },
}


@pytest.fixture
def comparison_outputs(loan_book, loan_book_params):
    train, test, schema = loan_book_model_input(loan_book, loan_book_params)
    stage = {"candidates": SMALL_CANDIDATES, "random_state": 1,
             "selection_metric": "gini", "class_weighting": None, "sample_rows": None}
    pipeline = create_pipeline()
    catalog = DataCatalog(
        datasets={
            "model_input_train": MemoryDataset(train),
            "model_input_test": MemoryDataset(test),
            "feature_schema": MemoryDataset(schema),
            **{name: KeptDataset(copy_mode="assign") for name in pipeline.all_outputs()},
            **{f"params:model_comparison.{k}": MemoryDataset(v) for k, v in stage.items()},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


def test_every_family_is_cross_validated_on_the_shared_folds(comparison_outputs):
    metrics = comparison_outputs["model_comparison.metrics"]
    assert set(metrics["candidate"]) == set(SMALL_CANDIDATES)
    assert (metrics["cv_roc_auc_mean"] > 0.6).all()  # the synthetic signal is learnt
    oof = comparison_outputs["model_comparison.oof_predictions"]
    assert oof[list(SMALL_CANDIDATES)].notna().all().all()
    assert oof["cv_fold"].nunique() == 3


def test_selected_family_is_the_argmax_of_the_cv_selection_metric(comparison_outputs):
    metrics = comparison_outputs["model_comparison.metrics"]
    selected = comparison_outputs["selected_family"]
    best = metrics.loc[metrics["cv_gini_mean"].idxmax()]
    assert selected["candidate"] == best["candidate"]
    assert selected["cv_score_mean"] == pytest.approx(best["cv_gini_mean"])
    assert selected["spec"] == SMALL_CANDIDATES[best["candidate"]]


def test_report_has_table_curves_and_importance(comparison_outputs):
    table = comparison_outputs["model_comparison.metrics_markdown"]
    assert table.splitlines()[0].startswith("|   rank | candidate")
    for figure in ("roc_curves", "precision_recall_curves", "best_feature_importance"):
        assert isinstance(comparison_outputs[f"model_comparison.{figure}_plot"], Figure)
    importance = comparison_outputs["model_comparison.feature_importance"].set_index("feature")
    assert {"region", "product_code", "loan_to_income"} <= set(importance.index)


def test_selection_never_looks_at_test_metrics():
    metrics = pd.DataFrame(
        {"candidate": ["cv_best", "test_best"], "cv_roc_auc_mean": [0.80, 0.70],
         "cv_roc_auc_std": [0.01, 0.01], "test_roc_auc": [0.60, 0.95]}
    )
    assert select_family(metrics, {"cv_best": {}, "test_best": {}}, "roc_auc")["candidate"] == (
        "cv_best"
    )


def test_families_are_ranked_on_a_stratified_sample_that_keeps_folds_and_bad_shares(
    loan_book, loan_book_params
):
    train, _, schema = loan_book_model_input(loan_book, loan_book_params)
    fold, bad = schema["fold_column"], schema["target"]
    sample = ranking_sample(train, schema, 200, random_state=0)
    share = 200 / len(train)
    for (f, b), stratum in train.groupby([fold, bad]):
        drawn = sample[(sample[fold] == f) & (sample[bad] == b)]
        assert len(drawn) == round(share * len(stratum))  # every fold x outcome in proportion
    assert sample.index.is_monotonic_increasing and sample.index.isin(train.index).all()
    assert sample[fold].equals(train.loc[sample.index, fold])  # rows keep their folds
    assert ranking_sample(train, schema, 200, random_state=0).equals(sample)  # seeded
    assert ranking_sample(train, schema, None, 0) is train
    assert ranking_sample(train, schema, len(train), 0) is train
