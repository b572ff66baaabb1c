"""MLflow "model from code": raw applicant rows -> PD (and, for the champion, a decision).

MLflow logs this file itself (no pickled Python object). The logged model holds the
fitted preprocessing (skops), the estimator saved by its framework's own MLflow flavour
(``mlflow.sklearn`` in skops format, ``mlflow.xgboost`` as UBJ, ``mlflow.catboost`` as
``.cb``) and, when calibrated, the PD calibrator (skops). ``load_context`` reads them with
``credit_scoring.model_files``: code-free formats only, skops types checked against the
project's allow-list, never against a list the model folder carries.

A model logged with a ``decision`` policy (the champion) returns a table of ``pd``,
``score`` (scorecard points) and ``decision`` (accept / decline at the cut-off) and, with
``params={"reason_codes": n}``, the ``n`` attributes that pushed each declined
applicant's PD up most (``reason_1`` ...); otherwise it returns the PD alone.

``load_code_free`` rebuilds the same pyfunc from a model folder without this file (a Hub
release ships none): the installed class reads the folder's artifacts and configuration.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.models import Model, set_model
from mlflow.pyfunc import PyFuncModel, PythonModel, PythonModelContext
from mlflow.pyfunc.model import _PythonModelPyfuncWrapper

from credit_scoring.decisions import decision_table
from credit_scoring.estimators import predict_pd
from credit_scoring.explain import contributions, reason_codes
from credit_scoring.model_files import inside, load_native_estimator, load_skops, mlmodel


class PDModel(PythonModel):
    """Predicts the probability of default (the "bad" class) for raw applicant rows."""

    def load_context(self, context) -> None:
        self.preprocess = load_skops(context.artifacts["preprocessing"])
        self.estimator = load_native_estimator(context.artifacts["estimator"])
        self.calibrator = None
        if "calibrator" in context.artifacts:
            self.calibrator = load_skops(context.artifacts["calibrator"])
        self.decision = context.model_config.get("decision")

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


def load_code_free(folder: Path) -> PyFuncModel:
    """The pyfunc MLflow would load from ``folder``, built by the installed ``PDModel``.

    Reads only the artifacts and configuration ``MLmodel`` lists; runs nothing from the folder.
    """
    meta = Model.from_dict(mlmodel(folder))
    flavour = meta.flavors["python_function"]
    artifacts = {name: str(inside(folder, info["path"]))
                 for name, info in flavour["artifacts"].items()}
    context = PythonModelContext(artifacts=artifacts, model_config=flavour.get("config") or {})
    model = PDModel()
    model.load_context(context)
    # the wrapper mlflow.pyfunc.load_model puts around a PythonModel (schema, params)
    return PyFuncModel(model_meta=meta,
                       model_impl=_PythonModelPyfuncWrapper(model, context, meta.signature))


set_model(PDModel())
