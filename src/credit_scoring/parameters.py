"""Typed parameters: every pipeline's YAML block, checked before any node runs.

One Pydantic model per top-level block of ``conf/base/parameters_<pipeline>.yml``. The
``ParameterChecks`` hook (``credit_scoring.hooks``) validates the blocks a run uses, so a
misspelt key, a wrong type, an unknown estimator import path or a malformed search-space
entry stops ``kedro run`` at start, naming the key's YAML path, before any model is
fitted. Nodes keep receiving plain dicts, which kedro-mlflow logs as flattened,
searchable MLflow params (it cannot flatten a Pydantic object).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import optuna
from kedro.utils import load_obj
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from credit_scoring.data.feature_build import recipe_columns
from credit_scoring.data.schema import protected_sources
from credit_scoring.decisions import Constraints, Costs, ScoreScaling
from credit_scoring.decisions.costs import Number, Positive, Rate
from credit_scoring.decisions.reasons import MAX_REASONS, ReasonDictionary
from credit_scoring.models.calibration import CRITERIA, METHODS
from credit_scoring.models.encoders import PREPROCESSING
from credit_scoring.models.evaluation import METRICS
from credit_scoring.models.families import BLEND, FAMILIES, unknown_family_message
from credit_scoring.validation.alerts import AlertRules
from credit_scoring.validation.backtesting import Backtesting
from credit_scoring.validation.findings import FindingRules
from credit_scoring.validation.model_card import ModelCardSettings
from credit_scoring.validation.recalibration import Recalibration

# Strict numbers (decisions.costs.Number): YAML `"10"` or `true` where a number belongs is an
# error at start, not a crash in a node later; an int stays an int.
Metric = Literal[tuple(METRICS)]
Count = Annotated[StrictInt, Field(ge=1)]


class Strict(BaseModel):
    """No unknown keys: a misspelt key is an error, not a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# ---- data_processing ------------------------------------------------------------------
class Target(Strict):
    column: str
    bad_label: Any
    good_label: Any = None


class UnseenCategories(Strict):
    refuse_share: Annotated[Number, Field(gt=0, le=1)] = 0.5
    min_rows: Annotated[StrictInt, Field(ge=1)] = 20


class Columns(Strict):
    drop: list[StrictStr] = []
    categorical: list[StrictStr] = []
    numeric: list[StrictStr] = []
    numeric_share: Annotated[Number, Field(gt=0, le=1)] = 0.5
    unseen_categories: UnseenCategories = UnseenCategories()


class Ratio(Strict):
    numerator: str
    denominator: str


class FeatureRecipes(Strict):
    # null switches off a ratio that conf/base sets (e.g. in another environment)
    ratios: dict[str, Ratio | None] = {}


class Split(Strict):
    test_size: Annotated[Number, Field(gt=0, lt=1)]
    cv_folds: Annotated[StrictInt, Field(ge=2)]
    random_state: StrictInt
    fold_column: StrictStr
    test_rows_seen_in_training: Literal["warn", "refuse"] = "warn"
    # out of time (data.periods): with a date column, test is the latest window
    date_column: StrictStr | None = None
    out_of_time_start: date | None = None
    out_of_time_share: Annotated[Number, Field(gt=0, lt=1)] = 0.25
    in_time_holdout: Annotated[Number, Field(ge=0, lt=1)] = 0.0
    vintage: Literal["month", "quarter"] = "month"
    cv: Literal["stratified", "time_series"] = "stratified"

    @model_validator(mode="after")
    def _time_needs_dates(self) -> Split:
        if self.date_column is None and (self.cv == "time_series" or self.in_time_holdout
                                         or self.out_of_time_start is not None):
            raise ValueError("cv: time_series, in_time_holdout and out_of_time_start need a "
                             "date_column (the applicant table's application date); without "
                             "one, test_size holds out a random share")
        return self


class ExpectedEffects(Strict):
    enforce: StrictBool = False
    increasing: list[StrictStr] = []
    decreasing: list[StrictStr] = []

    @model_validator(mode="after")
    def _one_direction(self) -> ExpectedEffects:
        both = sorted(set(self.increasing) & set(self.decreasing))
        if both:
            raise ValueError(f"{both} listed as both increasing and decreasing: keep one")
        return self


class ProtectedAttributes(Strict):
    columns: list[StrictStr] = []
    policy: Literal["exclude", "allow"] = "exclude"
    # fairness-screen groups of a numeric protected column: band edges (null: switched off)
    bands: dict[str, Annotated[list[Number], Field(min_length=1)] | None] = {}

    @model_validator(mode="after")
    def _bands_of_protected_columns(self) -> ProtectedAttributes:
        unknown = sorted(c for c, edges in self.bands.items()
                         if edges is not None and c not in self.columns)
        if unknown:
            raise ValueError(f"bands for {unknown}, which are not among the protected columns "
                             f"{self.columns}: add them to columns or remove their bands")
        return self


class DataProcessing(Strict):
    target: Target
    id_column: str | None = None
    columns: Columns = Columns()
    # null switches off a rule that conf/base sets (conf/local merges key by key)
    valid_ranges: dict[
        str, Annotated[list[Number | None], Field(min_length=2, max_length=2)] | None
    ] = {}
    # codes the data documents as "not a value" (Home Credit's DAYS_EMPLOYED = 365243)
    special_values: dict[str, list[Any]] = {}
    feature_recipes: FeatureRecipes = FeatureRecipes()
    expected_effects: ExpectedEffects = ExpectedEffects()
    protected_attributes: ProtectedAttributes = ProtectedAttributes()
    split: Split

    @model_validator(mode="after")
    def _protected_kept_out(self) -> DataProcessing:
        protected = self.protected_attributes
        dropped = sorted(set(protected.columns) & set(self.columns.drop))
        if dropped:
            raise ValueError(
                f"{dropped} are protected attributes and in columns.drop: remove them from "
                "columns.drop; protected_attributes keeps them out of the model and keeps them "
                "for the validation report's fairness screen")
        if protected.policy == "allow":
            return self
        derived = protected_sources(self.model_dump())
        named = [c for c in (*self.expected_effects.increasing, *self.expected_effects.decreasing)
                 if c in derived]
        if named:
            raise ValueError(
                f"expected_effects names {named}, protected attributes or features derived "
                f"from them ({ {c: derived[c] for c in named} }), which protected_attributes."
                "policy 'exclude' keeps out of the model: remove them from expected_effects, "
                "or set the policy to 'allow' (they stay in the model, are never cited as a "
                "reason, and the validation report flags them)")
        return self


# ---- feature_engineering ------------------------------------------------------------------
class RowRule(Strict):
    in_: list[Any] | None = Field(None, alias="in", min_length=1)
    min: Number | None = None
    max: Number | None = None
    not_null: StrictBool = False


Rules = dict[str, RowRule]


class Derived(Strict):
    op: Literal["difference", "ratio", "sum", "product"]
    of: Annotated[list[StrictStr], Field(min_length=2, max_length=2)]
    clip: Annotated[list[Number | None], Field(min_length=2, max_length=2)] | None = None


class ParentLink(Strict):
    table: StrictStr
    key: StrictStr
    parent_key: StrictStr | None = None
    applicant_key: StrictStr


Aggregate = Literal["count", "sum", "mean", "min", "max", "std"]


class Latest(Strict):
    order_by: StrictStr
    columns: list[StrictStr] = Field(min_length=1)


class PerParent(Strict):
    key: StrictStr
    aggregates: dict[str, list[Aggregate]] = Field(min_length=1)
    then: list[Literal["mean", "min", "max", "sum", "std"]] = Field(min_length=1)


class RelatedTable(Strict):
    key: StrictStr | None = None
    parent: ParentLink | None = None
    row_key: StrictStr | list[StrictStr] | None = None
    duplicate_rows: Literal["drop", "refuse"] = "drop"
    known_at: StrictStr | None = None  # days from the application: rows after it (> 0) dropped
    special_values: dict[str, list[Any]] = {}
    filter: Rules = {}
    derived: dict[str, Derived] = {}
    subsets: dict[str, Rules] = {}
    aggregates: dict[str, dict[str, list[Aggregate]]] = {}
    shares: dict[str, list[Any]] = {}
    latest: Latest | None = None
    per: PerParent | None = None

    @model_validator(mode="after")
    def _linked_once(self) -> RelatedTable:
        if (self.key is None) == (self.parent is None):
            raise ValueError("give exactly one of 'key' (the applicant id column of this "
                             "table) or 'parent' (a link through another related table)")
        if any(set(columns.get("rows", [])) - {"count"} for columns in self.aggregates.values()):
            raise ValueError("'rows' takes only [count]; other aggregates name a column")
        unknown = set(self.aggregates) - {"all", *self.subsets}
        if unknown:
            raise ValueError(f"aggregates under {sorted(unknown)}: not 'all' nor a subset "
                             f"declared under 'subsets' ({sorted(self.subsets)})")
        return self


class FeatureEngineering(Strict):
    tables: dict[str, RelatedTable] = {}


# ---- candidate stages: baselines, model_comparison, train -------------------------------
class EarlyStopping(Strict):
    rounds: Count
    validation_share: Annotated[Number, Field(gt=0, lt=1)]


class Candidate(Strict):
    estimator: str
    params: dict[str, Any] = {}
    preprocessing: Literal[tuple(PREPROCESSING)]
    categorical_features_param: str | None = None
    early_stopping: EarlyStopping | None = None

    @field_validator("estimator")
    @classmethod
    def _importable(cls, path: str) -> str:
        try:
            load_obj(path)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(
                f"cannot import estimator '{path}' ({error}); give the full import path of a "
                "classifier class, e.g. xgboost.XGBClassifier"
            ) from None
        if path not in FAMILIES:  # it could not be stored natively nor explained
            raise ValueError(unknown_family_message(path))
        if path == BLEND:
            raise ValueError("the blend is built by thresholding from the best candidates "
                             "(thresholding.blend.members), not listed as a candidate")
        return path

    @field_validator("early_stopping")
    @classmethod
    def _can_stop_early(cls, early_stopping: EarlyStopping | None, info) -> EarlyStopping | None:
        estimator = info.data.get("estimator")  # absent when the estimator itself is invalid
        if early_stopping is not None and estimator and FAMILIES[estimator].early_stopping is None:
            raise ValueError(f"{estimator} has no boosting rounds to stop early; remove the key")
        return early_stopping

    @field_validator("params", mode="before")
    @classmethod
    def _none_is_empty(cls, params: Any) -> Any:
        return {} if params is None else params


ClassWeighting = Literal["balanced"] | None


class CandidateStage(Strict):
    random_state: StrictInt
    selection_metric: Metric
    class_weighting: ClassWeighting = None
    candidates: dict[str, Candidate] = Field(min_length=1)


class ModelComparison(CandidateStage):
    sample_rows: Count | None = None


# ---- tuning -----------------------------------------------------------------------------
class IntDimension(Strict):
    type: Literal["int"]
    low: StrictInt
    high: StrictInt
    step: Annotated[StrictInt, Field(ge=1)] = 1
    log: StrictBool = False


class FloatDimension(Strict):
    type: Literal["float"]
    low: Number
    high: Number
    step: Positive | None = None
    log: StrictBool = False


class CategoricalDimension(Strict):
    type: Literal["categorical"]
    choices: list[Any] = Field(min_length=1)


def _check_range(dimension: IntDimension | FloatDimension) -> None:
    """Optuna's own rules, checked before the first trial rather than during it."""
    if dimension.low > dimension.high:
        raise ValueError(f"low {dimension.low} is above high {dimension.high}")
    if dimension.log and dimension.low <= 0:
        raise ValueError(f"a log-scale range needs low > 0, got low {dimension.low}")
    if dimension.log and dimension.step not in (None, 1):
        raise ValueError("a log-scale range takes no step")


Dimension = Annotated[
    IntDimension | FloatDimension | CategoricalDimension, Field(discriminator="type")
]


class OptunaComponent(Strict):
    class_: str = Field(alias="class")
    kwargs: dict[str, Any] = {}


class Tuning(Strict):
    family: StrictStr | None = None
    candidates: dict[str, Candidate]
    objective_metric: Metric
    random_state: StrictInt
    class_weighting: ClassWeighting = None
    study_name: StrictStr
    n_trials: Count
    timeout_s: Positive | None = None
    sampler: OptunaComponent
    pruner: OptunaComponent
    search_spaces: dict[str, dict[str, Dimension]]

    @field_validator("sampler", "pruner")
    @classmethod
    def _optuna_class_exists(cls, component: OptunaComponent, info) -> OptunaComponent:
        module = getattr(optuna, f"{info.field_name}s")  # optuna.samplers, optuna.pruners
        if not hasattr(module, component.class_):
            raise ValueError(f"optuna.{info.field_name}s has no class '{component.class_}'")
        return component

    @field_validator("search_spaces")
    @classmethod
    def _bounds(cls, spaces: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for space in spaces.values():
            for dimension in space.values():
                if not isinstance(dimension, CategoricalDimension):
                    _check_range(dimension)
        return spaces

    @model_validator(mode="after")
    def _family_known(self) -> Tuning:
        if self.family is not None and self.family not in self.search_spaces:
            raise ValueError(
                f"family '{self.family}' has no entry in search_spaces "
                f"({list(self.search_spaces)})"
            )
        return self


# ---- thresholding -----------------------------------------------------------------------
class Calibration(Strict):
    methods: list[Literal[METHODS]] = Field(min_length=1)
    choose_by: Literal[CRITERIA] = "log_loss"


class Blend(Strict):
    members: Annotated[StrictInt, Field(ge=0)]


class Champion(Strict):
    selection_metric: Metric
    min_improvement: Annotated[Number, Field(ge=0)] = 0.0
    on_other_folds: Literal["keep", "promote"] = "keep"


class Thresholding(Strict):
    calibration: Calibration
    costs: Costs
    constraints: Constraints = Constraints()
    # the score scaling (decisions.ScoreScaling), named scorecard in YAML and stored models
    scaling: ScoreScaling = Field(alias="scorecard")
    score_bands: Annotated[StrictInt, Field(ge=2)]
    reason_codes: Annotated[StrictInt, Field(ge=0, le=MAX_REASONS)]
    psi_bins: Annotated[StrictInt, Field(ge=2)]
    blend: Blend
    selection: Literal["one_standard_error", "best"]
    # the candidates that may become champion (names as in the ranking); null: every one
    eligible: Annotated[list[StrictStr], Field(min_length=1)] | None = None
    champion: Champion


# ---- scoring ----------------------------------------------------------------------------
class Psi(Strict):
    watch: Positive
    alarm: Positive


class Scoring(Strict):
    psi: Psi
    batch_date: date | None = None


# ---- validation -------------------------------------------------------------------------
class Bootstrap(Strict):
    resamples: Annotated[StrictInt, Field(ge=10)]
    seed: StrictInt


class TrafficLight(Strict):
    amber_below: Rate
    red_below: Rate

    @model_validator(mode="after")
    def _ordered(self) -> TrafficLight:
        if self.red_below > self.amber_below:
            raise ValueError(f"red_below ({self.red_below}) must not exceed amber_below "
                             f"({self.amber_below}): red is the stronger evidence")
        return self


class Fairness(Strict):
    min_applicants: Count
    min_bads: Count
    adverse_impact_below: Annotated[Number, Field(gt=0, le=1)]


class FeatureEffects(Strict):
    sample_rows: Annotated[StrictInt, Field(ge=100)]
    flat_below: Annotated[Number, Field(ge=0, lt=1)]
    seed: StrictInt


class Validation(Strict):
    # set at run time only (the catalog's champion@version reads it): a version or alias
    model_version: StrictStr | StrictInt | None = None
    confidence_level: Annotated[Number, Field(gt=0, lt=1)]
    bootstrap: Bootstrap
    gains_groups: Annotated[StrictInt, Field(ge=2)]
    hosmer_lemeshow_groups: Annotated[StrictInt, Field(ge=3)]
    jeffreys: TrafficLight
    psi: Psi
    cost_ratio_changes: list[Annotated[Number, Field(gt=-1)]]
    vintage_min_applicants: Count = 50
    feature_effects: FeatureEffects
    fairness: Fairness
    findings: FindingRules
    model_card: ModelCardSettings
    gate: Literal["enforce", "warn"]



class Monitoring(Strict):
    alerts: AlertRules
    backtesting: Backtesting


# ---- hub (credit-scoring-hub) -----------------------------------------------------------
class HubDownload(Strict):
    repo_id: StrictStr
    filename: StrictStr | None = None
    revision: StrictStr | None = None
    sha256: StrictStr | None = None
    trust_remote_code: StrictBool = False


class ModelCard(Strict):
    license: StrictStr
    project_url: StrictStr
    intended_use: StrictStr
    training_data: StrictStr
    limitations: StrictStr


class HubPublish(Strict):
    repo_id: StrictStr | None = None
    private: StrictBool = True
    card: ModelCard


class Hub(Strict):
    download: HubDownload
    publish: HubPublish


MODELS: dict[str, type[BaseModel]] = {
    "feature_engineering": FeatureEngineering,
    "data_processing": DataProcessing,
    "baselines": CandidateStage,
    "model_comparison": ModelComparison,
    "train": CandidateStage,
    "tuning": Tuning,
    "thresholding": Thresholding,
    "reasons": ReasonDictionary,
    "scoring": Scoring,
    "validation": Validation,
    "monitoring": Monitoring,
    "recalibrate": Recalibration,
    "hub": Hub,
}
"""Top-level parameter block -> its model."""


class ParameterError(ValueError):
    """Raised at run start for invalid parameters; one line per bad key, with its YAML path."""


DIMENSION_TAG = 3
"""Position of the union tag Pydantic adds in ``search_spaces.<family>.<name>.<tag>...``."""


def _describe(block: str, error: dict[str, Any]) -> str:
    loc = list(error["loc"])
    if loc[:1] == ["search_spaces"] and len(loc) > DIMENSION_TAG:
        del loc[DIMENSION_TAG]  # the union tag ('int', 'float' ...), not a key of the YAML
    path = ".".join([block, *map(str, loc)])
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown key (misspelt?); remove it or correct its name"
    if error["type"] == "missing":
        return f"{path}: required key is missing"
    if error["type"] in {"union_tag_not_found", "union_tag_invalid"}:
        return f"{path}: needs 'type: int | float | categorical' and that type's keys"
    message = error["msg"].removeprefix("Value error, ")
    return f"{path}: {message}, got {error['input']!r}"


def protected_in_recipes(parameters: dict[str, Any]) -> list[str]:
    """Related-table recipes that read a protected attribute while policy exclude keeps it
    out of the model (an aggregate of it would carry it back in)."""
    protected = (parameters.get("data_processing") or {}).get("protected_attributes") or {}
    if protected.get("policy", "exclude") == "allow":
        return []
    columns = set(protected.get("columns", []))
    problems = []
    for table, spec in ((parameters.get("feature_engineering") or {}).get("tables") or {}).items():
        named = sorted(columns & recipe_columns(spec))
        if named:
            problems.append(
                f"feature_engineering.tables.{table} reads {named}, protected attributes "
                "(data_processing.protected_attributes) that policy 'exclude' keeps out of the "
                "model: remove them from the recipe, or set the policy to 'allow' (they stay in "
                "the model, are never cited as a reason, and the validation report flags them)")
    return problems


def validate_parameters(parameters: dict[str, Any], blocks: list[str]) -> None:
    """Check each named top-level block against its model; raise one error listing all.

    Raises:
        ParameterError: naming every bad key by its YAML path (e.g.
            ``tuning.search_spaces.xgboost.max_depth.high``) and what is wrong.
    """
    problems = [f"{name}: unknown parameter block (misspelt?); the blocks are {sorted(MODELS)}"
                for name in parameters if name not in MODELS]
    for block in blocks:
        if block not in parameters:
            problems.append(f"{block}: the block is missing (conf/base/parameters_{block}.yml)")
            continue
        try:
            MODELS[block].model_validate(parameters[block])
        except ValidationError as error:
            problems += [_describe(block, e) for e in error.errors()]
    if not problems and "feature_engineering" in blocks:
        problems += protected_in_recipes(parameters)
    if problems:
        raise ParameterError(
            "Invalid parameters (conf/base/parameters_<pipeline>.yml and overrides in "
            "conf/local):\n- " + "\n- ".join(problems)
        )
