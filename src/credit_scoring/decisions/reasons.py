"""Adverse-action reasons: why a declined applicant's PD is high, in words the applicant reads.

A reason is a factor that raised this applicant's risk against the reference population,
the development sample's approved applicants: the model's contribution of the attribute
for the applicant, minus its average contribution among the approved
(``reference_contributions``, computed once at training and stored with the model). A
scorecard's reasons are its points below each attribute's maximum (the attribute's best
class is the reference), the method scorecard lenders have long used for adverse action. Only
factors above zero are cited, at most ``MAX_REASONS``, largest first; protected attributes
and features built from them are never cited. A declined applicant without such a factor
gets the ``no_single_factor`` statement.

Each attribute has a ``Statement`` (stable code, text, unit, category labels), resolved
once at training (``resolve_statements``) from the reason dictionary
(``parameters_reasons.yml``): an entry of its own, a statement generated from the parts of
a feature-build name (``bureau__credit_day_overdue__max``: "Days overdue on credit bureau
records (highest)"), a ratio's source attributes, or, as the last resort, a readable name
(a finding in the validation report).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

MAX_REASONS = 4
"""Reasons a declined applicant is given at most (Regulation B's commentary: more than
four are not meaningful)."""
SOURCES = ("dictionary", "generated", "derived", "readable name")
"""Where an attribute's statement came from; ``readable name`` means none was written."""
MISSING_VALUE = "not provided"


class Statement(BaseModel):
    """What a reason says: a stable code, the text (``high``/``low`` for a numeric value
    above / below the approved applicants' average), the value's unit and category labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    text: str
    high: str | None = None
    low: str | None = None
    unit: str | None = None
    labels: dict[str, str] = {}
    source: Literal[SOURCES] = "dictionary"


NO_SINGLE_FACTOR = Statement(
    code="NSF", text="No single factor: the application as a whole is assessed as high risk")
"""The first reason of a decline no factor explains (``reasons.no_single_factor`` overrides)."""


class ReasonStatements(BaseModel):
    """Every model attribute's statement, and the one for a decline without a single factor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attributes: dict[str, Statement]
    no_single_factor: Statement = NO_SINGLE_FACTOR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Words(_Strict):
    statement: Annotated[StrictStr, Field(min_length=1)]
    unit: StrictStr | None = None
    labels: dict[Any, StrictStr] = {}


class AttributeWords(Words):
    code: Annotated[StrictStr, Field(pattern=r"^[A-Z0-9_]{1,40}$")]
    high: StrictStr | None = None
    low: StrictStr | None = None


class TableWords(_Strict):
    name: StrictStr
    per: StrictStr | None = None
    columns: dict[str, Words] = {}
    subsets: dict[str, StrictStr] = {}


class ReasonDictionary(_Strict):
    """The ``reasons`` parameters (``parameters_reasons.yml``), checked at run start."""

    reference_rows: Annotated[StrictInt, Field(ge=1)]
    seed: StrictInt
    no_single_factor: AttributeWords
    attributes: dict[str, AttributeWords | None] = {}
    tables: dict[str, TableWords | None] = {}
    aggregates: dict[str, StrictStr] = {}

    @model_validator(mode="after")
    def _codes_unique(self) -> ReasonDictionary:
        codes = pd.Series([self.no_single_factor.code, *(
            words.code for words in self.attributes.values() if words is not None)])
        repeated = sorted(codes[codes.duplicated()].unique())
        if repeated:
            raise ValueError(f"codes {repeated} are given to more than one attribute: a code "
                             "must name one reason")
        return self


def readable(name: str) -> str:
    """``credit_amount`` -> ``Credit amount``: the fallback when no statement was written."""
    text = " ".join(str(name).replace("__", " ").replace("_", " ").split()).lower()
    return text[:1].upper() + text[1:]


def _code(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(name).upper())


def _entry(words: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """A dictionary entry as keyword arguments of ``Statement`` (``statement`` -> ``text``)."""
    entry = dict(words or {})
    labels = {str(k): str(v) for k, v in (entry.pop("labels", None) or {}).items()}
    return {**{k: v for k, v in entry.items() if k != "statement" and v is not None},
            "labels": labels, "text": entry.get("statement") or readable(name)}


def _generated(feature: str, tables: dict[str, Any], aggregates: dict[str, str]
               ) -> Statement | None:
    """The statement of a feature-build name, from its table's words, or None if the
    feature is not one (``feature_build.feature_name`` says how names are made)."""
    table, *parts = feature.split("__")
    if table not in tables or not parts:
        return None
    words = tables[table]
    subsets = words.get("subsets") or {}
    if parts[0] == "count":  # <table>__count[__<subset>]
        detail = [subsets.get(parts[1], readable(parts[1]))] if len(parts) > 1 else []
        text = f"Number of {words['name']}" + (f" ({', '.join(detail)})" if detail else "")
        return Statement(code=_code(feature), text=text, unit="records", source="generated")
    column, *rest = parts
    known = (words.get("columns") or {}).get(column)
    what = _entry(known, column)
    unit, labels = what.get("unit"), what.get("labels", {})
    if rest and rest[0].startswith("share_"):
        level = rest[0].removeprefix("share_")
        label = {_code(k).lower(): v for k, v in labels.items()}.get(level, readable(level))
        detail, unit, labels = [f"share {label}"], "%", {}
    elif rest == ["latest"]:
        detail = ["most recent"]
    elif len(rest) == 2 and "_per_" in rest[1]:  # <agg>__<then>_per_<key>
        then, key = rest[1].split("_per_", 1)
        per = words.get("per") or readable(key).lower()
        detail = [f"{aggregates.get(rest[0], rest[0])} per {per}", aggregates.get(then, then)]
    else:  # <agg>[__<subset>]
        detail = [aggregates.get(rest[0], rest[0]) if rest else "",
                  *(subsets.get(s, readable(s)) for s in rest[1:])]
    text = f"{what['text']} on {words['name']} ({', '.join(d for d in detail if d)})"
    return Statement(code=_code(feature), text=text, unit=unit, labels=labels,
                     source="generated" if known else "readable name")


def resolve_statements(features: list[str], dictionary: dict[str, Any],
                       ratios: dict[str, Any]) -> ReasonStatements:
    """Each model feature's statement: the dictionary's entry, a generated one for a
    feature-build name, one from a ratio's source attributes, else a readable name.

    Args:
        features: the model's input columns.
        dictionary: the ``reasons`` parameters (``attributes``, ``tables``, ``aggregates``,
            ``no_single_factor``).
        ratios: the ratio recipes that built features (name -> numerator, denominator).
    """
    # an entry set to null (e.g. in conf/local) is switched off
    attributes = {k: v for k, v in (dictionary.get("attributes") or {}).items() if v}
    tables = {k: v for k, v in (dictionary.get("tables") or {}).items() if v}
    aggregates = dictionary.get("aggregates") or {}

    resolved: dict[str, Statement] = {}
    for feature in features:
        if feature in attributes:
            resolved[feature] = Statement(**_entry(attributes[feature], feature))
        elif (generated := _generated(feature, tables, aggregates)) is not None:
            resolved[feature] = generated
    for feature in features:  # ratios last: they read their sources' statements
        if feature in resolved:
            continue
        recipe = (ratios or {}).get(feature)
        sources = [recipe["numerator"], recipe["denominator"]] if recipe else []
        said = [resolved.get(c) or (Statement(**_entry(attributes[c], c)) if c in attributes
                                    else None) for c in sources]
        if recipe:
            first, second = (s.text if s else readable(c)
                             for s, c in zip(said, sources, strict=True))
            resolved[feature] = Statement(
                code=_code(feature), text=f"{first} relative to {second.lower()}",
                source="derived" if all(s and s.source != "readable name" for s in said)
                else "readable name")
        else:
            resolved[feature] = Statement(code=_code(feature), text=readable(feature),
                                          source="readable name")
    codes = pd.Series([s.code for s in resolved.values()], index=list(resolved))
    repeated = codes[codes.duplicated(keep=False)]
    if len(repeated):
        raise ValueError(
            f"Reason codes given to more than one attribute: {repeated.to_dict()}. Give each "
            "its own code under reasons.attributes (parameters_reasons.yml).")
    nothing = dictionary.get("no_single_factor")
    return ReasonStatements(attributes=resolved, no_single_factor=Statement(
        **_entry(nothing, "no single factor")) if nothing else NO_SINGLE_FACTOR)


def reference_contributions(contribution: pd.DataFrame, model_input: pd.DataFrame,
                            from_best_class: bool = False) -> dict[str, dict[str, float]]:
    """What reasons are measured against, from the reference population's rows: each
    attribute's mean contribution, and each numeric attribute's mean value (which picks a
    statement's ``high`` or ``low`` wording).

    Args:
        from_best_class: the contributions are already measured from each attribute's best
            class (a scorecard's points below their maximum, the classic adverse-action
            method): the reference contribution is 0.
    """
    numeric = model_input.select_dtypes("number")
    mean = contribution.mean() * (0.0 if from_best_class else 1.0)
    return {"contribution": {c: float(v) for c, v in mean.items()},
            "value": {c: float(v) for c, v in numeric.mean().items() if np.isfinite(v)}}


def _value_text(value: Any, statement: Statement | None) -> str:
    """A reason's value as the applicant reads it: labelled, with its unit."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return MISSING_VALUE
    unit = statement.unit if statement else None
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(value, bool):
        value = float(value)
        if unit == "%":
            return f"{100 * value:.0f}%"
        text = f"{value:,.0f}" if value.is_integer() or abs(value) >= 1000 else f"{value:.3g}"
    else:
        text = (statement.labels if statement else {}).get(str(value), str(value))
    return f"{text} {unit}" if unit else text


def _statement_text(statement: Statement | None, name: str, value: Any,
                    reference: float | None) -> str:
    if statement is None:
        return readable(name)
    if reference is not None and isinstance(value, float | int | np.number) \
            and not np.isnan(value):
        wording = statement.high if value >= reference else statement.low
        return wording or statement.text
    return statement.text


def adverse_action_reasons(contribution: pd.DataFrame | None, model_input: pd.DataFrame,
                           n_reasons: int, reference: dict[str, Any] | None = None,
                           statements: ReasonStatements | None = None,
                           not_cited: list[str] = ()) -> dict[str, np.ndarray]:
    """Up to ``n_reasons`` factors that raised each row's risk against the reference.

    Args:
        contribution: each row's contribution per model input column (positive = pushes
            the PD up); None for a model without contributions (every row then has no
            single factor).
        model_input: the rows as the model saw them (after cleaning).
        reference: ``reference_contributions`` of the approved population; None (a model
            stored before it existed): measured from the model's own average.
        statements: the model's ``ReasonStatements``; None: readable names.
        not_cited: attributes never cited (protected, or built from a protected one).

    Returns:
        ``reason_k_code``, ``reason_k_text`` and ``reason_k_value`` for k = 1 .. n_reasons;
        None where fewer factors raised the risk. A row with none gets the
        ``no_single_factor`` code and text as its first reason.
    """
    rows = len(model_input)
    table = {f"reason_{k}_{part}": np.full(rows, None, dtype=object)
             for k in range(1, n_reasons + 1) for part in ("code", "text", "value")}
    if n_reasons == 0 or rows == 0:
        return table
    reference = reference or {}
    citable = [c for c in (contribution.columns if contribution is not None else [])
               if c not in set(not_cited)]
    if citable:
        baseline = pd.Series(reference.get("contribution", {}), dtype=float).reindex(citable)
        raised = contribution[citable].to_numpy(dtype=float) - baseline.fillna(0).to_numpy()
        order = np.argsort(-raised, axis=1, kind="stable")[:, :n_reasons]
        cited = np.take_along_axis(raised, order, axis=1) > 0
        values = model_input[citable].to_numpy(dtype=object)
        known = (statements.attributes if statements else {})
        levels = reference.get("value", {})
        for k in range(order.shape[1]):
            for row in np.flatnonzero(cited[:, k]):
                name = citable[order[row, k]]
                value, statement = values[row, order[row, k]], known.get(name)
                table[f"reason_{k + 1}_code"][row] = statement.code if statement else _code(name)
                table[f"reason_{k + 1}_text"][row] = _statement_text(
                    statement, name, value, levels.get(name))
                table[f"reason_{k + 1}_value"][row] = _value_text(value, statement)
    none = np.array([code is None for code in table["reason_1_code"]])
    fallback = statements.no_single_factor if statements else NO_SINGLE_FACTOR
    table["reason_1_code"][none] = fallback.code
    table["reason_1_text"][none] = fallback.text
    return table
