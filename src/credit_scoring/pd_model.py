"""MLflow "model from code": raw applicant rows -> PD (and, for the champion, a decision).

MLflow logs this file itself (no pickled Python object). The logged model holds the
fitted preprocessing (skops, which rebuilds only the listed trusted classes), the
estimator saved by its framework's own MLflow flavour (``mlflow.sklearn`` in skops
format, ``mlflow.xgboost`` as UBJ, ``mlflow.catboost`` as ``.cbm``, loadable on its own
with ``mlflow.<flavour>.load_model``) and, when calibrated, the PD calibrator (skops).

A model logged with a ``decision`` policy (the champion) returns a table of ``pd``,
``score`` (scorecard points) and ``decision`` (accept / decline at the cut-off) and, with
``params={"reason_codes": n}``, the ``n`` attributes that pushed each declined
applicant's PD up most (``reason_1`` ...); otherwise it returns the PD alone.
"""

from __future__ import annotations

import importlib

import pandas as pd
import skops.io
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from credit_scoring.decisions import decision_table
from credit_scoring.estimators import predict_pd
from credit_scoring.explain import contributions, reason_codes


class PDModel(PythonModel):
    """Predicts the probability of default (the "bad" class) for raw applicant rows."""

    def load_context(self, context) -> None:
        config = context.model_config
        self.preprocess = skops.io.load(
            context.artifacts["preprocessing"], trusted=config["preprocessing_trusted_types"]
        )
        flavour = importlib.import_module(f"mlflow.{config['estimator_flavour']}")
        self.estimator = flavour.load_model(context.artifacts["estimator"])
        self.calibrator = None
        if "calibrator" in context.artifacts:
            self.calibrator = skops.io.load(
                context.artifacts["calibrator"], trusted=config["calibrator_trusted_types"]
            )
        self.decision = config.get("decision")

    def predict(self, context, model_input: pd.DataFrame, params=None):
        pd_scores = predict_pd(self.preprocess, self.estimator, self.calibrator, model_input)
        if self.decision is None:
            return pd_scores
        table = decision_table(pd_scores, self.decision, index=model_input.index)
        n_reasons = int((params or {}).get("reason_codes", 0))
        if n_reasons > 0:
            declined = model_input[table["decision"] == "decline"]
            contribution = (
                contributions(self.preprocess, self.estimator, declined)
                if len(declined) else pd.DataFrame(index=declined.index, columns=model_input.columns)
            )
            table = table.join(reason_codes(contribution, n_reasons))
        return table


set_model(PDModel())
