"""recalibrate: a new calibration of the champion on backtested outcomes, registered as a
new version, validated on later outcomes its fit never saw, and gated.

`kedro run --pipelines recalibrate` reads the champion (`scoring_model`), the monitoring
history its scoring runs recorded and the `outcomes` file; it refits the calibrator on the
fit window (`recalibrate.fit_batches`), recomputes the cut-off and bands by the champion's
own rules, compares parent and recalibrated PDs on the held-out latest batches
(`recalibrate.holdout_batches`), and registers the version with its lineage and its report
(data/08_reporting/recalibration/). The alias `champion` moves only when calibration
improves there and discrimination holds (`validation.gate`). Not part of the default
`kedro run`.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import holdout_comparison, recalibration_sample, refit_calibration
from .report_page import recalibrated_version


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                recalibration_sample,
                inputs=["scoring_model", "monitoring_history", "outcomes",
                        "params:recalibrate", "params:monitoring"],
                outputs="recalibration_sample",
                name="recalibration_sample",
            ),
            Node(
                refit_calibration,
                inputs=["scoring_model", "recalibration_sample", "params:recalibrate",
                        "params:thresholding"],
                outputs=["recalibrated_model", "recalibrated_cutoff_rule"],
                name="refit_calibration",
            ),
            Node(
                holdout_comparison,
                inputs=["scoring_model", "recalibrated_model", "recalibration_sample",
                        "params:recalibrate", "params:monitoring", "params:validation"],
                outputs="recalibration_comparison",
                name="holdout_comparison",
            ),
            Node(
                recalibrated_version,
                inputs=["scoring_model", "recalibrated_model", "recalibrated_cutoff_rule",
                        "recalibration_sample", "recalibration_comparison",
                        "params:recalibrate"],
                outputs="recalibrated_version",
                name="recalibrated_version",
            ),
        ],
        tags=["recalibrate"],
    )
