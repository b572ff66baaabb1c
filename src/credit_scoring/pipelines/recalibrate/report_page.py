"""The recalibration's own validation report and what the registry files with the version."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from mlflow.pyfunc import PyFuncModel

from credit_scoring.decisions import PDScorer
from credit_scoring.validation.backtesting import POPULATION
from credit_scoring.validation.report import Items, render

from .nodes import parent_identity

REPORT = "recalibration_report"


def recalibrated_version(
    scoring_model: PyFuncModel,
    recalibrated: PDScorer,
    cutoff_rule: str,
    sample: dict[str, Any],
    comparison: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """The version to register (model, lineage, metrics) with its report (HTML and JSON),
    verdict and the gate's decision, for ``io.registry.RecalibratedVersionDataset``."""
    parent = parent_identity(scoring_model)
    window = sample["window"]
    policy = recalibrated.policy
    lineage = {"parent_version": parent["version"], "parent_run_id": parent["run_id"],
               "fit_window": window["fit"], "holdout_window": window["holdout"],
               "method": params["method"]}
    summary = pd.DataFrame([
        ("verdict", comparison["verdict"]),
        ("parent", f"{parent['name']} version {parent['version']}"),
        ("fitted on", f"outcomes of {window['fit'][0]} to {window['fit'][1]} "
                      f"({len(sample['fit'])} approved applicants)"),
        ("validated on", f"outcomes of {window['holdout'][0]} to {window['holdout'][1]} "
                         f"({len(sample['holdout'])} approved applicants), never fitted on"),
        ("decision", "; ".join(comparison["reasons"])),
        ("cut-off", f"{policy.cutoff:.4f} (score {policy.cutoff_score}), set by {cutoff_rule}"),
        ("registry", comparison["gate"]["message"]),
    ], columns=["item", "value"])
    sections = [
        {"id": "holdout", "title": "Parent against recalibrated, on held-out outcomes",
         "text": f"On {POPULATION}. The estimator is unchanged: only the calibrator, the cut-off "
                 "and the bands are new, so calibration must improve and the ranking must hold.",
         "blocks": [comparison["table"]]},
        {"id": "bands", "title": "Default rate against PD per score band (held out)",
         "text": f"Jeffreys test of each new band, on {POPULATION}.",
         "blocks": [comparison["bands"]]},
        {"id": "limitations", "title": "Limitations",
         "text": "What this recalibration cannot see.",
         "blocks": [Items("Selection", [
             "Outcomes exist for the applicants the parent approved: the calibration, the "
             "cut-off and every figure here are on them; no reject inference corrects for it.",
             "The bands and the score's PSI baseline are fixed on everyone the fit window "
             "scored (no outcome needed); the features' baselines and the reasons' reference "
             "stay the parent's development sample."])]},
    ]
    document = {"verdict": comparison["verdict"], "promote": comparison["promote"],
                "reasons": comparison["reasons"], "lineage": lineage,
                "cutoff": {"pd": policy.cutoff, "score": policy.cutoff_score,
                           "rule": cutoff_rule},
                "tables": {"holdout": comparison["table"].to_dict(orient="records"),
                           "bands": comparison["bands"].to_dict(orient="records")}}
    new = comparison["table"].set_index("model")
    metrics = {f"holdout_{name}_{model}": float(new.loc[model, name])
               for model in ("parent", "recalibrated")
               for name in ("citl_ratio", "citl_z", "brier", "log_loss", "auc")}
    return {
        "scorer": recalibrated, "parent": parent, "lineage": lineage, "params": params,
        "metrics": metrics, "verdict": comparison["verdict"], "promote": comparison["promote"],
        "gate": comparison["gate"],
        "decision_report": "\n".join(f"- **{item}**: {value}" for item, value in
                                     summary.itertuples(index=False)),
        "files": {f"{REPORT}.html": render("Recalibration report", summary, sections),
                  f"{REPORT}.json": json.dumps(document, indent=2, default=str)},
    }

