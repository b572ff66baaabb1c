"""MLflow "model from code": raw applicant rows -> PD, around a natively stored estimator.

MLflow logs this file itself (no pickled Python object). The logged model holds two
artifacts: the fitted preprocessing (skops, which rebuilds only the listed trusted
classes) and the estimator saved by its framework's own MLflow flavour
(``mlflow.sklearn`` in skops format, ``mlflow.xgboost`` as UBJ, ``mlflow.catboost`` as
``.cbm``), loadable on its own with ``mlflow.<flavour>.load_model``.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import skops.io
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel


class PDModel(PythonModel):
    """Predicts the probability of default (the "bad" class) for raw applicant rows."""

    def load_context(self, context) -> None:
        config = context.model_config
        self.preprocess = skops.io.load(
            context.artifacts["preprocessing"], trusted=config["preprocessing_trusted_types"]
        )
        flavour = importlib.import_module(f"mlflow.{config['estimator_flavour']}")
        self.estimator = flavour.load_model(context.artifacts["estimator"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        return self.estimator.predict_proba(self.preprocess.transform(model_input))[:, 1]


set_model(PDModel())
