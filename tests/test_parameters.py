"""Typed parameters: every shipped block is valid; a bad key is named by its YAML path."""

import copy

import pytest

from credit_scoring.parameters import MODELS, ParameterError, validate_parameters


def test_every_shipped_parameter_block_is_valid(project_params):
    validate_parameters(project_params, list(MODELS))


def changed(params: dict, path: str, value) -> dict:
    """A deep copy of ``params`` with the dotted ``path`` set to ``value`` (or deleted)."""
    params = copy.deepcopy(params)
    *parents, key = path.split(".")
    node = params
    for part in parents:
        node = node[part]
    if value is KeyError:
        del node[key]
    else:
        node[key] = value
    return params


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("thresholding.costs.accept_bad", -5, "thresholding.costs.accept_bad: Input should be greater than 0, got -5"),
        ("thresholding.costs.decline_good", 0, "thresholding.costs.decline_good: Input should be greater than 0, got 0"),
        ("thresholding.costs.accept_bad", "high", "thresholding.costs.accept_bad: Input should be a valid number"),
        ("thresholding.constraints.min_approval_rate", 1.5, "min_approval_rate: Input should be less than or equal to 1, got 1.5"),
        ("thresholding.constraints.max_bad_rate", -0.1, "max_bad_rate: Input should be greater than or equal to 0"),
        ("thresholding.calibration.methods", ["none", "sigmoid"], "thresholding.calibration.methods.1: Input should be 'none', 'platt' or 'isotonic'"),
        ("thresholding.calibration.choose_by", "auc", "thresholding.calibration.choose_by: Input should be 'log_loss' or 'brier'"),
        ("model_comparison.candidates.random_forest.early_stopping", {"rounds": 50, "validation_share": 0.1}, "random_forest.early_stopping"),
        ("model_comparison.candidates.lightgbm.early_stopping.validation_share", 1.0, "lightgbm.early_stopping.validation_share: Input should be less than 1"),
        ("model_comparison.sample_rows", 0, "model_comparison.sample_rows: Input should be greater than or equal to 1"),
        ("thresholding.blend.members", -1, "thresholding.blend.members: Input should be greater than or equal to 0"),
        ("thresholding.blend", KeyError, "thresholding.blend: required key is missing"),
        ("model_comparison.candidates.random_forest.estimator", "credit_scoring.models.blend.BlendedPD", "the blend is built by thresholding from the best candidates"),
        ("thresholding.scorecard.pdo", 0, "thresholding.scorecard.pdo: Input should be greater than 0"),
        ("thresholding.champion.selection_metric", "accuracy", "thresholding.champion.selection_metric: Input should be 'roc_auc'"),
        ("thresholding.score_bands", 1, "thresholding.score_bands: Input should be greater than or equal to 2"),
        ("data_processing.split.cv_fold", 5, "data_processing.split.cv_fold: unknown key (misspelt?)"),
        ("data_processing.split.cv_folds", KeyError, "data_processing.split.cv_folds: required key is missing"),
        ("data_processing.split.test_size", 1.5, "data_processing.split.test_size: Input should be less than 1"),
        ("data_processing.split.in_time_holdout", 0.1, "in_time_holdout and out_of_time_start need a date_column"),
        ("data_processing.split.cv", "rolling", "data_processing.split.cv: Input should be 'stratified' or 'time_series'"),
        ("data_processing.split.out_of_time_start", "July", "data_processing.split.out_of_time_start: Input should be a valid date"),
        ("tuning.n_trails", 10, "tuning.n_trails: unknown key (misspelt?)"),
        ("tuning.n_trials", "many", "tuning.n_trials: Input should be a valid integer"),
        ("tuning.search_spaces.xgboost.max_depth", {"low": 2, "high": 6},
         "tuning.search_spaces.xgboost.max_depth: needs 'type: int | float | categorical'"),
        ("tuning.search_spaces.xgboost.max_depth", {"type": "int", "low": 2},
         "tuning.search_spaces.xgboost.max_depth.high: required key is missing"),
        ("tuning.search_spaces.xgboost.max_depth", {"type": "int", "low": 9, "high": 6},
         "tuning.search_spaces: low 9 is above high 6"),
        ("tuning.sampler.class", "TPE", "tuning.sampler: optuna.samplers has no class 'TPE'"),
        ("tuning.family", "extra_trees", "family 'extra_trees' has no entry in search_spaces"),
        ("model_comparison.candidates.xgboost.estimator", "xgboost.XGBClassifer",
         "model_comparison.candidates.xgboost.estimator: cannot import estimator 'xgboost.XGBClassifer'"),
        ("baselines.candidates.logistic_regression.preprocessing", "woe",
         "baselines.candidates.logistic_regression.preprocessing: Input should be 'one_hot_scaled'"),
        ("thresholding.reason_codes", -1, "thresholding.reason_codes: Input should be greater than or equal to 0"),
        ("thresholding.champion.min_improvement", -0.01, "thresholding.champion.min_improvement: Input should be greater than or equal to 0"),
        ("tuning.n_trials", "10", "tuning.n_trials: Input should be a valid integer, got '10'"),
        ("thresholding.costs.accept_bad", True, "thresholding.costs.accept_bad: Input should be a valid number, got True"),
        ("data_processing.columns.categorical", "purpose",
         "data_processing.columns.categorical: Input should be a valid list, got 'purpose'"),
        ("tuning.search_spaces.xgboost.learning_rate", {"type": "float", "low": 0, "high": 0.3, "log": True},
         "a log-scale range needs low > 0, got low 0"),
        ("hub.download.trust_pickle", True, "hub.download.trust_pickle: unknown key (misspelt?)"),
        ("data_processing.expected_effects.decreasing", ["age_in_years"],
         "expected_effects names ['age_in_years'], protected attributes or features derived"),
        ("data_processing.columns.drop", ["foreign_worker"],
         "['foreign_worker'] are protected attributes and in columns.drop"),
        ("data_processing.protected_attributes.bands", {"duration_in_month": [12, 24]},
         "bands for ['duration_in_month'], which are not among the protected columns"),
        ("data_processing.protected_attributes.policy", "ignore",
         "data_processing.protected_attributes.policy: Input should be 'exclude' or 'allow'"),
    ],
)
def test_a_bad_parameter_is_named_by_its_yaml_path(project_params, path, value, message):
    block = path.split(".")[0]
    with pytest.raises(ParameterError) as error:
        validate_parameters(changed(project_params, path, value), [block])
    assert message in str(error.value)


def test_a_misspelt_block_name_is_an_error(project_params):
    with pytest.raises(ParameterError, match="tunning: unknown parameter block"):
        validate_parameters({**project_params, "tunning": {"n_trials": 4}}, ["tuning"])


def test_every_bad_key_is_listed_at_once(project_params):
    params = changed(project_params, "thresholding.costs.accept_bad", 0)
    params = changed(params, "tuning.n_trials", 0)
    with pytest.raises(ParameterError) as error:
        validate_parameters(params, ["thresholding", "tuning"])
    assert "thresholding.costs.accept_bad" in str(error.value)
    assert "tuning.n_trials" in str(error.value)


def test_a_protected_attribute_in_a_recipe_or_an_expected_effect_is_refused_unless_allowed(
        project_params):
    """Under policy exclude an aggregate or a declared effect would carry it into the model."""
    params = changed(project_params, "feature_engineering.tables", {"bureau": {
        "key": "id", "aggregates": {"all": {"age_in_years": ["max"]}}}})
    params = changed(params, "data_processing.feature_recipes.ratios.amount_per_age",
                     {"numerator": "credit_amount", "denominator": "age_in_years"})
    with pytest.raises(ParameterError) as error:
        validate_parameters(params, ["data_processing", "feature_engineering"])
    assert "feature_engineering.tables.bureau reads ['age_in_years'], protected" in str(error.value)
    effects = changed(params, "data_processing.expected_effects.increasing", ["amount_per_age"])
    with pytest.raises(ParameterError, match=r"names \['amount_per_age'\].*age_in_years"):
        validate_parameters(effects, ["data_processing"])  # a derived feature follows its source
    allowed = changed(effects, "data_processing.protected_attributes.policy", "allow")
    validate_parameters(allowed, ["data_processing", "feature_engineering"])
