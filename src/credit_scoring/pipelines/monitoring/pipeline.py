"""monitoring: the scored batches over time, their alerts, the backtest, and whether the
model is still fit to use.

`kedro run --pipelines monitoring` reads `monitoring_history` (every batch `kedro run
--pipelines scoring` recorded) and, when the file exists, `outcomes` (observed defaults of
scored applicants), and writes data/08_reporting/monitoring/monitoring_report.html and .json
(also logged to the run in MLflow) and the alerts as CSV. Rules: parameters_monitoring.yml.
Not part of the default `kedro run`: it runs after batches have been scored.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import backtest_batches, batch_table, monitoring_alerts
from .report_page import monitoring_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                monitoring_alerts,
                inputs=["monitoring_history", "params:monitoring"],
                outputs="monitoring_alerts",
                name="monitoring_alerts",
            ),
            Node(
                backtest_batches,
                inputs=["monitoring_history", "outcomes", "params:monitoring",
                        "params:validation"],
                outputs="backtest",
                name="backtest_batches",
            ),
            Node(
                batch_table,
                inputs=["monitoring_history", "monitoring_alerts"],
                outputs="monitoring_batches",
                name="batch_table",
            ),
            Node(
                monitoring_report,
                inputs=["monitoring_history", "monitoring_batches", "monitoring_alerts",
                        "backtest", "params:monitoring"],
                outputs=["monitoring_report_html", "monitoring_report_json"],
                name="monitoring_report",
            ),
        ],
        tags=["monitoring"],
    )
