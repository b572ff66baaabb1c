"""Applicant features from related tables: a YAML recipe executed as Ibis expressions.

The recipe (``conf/<env>/parameters_feature_engineering.yml``, checked by
``parameters.FeatureEngineering``) declares, per related table, its link to the applicant,
row filters, derived columns, named row subsets (e.g. a recency window) and the aggregates
to take; the Home Credit solutions' aggregation dictionaries, as data. Every table becomes
one group-by query that the backend runs (embedded DuckDB by default, Spark beyond one
machine): subsets are conditional aggregates of the same scan, so each file is read once
(twice for a two-level aggregation). Only the per-applicant result, one row per applicant,
comes back to pandas, where it is joined to the application table.

Feature names follow one convention, readable in MLflow and in reason codes:
``<table>__<column>__<aggregate>[__<subset>]``, e.g. ``bureau__days_credit__mean`` or
``installments__dpd__max__last_365d``; ``<table>__count`` is always built.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import ibis
import numpy as np
import pandas as pd

from credit_scoring.data.schema import examples, snake

logger = logging.getLogger(__name__)

APPLICANT = "applicant_id"
"""Name of the applicant key inside the queries (the user's id column may be anything)."""
PARENT = "parent_key"
"""Name of a two-level aggregation's intermediate key inside the queries."""
NUMERIC_AGGREGATES = ("sum", "mean", "min", "max", "std")
EXAMPLES = 5


class FeatureSourceError(ValueError):
    """A related table cannot be used as configured; the message names table, column and fix."""


def feature_name(table: str, column: str | None, aggregate: str, subset: str = "all") -> str:
    parts = [table, *([snake(column)] if column else []), aggregate]
    return "__".join(parts + ([subset] if subset != "all" else []))


# ---- row-level expressions ----------------------------------------------------------------
def condition(rows, rules: dict[str, dict[str, Any]]):
    """Rules ``{COLUMN: {in: [...], min: x, max: y, not_null: true}}`` combined with AND."""
    tests = []
    for column, rule in rules.items():
        value = rows[column]
        if rule.get("in") is not None:
            tests.append(value.isin(rule["in"]))
        if rule.get("min") is not None:
            tests.append(value.cast("float64") >= rule["min"])
        if rule.get("max") is not None:
            tests.append(value.cast("float64") <= rule["max"])
        if rule.get("not_null"):
            tests.append(value.notnull())
    return ibis.and_(*tests) if tests else ibis.literal(True)


def _combine(op: str, left, right):
    if op == "difference":
        return left - right
    if op == "sum":
        return left + right
    if op == "product":
        return left * right
    return left / right.nullif(0)  # ratio: a zero denominator is missing, not infinite


def derive(rows, derived: dict[str, dict[str, Any]]):
    """Add derived columns, e.g. days past due = entry - due date, clipped at 0."""
    new = {}
    for name, spec in derived.items():
        left, right = (rows[c].cast("float64") for c in spec["of"])
        value = _combine(spec["op"], left, right)
        low, high = (spec.get("clip") or [None, None])
        if low is not None or high is not None:
            value = value.clip(lower=low, upper=high)
        new[name] = value
    return rows.mutate(**new) if new else rows


def prepare_rows(rows, spec: dict[str, Any]):
    """Special values -> missing, derived columns, table filter: the rows to aggregate."""
    replaced = {column: _blank(rows[column], values)
                for column, values in (spec.get("special_values") or {}).items()}
    if replaced:
        rows = rows.mutate(**replaced)
    rows = derive(rows, spec.get("derived") or {})
    return rows.filter(condition(rows, spec["filter"])) if spec.get("filter") else rows


def _blank(value, specials: list[Any]):
    if value.type().is_string():  # a numeric column the reader typed as text
        specials = [str(v) for v in specials]
    return ibis.ifelse(value.isin(specials), ibis.null(value.type()), value)


def applicant_rows(tables: dict[str, Any], name: str, spec: dict[str, Any]):
    """The table's rows with the applicant key as ``applicant_id``.

    A table linked through a parent (instalments -> previous application -> applicant) is
    left-joined to the parent's key columns: rows whose parent is unknown keep a missing
    applicant and are counted as unlinked, never silently dropped.
    """
    rows = prepare_rows(tables[name], spec)
    if "key" in spec:
        return rows.mutate(**{APPLICANT: rows[spec["key"]]})
    link = spec["parent"]
    parent = tables[link["table"]]
    parent_key = link.get("parent_key") or link["key"]
    keys = parent.select(**{"_link": parent[parent_key], APPLICANT: parent[link["applicant_key"]]})
    keys = keys.distinct()
    joined = rows.left_join(keys, rows[link["key"]] == keys["_link"])
    return joined.drop("_link")


# ---- aggregation ----------------------------------------------------------------------------
def _reduce(value, aggregate: str, where=None):
    if aggregate == "count":
        return value.count(where=where)
    return getattr(value.cast("float64"), aggregate)(where=where)


AFTER_APPLICATION = "after_application_rows"
LATER = "known_later"
"""Grouping column of the leakage guard: the rows known only after the application."""


def known_later(rows, spec: dict[str, Any]):
    """The leakage guard: whether each row became known after the application (None: the
    recipe declares no ``known_at``).

    ``known_at`` names the column that says when a row became known, in days counted from
    the application (Home Credit's ``DAYS_CREDIT``, ``DAYS_DECISION``,
    ``DAYS_ENTRY_PAYMENT``): a positive value is after it, and the row is aggregated
    nowhere, only counted (the build report and MLflow: ``<table>.after_application_rows``).
    A row with no value there (an instalment not yet paid) is kept: nothing says it is
    later. Other day columns may be positive legitimately (a planned end date), so only
    ``known_at`` decides.
    """
    column = spec.get("known_at")
    return None if not column else (rows[column].cast("float64") > 0).fill_null(False)


def _aggregates(rows, table: str, spec: dict[str, Any], where: dict[str, Any]) -> dict[str, Any]:
    """Every configured reduction as a named Ibis expression, subsets as ``where=`` filters."""
    out = {feature_name(table, None, "count"): rows.count()}
    for subset, columns in (spec.get("aggregates") or {}).items():
        for column, aggregates in columns.items():
            for aggregate in aggregates:
                if column == "rows":  # rows: [count] -> <table>__count__<subset>
                    out[feature_name(table, None, aggregate, subset)] = rows.count(
                        where=where[subset])
                else:
                    out[feature_name(table, column, aggregate, subset)] = _reduce(
                        rows[column], aggregate, where[subset])
    for column, levels in (spec.get("shares") or {}).items():
        for level in levels:
            name = feature_name(table, column, f"share_{snake(level)}")
            out[name] = (rows[column] == level).cast("float64").mean()
    latest = spec.get("latest")
    if latest:
        order = rows[latest["order_by"]]
        for column in latest["columns"]:
            # the largest (order, value) pair: the most recent known value, and on a tie the
            # largest one, on every engine (argmax would pick any of the tied rows)
            pair = ibis.struct({"order": order, "value": rows[column]})
            known = order.notnull() & rows[column].notnull()
            out[feature_name(table, column, "latest")] = pair.max(where=known)["value"]
    return out


def aggregate_table(tables: dict[str, Any], name: str, spec: dict[str, Any]
                    ) -> tuple[pd.DataFrame, int]:
    """One related table -> one row per applicant key (``applicant_id`` index), in pandas,
    and the rows the leakage guard left out (``known_later``). Later rows are grouped apart
    in the same scan, counted and dropped: an applicant whose rows all came later has none."""
    rows = applicant_rows(tables, name, spec)
    later = known_later(rows, spec)
    keys = [APPLICANT] if later is None else [APPLICANT, LATER]
    rows = rows if later is None else rows.mutate(**{LATER: later})
    where = {"all": None} | {s: condition(rows, r) for s, r in (spec.get("subsets") or {}).items()}
    result = rows.group_by(keys).aggregate(**_aggregates(rows, name, spec, where)).to_pandas()
    after = 0
    if later is not None:
        known_after = result.pop(LATER).astype(bool).to_numpy()
        after = int(result.loc[known_after, feature_name(name, None, "count")].sum())
        result = result[~known_after]
        if after:
            logger.warning("Related table '%s': %d rows became known after the application "
                           "(%s > 0); they are not aggregated (leakage guard).", name, after,
                           spec["known_at"])
    result = result.set_index(APPLICANT)
    per = spec.get("per")
    if per:
        rows = rows if later is None else rows.filter(~rows[LATER])
        first = rows.mutate(**{PARENT: rows[per["key"]]}).group_by([APPLICANT, PARENT])
        inner = {f"{snake(c)}__{a}": _reduce(rows[c], a) for c, aggs in per["aggregates"].items()
                 for a in aggs}
        level_one = first.aggregate(**inner)
        outer = {f"{name}__{f}__{then}_per_{snake(per['key'])}": getattr(level_one[f], then)()
                 for f in inner for then in per["then"]}
        result = result.join(
            level_one.group_by(APPLICANT).aggregate(**outer).to_pandas().set_index(APPLICANT))
    return result, after


# ---- data-quality checks ------------------------------------------------------------------
def recipe_columns(spec: dict[str, Any]) -> set[str]:
    """Every column of its table a related-table recipe reads."""
    return {column for column, _ in _uses(spec)}


def _uses(spec: dict[str, Any]):
    """(column, must be numeric) for every column the recipe reads, derived ones included."""
    yield (spec["key"] if "key" in spec else spec["parent"]["key"]), False
    yield from ((column, False) for column in row_key(spec))
    if spec.get("known_at"):
        yield spec["known_at"], True
    for column in spec.get("special_values") or {}:
        yield column, False
    for rules in [spec.get("filter") or {}, *(spec.get("subsets") or {}).values()]:
        for column, rule in rules.items():
            yield column, rule.get("min") is not None or rule.get("max") is not None
    for derived in (spec.get("derived") or {}).values():
        yield from ((column, True) for column in derived["of"])
    per = spec.get("per") or {}
    for columns in [*(spec.get("aggregates") or {}).values(), per.get("aggregates", {})]:
        for column, aggregates in columns.items():
            if column != "rows":
                yield column, any(a in NUMERIC_AGGREGATES for a in aggregates)
    yield from ((column, False) for column in spec.get("shares") or {})
    latest = spec.get("latest") or {}
    yield from ((column, False) for column in [*latest.get("columns", []),
                                               *filter(None, [latest.get("order_by")])])
    if per:
        yield per["key"], False


def required_columns(spec: dict[str, Any]) -> dict[str, bool]:
    """Columns the recipe reads from the table's file -> whether they must be numeric."""
    derived = spec.get("derived") or {}
    needed: dict[str, bool] = {}
    for column, numeric in _uses(spec):
        if column not in derived:
            needed[column] = needed.get(column, False) or numeric
    return needed


def check_table(tables: dict[str, Any], name: str, spec: dict[str, Any]) -> None:
    """Missing columns and numbers that do not parse, named with examples, before any work."""
    if name not in tables:
        raise FeatureSourceError(
            f"feature_engineering.tables.{name}: no such related table; the catalog entry "
            f"'related_tables' has {sorted(tables)}. Add it under related_tables.tables, or "
            "remove the recipe.")
    rows = tables[name]
    needed = required_columns(spec)
    link = spec.get("parent")
    if link:
        parent = tables.get(link["table"])
        if parent is None:
            raise FeatureSourceError(
                f"feature_engineering.tables.{name}.parent.table: '{link['table']}' is not a "
                f"related table ({sorted(tables)}).")
        for column in (link.get("parent_key") or link["key"], link["applicant_key"]):
            if column not in parent.columns:
                raise FeatureSourceError(
                    f"Related table '{link['table']}' has no column '{column}' (needed to link "
                    f"'{name}' to the applicant); it has {list(parent.columns)[:20]}. Fix "
                    f"feature_engineering.tables.{name}.parent.")
        _check_parent_key(parent, link, name)
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise FeatureSourceError(
            f"Related table '{name}' has no column(s) {missing} that its recipe uses; it has "
            f"{list(rows.columns)[:30]}. Fix the column names under "
            f"feature_engineering.tables.{name}, or point the catalog at the right file.")
    _check_numbers(rows, name, [c for c, numeric in needed.items() if numeric],
                   spec.get("special_values") or {})


def _check_parent_key(parent, link: dict[str, Any], name: str) -> None:
    """A parent key shared by two applicants would count the child rows twice."""
    key = link.get("parent_key") or link["key"]
    shared = (parent.group_by(key).aggregate(applicants=parent[link["applicant_key"]].nunique())
              .filter(lambda t: t.applicants > 1).limit(EXAMPLES).to_pandas())
    if len(shared):
        raise FeatureSourceError(
            f"Related table '{link['table']}': '{key}' values belong to more than one applicant "
            f"(e.g. {examples(shared[key], EXAMPLES)}); rows of '{name}' linked through them "
            "would count "
            "for each. Fix the table, or link through a unique key "
            f"(feature_engineering.tables.{name}.parent).")


def _check_numbers(rows, name: str, columns: list[str], special: dict[str, list]) -> None:
    """A numeric column the reader typed as text because some values are not numbers."""
    text = [c for c in columns if rows[c].type().is_string()]
    for column in text:
        value = rows[column]
        bad = value.notnull() & value.strip().length().cast("int64").__gt__(0) & \
            value.try_cast("float64").isnull()
        if special.get(column):
            bad = bad & ~value.isin([str(v) for v in special[column]])
        found = rows.filter(bad).select(column).distinct().limit(EXAMPLES).to_pandas()
        if len(found):
            raise FeatureSourceError(
                f"Related table '{name}', column '{column}': values that are not numbers, e.g. "
                f"{examples(found[column], EXAMPLES)}; the recipe aggregates it as a number. Clean "
                "the file, or declare the codes under "
                f"feature_engineering.tables.{name}.special_values.")


def row_key(spec: dict[str, Any]) -> list[str]:
    """The columns that identify one row of the table (``row_key``), if the recipe declares them."""
    key = spec.get("row_key")
    return [key] if isinstance(key, str) else list(key or [])


def deduplicated(rows, name: str, spec: dict[str, Any]) -> tuple[Any, dict[str, int]]:
    """The table without rows delivered twice, and what was found.

    With a ``row_key`` (bureau: ``SK_ID_BUREAU``), rows that repeat a key are duplicates.
    Copies identical in every column are dropped with a warning (``duplicate_rows: drop``, the
    default) or stop the build (``refuse``); rows that share a key but differ always stop it,
    since which one is true is unknown. Without a row key (instalments: a payment may be
    split into rows that legitimately repeat) identical rows are only counted and warned
    about, and kept.
    """
    key = row_key(spec)
    if not key:
        identical = _count(rows) - _count(rows.distinct())
        if identical:
            logger.warning(
                "Related table '%s': %d rows are identical in every column to another row. "
                "They are kept (the table declares no row_key, and a split payment can repeat "
                "a row); declare feature_engineering.tables.%s.row_key if each row should be "
                "unique.", name, identical, name)
        return rows, {"identical_rows": identical}
    repeated = rows.group_by(key).aggregate(copies=rows.count()).filter(lambda t: t.copies > 1)
    extra = int(repeated.aggregate(extra=(repeated.copies - 1).sum()).to_pandas()["extra"]
                .fillna(0).iloc[0])
    if not extra:
        return rows, {"duplicate_rows": 0, "dropped_rows": 0}
    unique = rows.distinct()
    conflicts = (unique.group_by(key).aggregate(versions=unique.count())
                 .filter(lambda t: t.versions > 1))
    conflicting = _count(conflicts)
    keys = _examples((conflicts if conflicting else repeated).select(key))
    where = f"Related table '{name}': {extra} rows repeat a {'/'.join(key)} already seen"
    fix = (f"Deduplicate the file, or check feature_engineering.tables.{name}.row_key.")
    if conflicting:
        raise FeatureSourceError(
            f"{where}, and rows with the same key differ (e.g. {keys}): which one is "
            f"true is unknown, so none is aggregated. {fix}")
    if spec.get("duplicate_rows", "drop") == "refuse":
        raise FeatureSourceError(
            f"{where} (exact copies, e.g. {keys}); duplicate_rows is 'refuse'. {fix} "
            "Or set duplicate_rows: drop to keep one copy of each.")
    logger.warning("%s (exact copies, e.g. %s): each is aggregated once, the %d copies are "
                   "dropped. %s", where, keys, extra, fix)
    return unique, {"duplicate_rows": extra, "dropped_rows": extra}


def _count(rows) -> int:
    return int(rows.count().to_pandas())


def _examples(keys) -> str:
    frame = keys.limit(EXAMPLES).to_pandas()
    return examples([v[0] if len(v) == 1 else v for v in frame.itertuples(index=False, name=None)],
                    EXAMPLES)


def check_applicant_ids(applicants: pd.DataFrame, id_column: str | None) -> None:
    if not id_column or id_column not in applicants.columns:
        raise FeatureSourceError(
            f"Related tables are configured, so the application table needs its applicant id "
            f"column (data_processing.id_column = {id_column!r}); the table has "
            f"{list(applicants.columns)[:20]}. Set data_processing.id_column.")
    ids = applicants[id_column]
    duplicated = ids[ids.duplicated(keep=False)]
    if len(duplicated) or ids.isna().any():
        raise FeatureSourceError(
            f"Applicant id column '{id_column}' must be unique and never empty: "
            f"{duplicated.nunique()} ids occur more than once (e.g. "
            f"{examples(duplicated, EXAMPLES)}), "
            f"{int(ids.isna().sum())} are empty. Related rows could not be attributed; "
            "deduplicate the application table.")


# ---- the build ------------------------------------------------------------------------------
def zero_filled(name: str, spec: dict[str, Any]) -> list[str]:
    """Counts and sums of one table: 0, not missing, where an applicant has no such rows
    (no credits: total debt 0; SQL's SUM over no rows would be missing)."""
    names = [feature_name(name, None, "count")]
    for subset, columns in (spec.get("aggregates") or {}).items():
        for column, aggregates in columns.items():
            names += [feature_name(name, None if column == "rows" else column, aggregate, subset)
                      for aggregate in aggregates if aggregate in ("count", "sum")]
    return names


def _align_keys(ids: pd.Series, table: pd.DataFrame, name: str) -> None:
    """The table's keys in the applicant ids' type; text ids against numeric keys (or the
    reverse) where not one key matches is an error, not a table of orphans."""
    numeric = [pd.api.types.is_numeric_dtype(x) for x in (ids, table.index)]
    if not len(table) or numeric[0] == numeric[1]:
        return
    keys = table.index
    try:
        table.index = keys.astype(ids.dtype)
    except (TypeError, ValueError):
        pass
    if not table.index.isin(ids).any():
        raise FeatureSourceError(
            f"Related table '{name}': its applicant keys are {keys.dtype} (e.g. "
            f"{keys[:3].tolist()}) but the application table's ids are {ids.dtype} (e.g. "
            f"{ids[:3].tolist()}): no row matches. Read both with the same type (load_args of "
            "the catalog entries).")


def _attach(ids: pd.Series, table: pd.DataFrame, name: str, zeros: list[str]
            ) -> tuple[pd.DataFrame, dict]:
    """Per-applicant aggregates aligned to the application rows; orphan keys counted."""
    _align_keys(ids, table, name)
    unlinked = table.index.isna()
    known = table.index.isin(ids)
    rows = table[feature_name(name, None, "count")]
    stats = {
        "rows": int(rows.sum()),
        "unlinked_rows": int(rows[unlinked].sum()),
        "orphan_keys": int((~known & ~unlinked).sum()),
        "orphan_rows": int(rows[~known & ~unlinked].sum()),
        "applicants_with_rows": int(known.sum()),
    }
    aligned = table.reindex(ids.to_numpy())  # orphan keys fall out here
    aligned[zeros] = aligned[zeros].fillna(0)
    aligned = aligned.astype({c: "float64" for c in aligned.columns
                              if pd.api.types.is_numeric_dtype(aligned[c])})
    return aligned.set_axis(ids.index), stats


def _log_problems(name: str, spec: dict[str, Any], stats: dict[str, int], orphans) -> None:
    if stats["rows"] == 0:
        logger.warning("Related table '%s' has no rows: its features are missing for every "
                       "applicant (unknown history, imputed inside the model). Check the "
                       "file if that is not expected.", name)
    if stats["orphan_rows"]:
        logger.warning(
            "Related table '%s': %d rows (%d keys, e.g. %s) match no applicant; they are left "
            "out of the features.", name, stats["orphan_rows"], stats["orphan_keys"],
            examples(orphans, EXAMPLES))
    if stats["unlinked_rows"]:
        reason = (f"have an empty '{spec['key']}'" if "key" in spec else
                  f"match no row of parent table '{spec['parent']['table']}' (or one without "
                  "an applicant)")
        logger.warning("Related table '%s': %d rows %s; they are left out.", name,
                       stats["unlinked_rows"], reason)


def build_features(
    applicants: pd.DataFrame, tables: dict[str, Any], recipe: dict[str, Any], id_column: str | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Application table + related tables -> one row per applicant, and a build report.

    Args:
        applicants: the application table (pandas), one row per applicant.
        tables: related tables as Ibis tables of one backend (``RelatedTablesDataset``).
        recipe: ``feature_engineering.tables`` — table name -> its recipe.
        id_column: the application table's applicant id.

    Returns:
        The application table with the aggregates appended (row order kept), and a report:
        per table its rows, orphan rows/keys (key matches no applicant: counted, logged,
        left out), unlinked rows (no parent), repeated rows (``duplicate_rows`` and
        ``dropped_rows`` by row key, else ``identical_rows``), rows known only after the
        application (``after_application_rows``, not aggregated), applicants with rows and
        features built.
    """
    start = time.perf_counter()
    check_applicant_ids(applicants, id_column)
    found = {}
    tables = dict(tables)
    for name, spec in recipe.items():
        check_table(tables, name, spec)
        tables[name], found[name] = deduplicated(tables[name], name, spec)
    ids = applicants[id_column]
    built, report = [], {"applicants": len(applicants), "tables": {}}
    for name, spec in recipe.items():
        table, after = aggregate_table(tables, name, spec)
        aligned, stats = _attach(ids, table, name, zero_filled(name, spec))
        stats |= found[name] | {AFTER_APPLICATION: after}
        if stats["rows"] == 0:  # a feed that delivered nothing: unknown history, not none
            aligned[:] = np.nan
        _log_problems(name, spec, stats, table.index[~table.index.isin(ids) &
                                                      table.index.notna()])
        report["tables"][name] = stats | {"features": aligned.shape[1]}
        built.append(aligned)
    rebuilt = [c for t in built for c in t.columns if c in applicants.columns]
    if rebuilt:  # e.g. hold-out rows that carry their features: the recipe recomputes them
        logger.info("%d columns of the application table (e.g. %s) are rebuilt by the recipe.",
                    len(rebuilt), rebuilt[:3])
    features = pd.concat([applicants.drop(columns=rebuilt), *built], axis=1)
    report["features"] = int(sum(t["features"] for t in report["tables"].values()))
    report["seconds"] = round(time.perf_counter() - start, 3)
    logger.info("Built %d features from %d related tables for %d applicants in %.1f s.",
                report["features"], len(recipe), len(applicants), report["seconds"])
    return features, report
