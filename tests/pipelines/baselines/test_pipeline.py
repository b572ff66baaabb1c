"""baselines runs on its own from what data_processing persisted."""

from credit_scoring.pipelines.baselines import create_pipeline


def test_baselines_reads_persisted_model_input_and_its_own_parameters():
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "model_input_train", "model_input_test", "feature_schema",
        "params:baselines.candidates", "params:baselines.random_state",
        "params:baselines.selection_metric", "params:baselines.class_weighting",
    }
    assert pipeline.outputs() == {
        "baselines.candidates", "baselines.metrics", "baselines.oof_predictions",
        "baselines.feature_importance",
    }
