"""Code-free model files: the skops allow-list covers everything the project saves, and the
readers refuse what is not on it or not a code-free format, before rebuilding anything."""

import mlflow.sklearn
import numpy as np
import pytest
import skops.io
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from credit_scoring.data.schema import features, target
from credit_scoring.models.calibration import PDCalibrator
from credit_scoring.models.estimators import PREPROCESSING, build_estimator
from credit_scoring.models.families import load_flavour_folder
from credit_scoring.models.model_files import (
    SKOPS_TRUSTED_TYPES,
    UnsafeModelError,
    check_savable,
    load_skops,
)
from tests.conftest import loan_book_model_input

SKLEARN_ESTIMATORS = [
    "sklearn.linear_model.LogisticRegression",
    "sklearn.ensemble.RandomForestClassifier",
    "sklearn.dummy.DummyClassifier",
]


def saved_types(obj) -> set[str]:
    return set(skops.io.get_untrusted_types(data=skops.io.dumps(obj)))


def test_the_allow_list_covers_every_object_the_project_saves(loan_book, loan_book_params):
    train, _, schema = loan_book_model_input(loan_book, loan_book_params)
    X, y = features(train, schema), target(train, schema)
    needed = set()
    for recipe in PREPROCESSING:
        needed |= saved_types(PREPROCESSING[recipe](schema).fit(X, y))
    for estimator in SKLEARN_ESTIMATORS:
        spec = {"estimator": estimator, "params": {}, "preprocessing": "one_hot_scaled"}
        needed |= saved_types(build_estimator(spec, schema, 0).fit(X, y)[-1])
    for method in ("platt", "isotonic"):
        needed |= saved_types(PDCalibrator(method).fit(np.linspace(0.01, 0.99, len(y)), y))
    assert needed <= set(SKOPS_TRUSTED_TYPES), (
        f"add {sorted(needed - set(SKOPS_TRUSTED_TYPES))} to SKOPS_TRUSTED_TYPES"
    )
    assert list(SKOPS_TRUSTED_TYPES) == sorted(SKOPS_TRUSTED_TYPES)


class Unvetted:
    """A class nobody put on the allow-list."""


def test_a_skops_file_with_a_type_off_the_allow_list_is_refused(tmp_path):
    skops.io.dump({"rows": np.arange(3)}, tmp_path / "plain.skops")
    assert load_skops(tmp_path / "plain.skops")["rows"].sum() == 3
    skops.io.dump({"rows": np.arange(3), "extra": Unvetted()}, tmp_path / "odd.skops")
    with pytest.raises(UnsafeModelError, match=r"odd.skops holds types .*\['tests.models.test_model_files.Unvetted'\]"):
        load_skops(tmp_path / "odd.skops")


def test_a_pickled_sklearn_flavour_is_refused_before_it_is_opened(tmp_path):
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    mlflow.sklearn.save_model(model, tmp_path / "pickled", serialization_format="cloudpickle",
                              pip_requirements=[])
    (tmp_path / "pickled" / "model.pkl").write_bytes(b"not even a pickle")  # never read
    with pytest.raises(UnsafeModelError, match="'cloudpickle'.* only .*skops.* is read"):
        load_flavour_folder(tmp_path / "pickled")


def test_an_estimator_off_the_allow_list_is_refused_before_anything_is_logged():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = HistGradientBoostingClassifier(max_iter=2).fit(X, [0, 0, 1, 1])
    with pytest.raises(UnsafeModelError, match="estimator .*SKOPS_TRUSTED_TYPES"):
        check_savable(model, "estimator")
