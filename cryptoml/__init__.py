"""Jupyter-first research toolkit for machine learning on crypto markets

Modules:

- `cryptoml.core`: Settings, project paths, seeding, logging, executors, durable atomic writes, the saved-model format and the error types of every module.
- `cryptoml.models.core`: The engine contract every forecaster follows, the baselines, the engine registry, `TrainResult` and walk-forward evaluation.
- `cryptoml.pipeline`: `Preparation`, the one fitted recipe from candles (one coin or a panel of coins) to model input, with its hold-out and walk-forward split policies, and `MLPipeline`, the original one-object API over it."""

__version__ = "0.1.0"
