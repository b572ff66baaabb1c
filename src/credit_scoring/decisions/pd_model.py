"""MLflow "model from code" entry point of every PD model the project logs.

MLflow stores this file with the model and runs it on load; it names the pyfunc class
(``scorer.PDModel``), which rebuilds the ``PDScorer`` from the model's artifacts: the
estimator in its framework's native format, preprocessing and calibrator in skops (types
checked against ``model_files.SKOPS_TRUSTED_TYPES``), the rest plain configuration. The
package itself travels in the model's ``code`` folder, so the model loads wherever its
pinned requirements are installed.
"""

from mlflow.models import set_model

from credit_scoring.decisions.scorer import PDModel

set_model(PDModel())
