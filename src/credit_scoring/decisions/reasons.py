"""Reason codes: why a declined applicant's PD is high, in the model's own contributions.

Each declined applicant gets the attributes that raised its PD most (``top_reasons``),
with the value the model saw. Wave 3 turns these into statements an applicant can read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def top_reasons(contribution: pd.DataFrame | None, model_input: pd.DataFrame,
                n_reasons: int) -> dict[str, np.ndarray]:
    """The ``n_reasons`` attributes that raised each row's PD most, with their values.

    Args:
        contribution: each row's contribution per model input column (positive = pushes
            the PD up); None for a model without contributions.
        model_input: the rows as the model saw them (after cleaning).

    Returns:
        ``reason_k`` names the attribute, ``reason_k_value`` is the applicant's value, as
        text; None where there is nothing to name.
    """
    table = {name: np.full(len(model_input), None, dtype=object)
             for k in range(1, n_reasons + 1)
             for name in (f"reason_{k}", f"reason_{k}_value")}
    if contribution is None:
        return table
    order = np.argsort(-contribution.to_numpy(), axis=1, kind="stable")[:, :n_reasons]
    names = np.asarray(contribution.columns, dtype=object)
    values = model_input[list(contribution.columns)].to_numpy(dtype=object)
    rows = np.arange(len(model_input))
    for k in range(order.shape[1]):
        table[f"reason_{k + 1}"] = names[order[:, k]]
        table[f"reason_{k + 1}_value"] = np.array(
            [_reason_value(v) for v in values[rows, order[:, k]]], dtype=object)
    return table


def _reason_value(value: Any) -> str | None:
    """A reason's value as a reviewer reads it: 48 not 48.0; None for missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else f"{value:.4g}"
    return str(value)
