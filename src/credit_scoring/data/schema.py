"""Applicant-table contract: raw-data validation and the feature schema every stage shares.

All knowledge of *which* column is the target, the id or a feature comes from parameters
(``parameters_data_processing.yml``) or from the ``feature_schema`` dataset that
data_processing persists; no column name of any particular data set lives here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

TARGET_KEY = "data_processing.target"
PREPARATION_KEYS = (
    "target", "id_column", "columns", "special_values", "valid_ranges", "feature_recipes")
"""data_processing settings a raw row is prepared with, at training and at scoring alike."""


LARGEST_NUMBER = float(np.finfo(np.float32).max)
"""Beyond it a number cannot be computed with: tree libraries split on 32-bit floats, where
1e308 is infinite."""
SHOWN_CHARACTERS = 60
UNSEEN_CATEGORIES = {"refuse_share": 0.5, "min_rows": 20}
"""Defaults of ``columns.unseen_categories`` (also for models saved before the rule)."""


class ApplicantDataError(ValueError):
    """Raised when an applicant table cannot be used; the message names the column and the fix."""


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """A value as a message quotes it: its repr, cut at ``limit`` characters with the length
    said (a 10,000-character category must not fill the log)."""
    if isinstance(value, np.generic):
        value = value.item()  # 5.0, not np.float64(5.0)
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value)):,} characters)"


def examples(values, n: int = 3) -> str:
    """A few distinct values for a message, each ``shown``."""
    return "[" + ", ".join(shown(v) for v in pd.unique(pd.Series(values, dtype=object))[:n]) + "]"


def _target_labels(target: dict[str, Any], observed: pd.Series) -> list[Any]:
    """The two target labels the table must contain: bad first, then good."""
    column, bad = target["column"], target["bad_label"]
    good = target.get("good_label")
    values = list(observed.dropna().unique())
    if bad not in values:
        raise ApplicantDataError(
            f"Target column '{column}' never takes the bad label {bad!r} (values seen: "
            f"{values[:10]}). Set {TARGET_KEY}.bad_label to the value that marks a default."
        )
    if good is None:
        others = [v for v in values if v != bad]
        if len(others) != 1:
            raise ApplicantDataError(
                f"Target column '{column}' must be binary, but besides the bad label {bad!r} it "
                f"holds {others[:10]}. Map it to two values upstream, or set "
                f"{TARGET_KEY}.good_label so that other values are reported as errors."
            )
        good = others[0]
    return [bad, good]


def raw_schema(applicants: pd.DataFrame, params: dict[str, Any]) -> pa.DataFrameSchema:
    """Build the pandera schema a raw applicant table must satisfy under ``params``.

    The target must hold only the configured bad/good labels and no missing value; ids
    must be unique. Declared columns and number parsing are checked before, by
    ``validate_raw``.
    """
    import pandera.pandas as pa  # noqa: PLC0415  (imports PySpark when installed: training only)
    target = params["target"]
    labels = _target_labels(target, applicants[target["column"]])
    columns: dict[str, pa.Column] = {
        target["column"]: pa.Column(
            nullable=False,
            checks=pa.Check.isin(
                labels,
                error=f"target must be one of {labels}; fix the rows or {TARGET_KEY}.good_label",
            ),
        )
    }
    if params.get("id_column"):
        columns[params["id_column"]] = pa.Column(nullable=False, unique=True)
    return pa.DataFrameSchema(columns, strict=False)


def _not_numbers(values: pd.Series) -> pd.Series:
    """The non-blank values of ``values`` that do not parse as numbers."""
    if pd.api.types.is_numeric_dtype(values):
        return values.iloc[:0]
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    return text[pd.to_numeric(text, errors="coerce").isna()]


def _number_problem(column: str, bad: pd.Series, fix: str) -> str:
    return f"  - column '{column}': {len(bad)} value(s) are not numbers (e.g. {examples(bad)}); {fix}"


def _unusable_numbers(values: pd.Series) -> pd.Series:
    """The values that read as numbers but cannot be computed with: inf, a 400-digit number,
    1e308 (anything beyond ``LARGEST_NUMBER`` in size)."""
    if pd.api.types.is_bool_dtype(values):
        return values.iloc[:0]
    numbers = values if pd.api.types.is_numeric_dtype(values) else pd.to_numeric(
        values.astype(str).str.strip().where(values.notna()), errors="coerce")
    return values[numbers.abs() > LARGEST_NUMBER]


def _size_problem(column: str, bad: pd.Series, fix: str) -> str:
    return (f"  - column '{column}': {len(bad)} value(s) are infinite or too large to compute "
            f"with (beyond {LARGEST_NUMBER:.3g}; e.g. {examples(bad)}); {fix}")


def number_problems(table: pd.DataFrame, columns: list[str], fix: str) -> list[str]:
    """One line per column of ``columns`` holding text that is not a number, or numbers no
    model can compute with."""
    problems = []
    for column in columns:
        if len(bad := _not_numbers(table[column])):
            problems.append(_number_problem(column, bad, fix))
        elif len(bad := _unusable_numbers(table[column])):
            problems.append(_size_problem(column, bad, fix))
    return problems


def valid_ranges(params: dict[str, Any]) -> dict[str, list[float | None]]:
    """Column -> [min, max] domain rule; a rule set to null (in conf/local) is switched off."""
    return {c: rule for c, rule in (params.get("valid_ranges") or {}).items() if rule is not None}


def numeric_columns(applicants: pd.DataFrame, params: dict[str, Any]) -> list[str]:
    """Columns that must hold numbers: declared numeric, those with a valid range, and
    text columns whose non-blank values are at least ``columns.numeric_share`` numbers (a
    typo or an "n/a" must not turn an amount into a category with one level per value)."""
    share = params["columns"].get("numeric_share", 0.5)
    categorical = set(params["columns"].get("categorical", []))
    declared = [*params["columns"].get("numeric", []), *valid_ranges(params)]
    numeric = [c for c in declared if c not in categorical and c in applicants.columns]
    not_features = {params["target"]["column"], params.get("id_column")} | categorical
    for column in applicants.columns:
        values = applicants[column]
        if column in not_features or column in numeric or pd.api.types.is_numeric_dtype(values):
            continue
        filled = values.dropna().astype(str).str.strip()
        filled = filled[filled != ""]
        if len(filled) and 1 - len(_not_numbers(filled)) / len(filled) >= share:
            numeric.append(column)
    return list(dict.fromkeys(numeric))


def snake(name: str) -> str:
    """``DAYS_CREDIT`` -> ``days_credit``; ``AMT Credit (sum)`` -> ``amt_credit_sum``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def protected_sources(params: dict[str, Any], columns=()) -> dict[str, list[str]]:
    """Each protected attribute, and each feature built from one, -> its protected sources:
    a feature derived from a protected column follows it (excluded or never cited).

    Built means a ratio recipe with a protected input (or an input built from one, at any
    depth) or, among ``columns``, a feature-build aggregate of a protected column
    (``<table>__<column>__...``, which only policy allow lets a recipe build).
    """
    protected = list((params.get("protected_attributes") or {}).get("columns", []))
    found = {column: [column] for column in protected}
    by_name = {snake(column): column for column in protected}
    for column in columns:
        parts = str(column).split("__")
        if len(parts) > 2 and parts[1] in by_name:
            found.setdefault(column, [by_name[parts[1]]])
    ratios = {name: recipe for name, recipe in
              ((params.get("feature_recipes") or {}).get("ratios") or {}).items() if recipe}
    grown = True
    while grown:  # a ratio of a ratio of a protected column follows it too
        grown = False
        for name, recipe in ratios.items():
            sources = sorted({s for c in recipe.values() for s in found.get(c, [])})
            if sources and found.get(name) != sources:
                found[name], grown = sources, True
    return found


def kept_out_of_model(params: dict[str, Any]) -> list[str]:
    """Columns that are no model feature because of protected_attributes (policy exclude):
    they stay beside the model input, for the fairness screen only."""
    protected = params.get("protected_attributes") or {}
    return [] if protected.get("policy", "exclude") == "allow" else list(protected_sources(params))


def _declared_columns(params: dict[str, Any]) -> dict[str, str]:
    """Every column the parameters name -> the key that names it."""
    columns = params["columns"]
    named = {params["target"]["column"]: f"{TARGET_KEY}.column"}
    if params.get("id_column"):
        named[params["id_column"]] = "data_processing.id_column"
    for key in ("drop", "categorical", "numeric"):
        named.update({c: f"data_processing.columns.{key}" for c in columns.get(key, [])})
    named.update({c: "data_processing.valid_ranges" for c in valid_ranges(params)})
    named.update({c: "data_processing.special_values" for c in params.get("special_values") or {}})
    if params["split"].get("date_column"):
        named[params["split"]["date_column"]] = "data_processing.split.date_column"
    for column in (params.get("protected_attributes") or {}).get("columns", []):
        named.setdefault(column, "data_processing.protected_attributes.columns")
    return named


_CHECK_WORDS = {
    "not_nullable": "has missing values",
    "field_uniqueness": "has duplicate values; each applicant needs a unique id",
    "column_in_dataframe": "is declared in the parameters but absent from the table",
}


def _describe_failures(errors: SchemaErrors) -> str:
    cases = errors.failure_cases
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        cases = group["failure_case"]
        words = _CHECK_WORDS.get(check, check)
        if check == "column_in_dataframe":  # pandera reports the absent column as the case
            lines.append(f"  - column '{cases.iloc[0]}' {words}")
        else:
            lines.append(f"  - column '{column}' {words} (e.g. {examples(cases, 5)})")
    return "\n".join(lines)


def check_unique_columns(columns, where: str) -> None:
    """Refuse a table that names a column twice: which of the two a step would use is a guess.

    Raises:
        ApplicantDataError: naming each repeated column and how often it appears.
    """
    counts = pd.Series(list(columns), dtype=object).value_counts()
    repeated = counts[counts > 1]
    if len(repeated):
        named = ", ".join(f"column {shown(name)} appears {n} times" for name, n in repeated.items())
        raise ApplicantDataError(
            f"{named} in {where}: keep one column of each name (rename or drop the others)."
        )


def validate_raw(applicants: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Fail fast, before any training, on a table the pipelines cannot learn from.

    Raises:
        ApplicantDataError: for an empty table, a missing target or declared column, a
            non-binary target or missing bad label, duplicate or missing ids, or values
            that do not parse as the declared type.
    """
    if applicants.empty:
        raise ApplicantDataError(
            "The applicant table is empty (0 rows). Check the file behind the "
            "'applicants_raw' entry of conf/base/catalog.yml."
        )
    check_unique_columns(applicants.columns, "the applicant table")
    absent = {c: key for c, key in _declared_columns(params).items()
              if c not in applicants.columns}
    if absent:
        raise ApplicantDataError(
            "Columns named in parameters_data_processing.yml are absent from the applicant "
            "table:\n" + "\n".join(f"  - '{c}' ({key})" for c, key in absent.items())
            + f"\nThe table has {list(applicants.columns)}. Correct the names in "
            "conf/base/parameters_data_processing.yml (or conf/local), or the file."
        )
    fold_column = params["split"]["fold_column"]
    if fold_column in applicants.columns:
        raise ApplicantDataError(
            f"Column '{fold_column}' is reserved for the cross-validation fold id. "
            "Rename it or set data_processing.split.fold_column."
        )
    not_features = {params["target"]["column"], params.get("id_column")}
    numeric = [*numeric_columns(applicants, params),
               *(c for c in applicants.columns if c not in not_features
                 and pd.api.types.is_numeric_dtype(applicants[c]))]
    problems = number_problems(
        applicants, list(dict.fromkeys(numeric)),
        "fix them, list them as missing values (load_args: na_values in the catalog entry), "
        "or declare the column in data_processing.columns.categorical if it is a code")
    if problems:
        raise ApplicantDataError(
            "Numeric columns of the applicant table hold values that are not usable numbers:\n"
            + "\n".join(problems)
        )
    from pandera.errors import SchemaErrors  # noqa: PLC0415  (see raw_schema)

    schema = raw_schema(applicants, params)
    try:
        schema.validate(applicants, lazy=True)
    except SchemaErrors as errors:
        raise ApplicantDataError(
            "The applicant table does not match parameters_data_processing.yml:\n"
            f"{_describe_failures(errors)}\n"
            "Fix the data, or the column names / labels in conf/base/parameters_data_processing.yml."
        ) from None
    return applicants


def needed_columns(feature_schema: dict[str, Any]) -> list[str]:
    """The raw columns a model needs: its features, or the inputs of the recipes building them."""
    recipes = feature_schema["preparation"]["feature_recipes"].get("ratios", {})
    needed: list[str] = []
    for column in feature_schema["numeric"] + feature_schema["categorical"]:
        recipe = recipes.get(column)
        needed += [recipe["numerator"], recipe["denominator"]] if recipe else [column]
    return list(dict.fromkeys(needed))


def validate_scoring(applicants: pd.DataFrame, feature_schema: dict[str, Any]) -> pd.DataFrame:
    """Check new applicants against the contract the model was trained under.

    Every raw column the model needs (its features, or the inputs of the ratio recipes
    that build them) must be present, and numeric features must parse as numbers. A
    target column is not needed. Category values unseen in training are allowed: the
    model handles them as trained to, and scoring counts them.

    Raises:
        ApplicantDataError: naming each missing column or unparseable value.
    """
    if applicants.empty:
        raise ApplicantDataError(
            "The table of applicants to score is empty (0 rows). Check the file behind the "
            "'applicants_to_score' entry of conf/base/catalog.yml, or the request."
        )
    check_unique_columns(applicants.columns, "the applicants to score")
    needed = needed_columns(feature_schema)
    absent = [c for c in needed if c not in applicants.columns]
    built = [c for c in absent if c.split("__")[0] in (feature_schema.get("feature_build") or
                                                          {}).get("tables", {})]
    if built:
        raise ApplicantDataError(
            f"Columns {built[:5]} ({len(built)} in all) are missing from the applicants to "
            "score: the feature build makes them from the applicants' related tables "
            f"({sorted(feature_schema['feature_build']['tables'])}) with the recipe stored in "
            "the model. Score through `kedro run --pipelines scoring` with the related tables "
            "under 'related_tables_to_score', or send rows built that way."
        )
    if absent:
        raise ApplicantDataError(
            f"Columns {absent} are missing from the applicants to score; the model needs "
            f"{needed}. Add them, or retrain on a table without them."
        )
    # recipe inputs are numbers too: a ratio of text is no feature
    numeric = [c for c in needed if c not in feature_schema["categorical"]]
    problems = number_problems(applicants, numeric,
                               "they were numbers in training: fix the values or the file")
    if problems:
        raise ApplicantDataError(
            "The applicants to score do not match the training schema (a type change is an "
            "error, never a new category):\n" + "\n".join(problems)
        )
    return applicants


def build_feature_schema(
    model_input: pd.DataFrame, params: dict[str, Any], dropped: dict[str, str] | None = None
) -> dict[str, Any]:
    """The training contract: what later stages and the deployed model know of the data.

    Numeric columns are those with a numeric dtype after cleaning; every other feature is
    categorical, and its levels seen in ``model_input`` are recorded (scoring counts
    values outside them as unseen). ``preparation`` holds the data_processing settings that
    cleaned the rows and built the features, so the model prepares a raw row the same way
    without the project's configuration.
    """
    reserved = {params["target"]["column"], params["split"]["fold_column"],
                params["split"].get("date_column"), *kept_out_of_model(params)}
    if params.get("id_column"):
        reserved.add(params["id_column"])
    features = [c for c in model_input.columns if c not in reserved]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(model_input[c])]
    categorical = [c for c in features if c not in numeric]
    declared = {key: [c for c in value if c not in (dropped or {})]
                if isinstance(value, list) else value
                for key, value in (params.get("expected_effects") or {}).items()}
    return {
        **expected_effects(declared, numeric),
        "dropped_features": dict(dropped or {}),
        "protected_attributes": protected_attributes(model_input, params),
        "target": params["target"]["column"],
        "id_column": params.get("id_column"),
        "fold_column": params["split"]["fold_column"],
        "date_column": params["split"].get("date_column"),
        "numeric": numeric,
        "categorical": categorical,
        "categories": {
            c: sorted(model_input[c].dropna().astype(str).unique().tolist()) for c in categorical
        },
        # stored in 32 bits (every training value exact): scoring casts them the same way
        "float32": [c for c in numeric if model_input[c].dtype == "float32"],
        "preparation": {key: params.get(key) for key in PREPARATION_KEYS},
    }


def protected_attributes(model_input: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """What the model knows of the protected attributes: the policy, the columns, every
    column built from them (``sources``; never cited as a reason) and the fairness-screen
    bands of the numeric ones."""
    declared = params.get("protected_attributes") or {}
    return {"policy": declared.get("policy", "exclude"),
            "columns": list(declared.get("columns", [])),
            "sources": {c: s for c, s in protected_sources(params, model_input.columns).items()
                        if c in model_input.columns},
            "bands": {c: edges for c, edges in (declared.get("bands") or {}).items()
                      if edges is not None}}


def not_cited(feature_schema: dict[str, Any] | None) -> list[str]:
    """Features a reason never names: protected attributes and features built from them."""
    return list(((feature_schema or {}).get("protected_attributes") or {}).get("sources", {}))


def expected_effects(declared: dict[str, Any], numeric: list[str]) -> dict[str, Any]:
    """The declared direction of each feature's effect on the PD (+1 increasing, -1
    decreasing) and whether boosted trees must obey them (``monotone_constraints``).

    Raises:
        ValueError: a declared feature is not a numeric feature of the model input.
    """
    directions = {**dict.fromkeys(declared.get("increasing", []), 1),
                  **dict.fromkeys(declared.get("decreasing", []), -1)}
    unknown = [column for column in directions if column not in numeric]
    if unknown:
        raise ValueError(
            f"data_processing.expected_effects names {unknown}, which are not numeric features "
            f"of the model input (a direction needs an order). Numeric features: {numeric}. "
            "Fix the names or remove them.")
    return {"expected_effects": directions,
            "monotone_constraints": bool(declared.get("enforce", False))}


def check_unseen_categories(model_input: pd.DataFrame, feature_schema: dict[str, Any]) -> None:
    """Refuse a batch where a categorical column is mostly values training never saw.

    A few unseen values are scored as the model treats unknown categories (and counted by
    the scoring pipeline); most of a column unseen is a change of coding, e.g. integer
    codes instead of labels, where every applicant would get the "unknown" treatment and a
    plausible but wrong PD. The rule (``columns.unseen_categories``: ``refuse_share`` of
    the non-missing values, in batches of at least ``min_rows``) travels in the model.
    """
    rule = UNSEEN_CATEGORIES | (feature_schema["preparation"]["columns"].get("unseen_categories")
                                or {})
    if len(model_input) < rule["min_rows"]:
        return
    problems = []
    for column in feature_schema["categorical"]:
        counts = model_input[column].value_counts()
        known = feature_schema["categories"][column]
        unseen = counts[~counts.index.astype(str).isin(known)]
        unseen = unseen[unseen > 0]
        if counts.sum() and unseen.sum() / counts.sum() >= rule["refuse_share"]:
            problems.append(
                f"  - column '{column}': {unseen.sum() / counts.sum():.0%} of its "
                f"{counts.sum()} values were never seen in training (e.g. "
                f"{examples(unseen.index, 3)}); training had {examples(known, 3)}")
    if problems:
        raise ApplicantDataError(
            "The applicants to score code some categories differently from training (most "
            "values unseen is a type change, not new categories):\n" + "\n".join(problems)
            + "\nSend the labels the model was trained on (map codes to labels), or retrain "
            "on the new coding. The share that stops a batch is "
            "data_processing.columns.unseen_categories.refuse_share.")


def features(table: pd.DataFrame, feature_schema: dict[str, Any]) -> pd.DataFrame:
    """The model's input columns, in training order."""
    columns = feature_schema["numeric"] + feature_schema["categorical"]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ApplicantDataError(
            f"Feature columns {missing} are missing from the table; the model was trained on "
            f"{columns}. Re-run data_processing or supply those columns."
        )
    return table[columns]


def target(table: pd.DataFrame, feature_schema: dict[str, Any]) -> pd.Series:
    """The 0/1 default flag (1 = bad) that data_processing derived from the raw target."""
    return table[feature_schema["target"]]
