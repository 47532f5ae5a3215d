"""Jupyter-first research toolkit for machine learning on crypto markets

Modules:

- `cryptoml.api`: The ml-v2 HTTP API (FastAPI): hyperparameter optimization and RL training as durable jobs, sentiment and regime detection at once, predictions with saved models.
- `cryptoml.automl`: Hyperparameter search (grid, random, Bayesian with scikit-optimize, TPE) recorded in an Optuna storage, resumable after a crash, with a built-in walk-forward objective for every engine.
- `cryptoml.backtest`: A vectorized, lookahead-free backtester with fees and slippage, trading statistics, signal helpers and honest Sharpe ratios.
- `cryptoml.cli`: The `cryptoml` command: list and run templates, run the main job or a sweep, serve the HTTP API.
- `cryptoml.core`: Settings, project paths, seeding, logging, executors, durable atomic writes, the saved-model format and the error types of every module.
- `cryptoml.crosssection`: Cross-sectional research on a panel of coins: hand-made signals, pooled-model scores, and factor tear sheets (rank IC by horizon with Newey-West t, decay, by year and by regime, quantile spreads, turnover, fee break-even).
- `cryptoml.data`: Load OHLCV candles from a data directory, an exchange (ccxt) or the synthetic offline market; validate them; find gaps; resample.
- `cryptoml.dataset`: Windows (sequences), scalers fitted on the training part only, and time splits with purge and embargo.
- `cryptoml.evaluation`: Forecast and classification metrics: errors, R², directional accuracy, information coefficients, accuracy, F1, ROC AUC.
- `cryptoml.features`: Causal feature engineering on OHLCV candles: returns, technical indicators, volume, volatility, price patterns and calendar features, a lookahead audit, and the (explicitly forward-looking) targets.
- `cryptoml.jobs`: Durable job records (SQLite by default, any SQLAlchemy URL) run through the one executor protocol (local processes, Dask): atomic claims, an exclusive lease on the table, heartbeats and a reaper, cooperative cancellation with a hard kill, allow-listed targets.
- `cryptoml.ledger`: The run ledger: one row per template run, sweep, API job and walk-forward evaluation, in the job database; list, show and compare runs, a comparison page, and an export to MLflow.
- `cryptoml.models.core`: The engine contract every forecaster follows, the baselines, the engine registry, `TrainResult` and walk-forward evaluation.
- `cryptoml.models.deep`: `LSTMEngine`, `GRUEngine` and `TransformerEngine`: Keras 3 sequence models behind the engine contract.
- `cryptoml.models.ensemble`: `EnsembleEngine`: combine several engines' forecasts -- their mean, their rank mean, or a ridge stack fitted on out-of-fold forecasts only -- behind the same engine contract.
- `cryptoml.models.xgb`: `XGBoostEngine`: gradient-boosted trees on tabular window features, behind the same engine API.
- `cryptoml.monitor`: Production monitoring of saved models: drift of the features and forecasts against the training statistics in the model card (PSI, KS), live performance from logged or replayed forecasts (rolling IC, hit rate, calibration, decay since training), and model health.
- `cryptoml.persistence`: `save_model` / `load_model` for everything fitted (engines with their preparation, scalers, regime and sentiment models, RL agents) with a model card; safe formats, versioned atomic folders, checksums; TensorFlow Lite export.
- `cryptoml.pipeline`: `Preparation`, the one fitted recipe from candles (one coin or a panel of coins) to model input, with its hold-out and walk-forward split policies, and `MLPipeline`, the original one-object API over it.
- `cryptoml.portfolio`: Portfolio construction from cross-sectional scores: dollar-neutral rank weights, top-k / bottom-k, long-only tilts, inverse-volatility, risk parity and hierarchical risk parity, with gross exposure, per-coin caps, a no-trade band, a turnover cap and a rebalance interval.
- `cryptoml.regime`: Market regime detection (bullish, bearish, ranging, volatile, trending) from prices and volumes: documented rules with a confidence, a causal regime series over an OHLCV frame, and a forward-filtered Gaussian hidden-Markov detector.
- `cryptoml.reports`: Run a papermill template with parameters and store the executed notebook, an HTML report and the parameters; run every template (the main job) or every combination of parameter values (a sweep).
- `cryptoml.rl.agents`: Trading agents on the RL environments: tabular Q-learning, PPO and SAC (stable-baselines3), saved without pickle and trained with checkpoints that resume.
- `cryptoml.rl.allocation`: A gymnasium environment that allocates equity across several coins and cash: weights in, the backtester's costs and fills out.
- `cryptoml.rl.compare`: Judge RL agents honestly: out of sample, over seeds, after costs, beside buy-and-hold, the equal-weight and volatility-targeted baskets and a random agent of the same turnover; and check that they can learn at all.
- `cryptoml.rl.env`: A gymnasium trading environment over candles, observed through the one preparation contract, with the backtester's cost model and execution convention.
- `cryptoml.sentiment`: Sentiment scores of news and social posts (VADER with a crypto lexicon, TextBlob, transformer models, a trainable TF-IDF model), their aggregation, and point-in-time sentiment features aligned to candles.
- `cryptoml.testing`: Fixtures for tests, examples and benchmarks: standard optimization test functions, synthetic windows with a learnable signal, a tiny offline transformer, a demo job, and the agreement check of the indicators with `ta`.
- `cryptoml.volatility`: Volatility forecasting and volatility-targeted sizing: persistence, EWMA, HAR(Q) and GARCH/GJR-GARCH as engines, machine-learning challengers on the volatility target, forecast evaluation (QLIKE, Mincer-Zarnowitz, Diebold-Mariano, skill against HAR) and position sizing to a target volatility."""

__version__ = "0.1.0"
