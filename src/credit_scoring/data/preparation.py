"""Cleaning and feature recipes shared by training (data_processing) and scoring.

One implementation for both, so an applicant is typed, cleaned and given the same
engineered features whether the model learns from them or scores them.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from credit_scoring.data.schema import (
    check_unseen_categories,
    examples,
    features,
    needed_columns,
    numeric_columns,
    valid_ranges,
    validate_scoring,
)

logger = logging.getLogger(__name__)


def _as_text(values: pd.Series) -> pd.Series:
    """Category labels as stripped text; integer codes keep no '.0'; blanks become missing.

    Returned as a pandas ``Categorical`` whose levels are the cleaned labels: each distinct
    value is cleaned once (a million rows hold a few dozen levels), and the native-category
    encoding downstream reuses the codes instead of comparing strings row by row.
    """
    codes, levels = pd.factorize(values)
    # each label on its own: 2.0 is "2" whatever else the batch holds
    text = pd.Series([str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                      for v in levels], dtype="str").str.strip()
    labels = pd.Index(text[text != ""].unique())
    level_code = labels.get_indexer(text)  # a blank label -> -1, missing
    return pd.Series(pd.Categorical.from_codes(
        np.where(codes >= 0, np.append(level_code, -1)[codes], -1), categories=labels),
        index=values.index)


def clean_applicants(applicants: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Type columns, normalise missing values, blank out domain errors and encode the target.

    - configured ``columns.drop`` are removed (e.g. protected attributes, leakage columns);
    - ``special_values`` the data documents as codes, not values (Home Credit's
      ``DAYS_EMPLOYED = 365243``), become missing;
    - text is stripped and empty strings become missing; ``columns.categorical`` are forced
      to text, ``columns.numeric`` to numbers, every numeric feature to float so that a
      missing value at scoring time does not change the model's input types;
    - values outside ``valid_ranges`` are impossible for the domain (an age of 250) and
      become missing, to be imputed inside the model, rather than silently trusted;
    - the target becomes 1 for the configured bad label and 0 otherwise (PD convention).
    """
    target = params["target"]
    columns = params["columns"]
    # the id and the application date are kept as they are: no feature is typed from them
    not_features = {target["column"], params.get("id_column"),
                    (params.get("split") or {}).get("date_column")} - {None}
    clean = applicants.drop(columns=columns.get("drop", []), errors="ignore")
    for column, codes in (params.get("special_values") or {}).items():
        if column in clean.columns:  # scoring prepares only the columns the model needs
            special = clean[column].isin(codes)
            if special.any():
                logger.info("%d value(s) of '%s' are special codes %s: set to missing.",
                            int(special.sum()), column, codes)
                clean[column] = clean[column].mask(special)

    numeric = set(numeric_columns(clean, params))
    categorical = set(columns.get("categorical", [])) | {
        c for c in clean.columns
        if c not in numeric and not pd.api.types.is_numeric_dtype(clean[c])
    }
    for column in clean.columns.difference(list(not_features)):
        if column in categorical:
            clean[column] = _as_text(clean[column])
        elif pd.api.types.is_numeric_dtype(clean[column]):
            clean[column] = clean[column].astype(float)
        else:  # numbers stored as text; validation made sure every non-blank one parses
            clean[column] = pd.to_numeric(_as_text(clean[column]), errors="raise").astype(float)

    for column, (low, high) in valid_ranges(params).items():
        if column not in clean.columns:  # scoring prepares only the columns the model needs
            continue
        bounds = (-np.inf if low is None else low, np.inf if high is None else high)
        outside = clean[column].notna() & ~clean[column].between(*bounds)
        if outside.any():
            logger.warning(
                "%d value(s) of '%s' outside the valid range [%s, %s] set to missing.",
                int(outside.sum()), column, *bounds,
            )
            clean.loc[outside, column] = np.nan

    if target["column"] in clean.columns:  # new applicants to score have no target yet
        clean[target["column"]] = (clean[target["column"]] == target["bad_label"]).astype("int8")
    return clean


def add_domain_features(applicants: pd.DataFrame, recipes: dict[str, Any]) -> pd.DataFrame:
    """Add the configured ratio features, e.g. monthly instalment = amount / duration.

    Each recipe names a numerator and a denominator column; a recipe whose columns are
    absent from this table is skipped with a warning, so the same config runs on a user's
    own applicant table. A zero denominator gives a missing value, not infinity.
    """
    features = applicants.copy()
    for name, recipe in recipes.get("ratios", {}).items():
        if recipe is None:  # switched off in this environment
            continue
        numerator, denominator = recipe["numerator"], recipe["denominator"]
        absent = [c for c in (numerator, denominator) if c not in features.columns]
        if absent:
            logger.warning("Feature recipe '%s' skipped: columns %s are absent.", name, absent)
            continue
        features[name] = features[numerator] / features[denominator].replace(0, np.nan)
    return features


def degenerate_features(table: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    """Features no model can learn from, with why: empty (no value in any row) or constant
    (one value on every row; a value beside missing ones is not, the gap is information)."""
    found = {}
    for column in columns:
        values = table[column]
        if values.isna().all():
            found[column] = "empty: no value in any training row"
        elif values.nunique(dropna=False) == 1:
            found[column] = f"constant: {examples(values.head(1), 1)[1:-1]} on every training row"
    return found


def rows_seen_in(reference: pd.DataFrame, rows: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Whether each of ``rows`` is identical, column for column, to a row of ``reference``
    (missing equals missing): a test applicant the model has, in effect, seen in training."""
    seen = pd.util.hash_pandas_object(reference[columns], index=False)
    return pd.util.hash_pandas_object(rows[columns], index=False).isin(set(seen))


def float32_exact(model_input: pd.DataFrame, columns: list[str]) -> list[str]:
    """The float ``columns`` whose every value is stored exactly in 32 bits (counts, days,
    flags, amounts below 2**24 in steps of a power of two): half the memory, the same numbers.

    Tree libraries split on 32-bit floats anyway; for the others nothing changes either,
    because no value changes.
    """
    exact = []
    for column in columns:
        values = model_input[column].to_numpy()
        if values.dtype == np.float64 and np.array_equal(
                values.astype(np.float32).astype(np.float64), values, equal_nan=True):
            exact.append(column)
    return exact


def prepare_for_model(applicants: pd.DataFrame, feature_schema: dict[str, Any]) -> pd.DataFrame:
    """Raw applicant rows -> the model's input columns, exactly as training prepared them.

    Checks the rows against the training contract, then cleans the columns the model
    needs and builds its features with the settings stored in ``feature_schema``. Column
    types come from the training schema, not from this batch: a categorical column that
    happens to be blank in every new row must not turn numeric.
    """
    validate_scoring(applicants, feature_schema)
    params = feature_schema["preparation"]
    columns = params["columns"]
    as_trained = {**params, "columns": {
        **columns,
        "categorical": [*columns.get("categorical", []), *feature_schema["categorical"]],
        "numeric": [*columns.get("numeric", []), *feature_schema["numeric"]],
    }}
    clean = clean_applicants(applicants[needed_columns(feature_schema)], as_trained)
    model_features = {*feature_schema["numeric"], *feature_schema["categorical"]}
    recipes = {"ratios": {name: recipe for name, recipe in
                          params["feature_recipes"].get("ratios", {}).items()
                          if name in model_features}}
    model_input = features(add_domain_features(clean, recipes), feature_schema)
    check_unseen_categories(model_input, feature_schema)
    # the 32-bit columns of training stay 32-bit: the estimator gets the very same inputs
    return model_input.astype(dict.fromkeys(feature_schema.get("float32", []), "float32"))
