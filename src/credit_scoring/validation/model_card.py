"""Page one of the validation report: what the model is, where it comes from, what it
cannot claim, and who signs it. Pure functions of the model version, its schema and the
report's tables; the values a machine reads (git, package versions, file hashes) are
gathered by ``credit_scoring.io.provenance`` and passed in.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from credit_scoring.models import families

SIGN_OFF_ROLES = ("prepared by", "reviewed by (independent validation)", "approved by")


class ModelCardSettings(BaseModel):
    """``validation.model_card``: the model owner's words on page one."""

    model_config = ConfigDict(extra="forbid")
    purpose: StrictStr
    scope: StrictStr
    default_horizon: StrictStr | None = None
    data: StrictStr | None = None
    data_card: StrictStr | None = None
    small_band_below: int = Field(ge=1)
    limitations: list[StrictStr] = []
    overrides: list[dict[str, Any]] = []


def _items(pairs: list[tuple[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["item", "value"]).astype({"value": str})


def model_card(model_version: dict[str, Any], feature_schema: dict[str, Any],
               discrimination_table: pd.DataFrame, data_quality: dict[str, Any],
               card: dict[str, Any]) -> pd.DataFrame:
    """Purpose and scope, the default definition, the sample, the features and the method."""
    scorer = model_version["model"]
    policy = scorer.policy
    target = feature_schema["preparation"]["target"]
    protected = feature_schema.get("protected_attributes") or {}
    sample = discrimination_table.set_index("sample")
    dropped = data_quality.get("dropped_features") or {}
    constraints = {k: v for k, v in policy.constraints.model_dump().items() if v is not None}
    return _items([
        ("purpose", card["purpose"]),
        ("scope", card["scope"]),
        ("default definition", f"{target['column']} = {target['bad_label']!r} (bad), against "
                               + (repr(target["good_label"]) if target.get("good_label")
                                  is not None else "every other value")
                               + (f", within {card['default_horizon']}"
                                  if card.get("default_horizon") else
                                  "; horizon not configured (validation.model_card.default_horizon)")),
        ("development sample", "; ".join(
            f"{name}: {int(row.applicants):,} applicants, {int(row.bads):,} bads "
            f"({row.bads / row.applicants:.1%})" for name, row in sample.iterrows())),
        ("dates", _windows(feature_schema)),
        ("exclusions", f"{len(dropped)} features dropped as empty or constant"
                       + (f" ({', '.join(dropped)})" if dropped else "")
                       + f"; {data_quality.get('test_rows_seen_in_training', 0)} test applicants "
                         "identical to a training applicant"),
        ("features", f"{len(scorer.features)} ({len(feature_schema.get('numeric', []))} numeric, "
                     f"{len(feature_schema.get('categorical', []))} categorical in the input)"),
        ("protected attributes", (
            f"{', '.join(protected['columns'])}: policy {protected['policy']}"
            + (" (not model features; kept for the fairness screen)"
               if protected["policy"] == "exclude" else " (model features, never cited)"))
         if protected.get("columns") else "none configured"),
        ("method", f"{scorer.family} ({families.COMPLEXITY[families.complexity(scorer.family)]}), "
                   f"candidate {model_version['tags'].get('candidate', '?')}; calibration "
                   f"{model_version['tags'].get('calibration', '?')}"),
        ("why this candidate", model_version["tags"].get(
            "selection_reason", "not recorded (registered before versions carried it)")),
        ("cut-off rule", f"decline when PD >= {policy.cutoff:.4f} (score {policy.cutoff_score}): "
                         f"the least expected cost on out-of-fold PDs for costs accept-bad "
                         f"{policy.costs.accept_bad:g}, decline-good {policy.costs.decline_good:g}"
                         + (f", constraints {constraints}" if constraints else "")),
    ])


def _windows(feature_schema: dict[str, Any]) -> str:
    """The split in time: the date column, both windows, the vintage and the CV folds."""
    if not feature_schema.get("date_column"):
        return "none: the sample has no application date"
    time = feature_schema.get("time") or {}
    if not time:
        return feature_schema["date_column"]
    return (f"{time['date_column']}: development {time['development'][0]} to "
            f"{time['development'][1]}, out of time (test) {time['out_of_time'][0]} to "
            f"{time['out_of_time'][1]}; vintages by {time['vintage']}; CV folds {time['cv']}"
            .replace("CV folds time_series", "time-ordered CV folds"))


def provenance(model_version: dict[str, Any], code_version: str, packages: dict[str, str],
               sources: dict[str, Any], seeds: dict[str, Any], report_date: str) -> pd.DataFrame:
    """Code version, data fingerprints, package versions, seeds, MLflow run and version."""
    trained_with = model_version["tags"].get("code_version", "not recorded (registered before "
                                                                   "versions carried it)")
    return _items([
        ("report date", report_date),
        ("model version", f"{model_version['name']} version {model_version['version']}"),
        ("MLflow run", model_version["run_id"]),
        ("code version (model)", trained_with),
        ("code version (this report)", code_version),
        *([(f"data: {name}", f"{source['path']} sha256 {source['sha256']} "
                             f"({source['bytes']:,} bytes)" if source and source.get("sha256")
            else (source or {}).get("path", "not recorded"))
           for name, source in sources.items()]
          or [("data", "not recorded: the feature build predates data fingerprints (rerun "
                       "`kedro run --pipelines feature_engineering`)")]),
        ("packages", ", ".join(f"{name} {version}" for name, version in packages.items())),
        ("seeds", ", ".join(f"{key} = {value}" for key, value in seeds.items()) or "none"),
    ])


def seeds_of(parameters: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every ``seed`` and ``random_state`` in the run's parameters, by dotted key."""
    found = {}
    for key, value in parameters.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found |= seeds_of(value, f"{name}.")
        elif key in ("seed", "random_state"):
            found[name] = value
    return found


def limitations(feature_schema: dict[str, Any], band_table: pd.DataFrame,
                card: dict[str, Any]) -> list[str]:
    """What the evidence cannot support, generated from the data and the configuration."""
    notes = []
    if not feature_schema.get("date_column"):
        notes.append("No out-of-time sample: test is a random split of the development "
                     "period, so nothing here shows the model holds on a later period.")
    test = band_table[band_table["sample"] == "test"]
    if len(test) and test["applicants"].min() < card["small_band_below"]:
        notes.append(f"Small score bands: {int(test['applicants'].min())} to "
                     f"{int(test['applicants'].max())} test applicants per band, so per-band "
                     "tests (Jeffreys, monotonicity) have little power.")
    notes += [f"Data: {card['data']}"] if card.get("data") else []
    notes += list(card.get("limitations") or [])
    return notes


def overrides_table(overrides: list[dict[str, Any]]) -> pd.DataFrame:
    if not overrides:
        return pd.DataFrame({"override": ["none recorded"]})
    return pd.DataFrame(overrides)


def sign_off_table() -> pd.DataFrame:
    return pd.DataFrame({"role": SIGN_OFF_ROLES, "name": [""] * 3, "date": [""] * 3,
                         "signature": [""] * 3})
