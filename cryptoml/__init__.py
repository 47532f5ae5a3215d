"""Jupyter-first research toolkit for machine learning on crypto markets

Modules:

- `cryptoml.core`: Settings, project paths, seeding, logging, executors, durable atomic writes, the saved-model format and the error types of every module.
- `cryptoml.ledger`: The run ledger: one row per template run, sweep, API job and walk-forward evaluation, in the job database; list, show and compare runs, a comparison page, and an export to MLflow.
- `cryptoml.models.core`: The engine contract every forecaster follows, the baselines, the engine registry, `TrainResult` and walk-forward evaluation.
- `cryptoml.models.ensemble`: `EnsembleEngine`: combine several engines' forecasts -- their mean, their rank mean, or a ridge stack fitted on out-of-fold forecasts only -- behind the same engine contract.
- `cryptoml.monitor`: Production monitoring of saved models: drift of the features and forecasts against the training statistics in the model card (PSI, KS), live performance from logged or replayed forecasts (rolling IC, hit rate, calibration, decay since training), and model health.
- `cryptoml.pipeline`: `Preparation`, the one fitted recipe from candles (one coin or a panel of coins) to model input, with its hold-out and walk-forward split policies, and `MLPipeline`, the original one-object API over it."""

__version__ = "0.1.0"
