"""Forecast quality of every engine and baseline on real hourly candles, walk-forward.

BTC and ETH hourly candles (Binance, quoted in USDT) from the shared data folder; the last `--rows` hours
(default 5000, about seven months up to 2023-06-30). Scale-free features of the "minimal" set, windows of 24 hours,
target: next-hour log return. Three expanding walk-forward folds (purged and embargoed), the preparation refitted
per fold on the fold's training rows; engines with a seed are trained with seeds 0, 1, 2.
Prints, per symbol, rmse, directional accuracy, IC and rank IC (mean and std over seeds of the fold average).

    python benchmarks/forecast_quality.py [--rows 5000] [--seeds 3] [--epochs 8]
"""

import argparse, logging, os, sys, time, warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices when fold sizes change

import pandas as pd

from cryptoml.core import shared_data_dir
from cryptoml.data import load_market_data
from cryptoml.dataset import WalkForwardSplitter
from cryptoml.models.core import (
    Preparation,
    SCALE_FREE_MINIMAL,
    ZeroReturnBaseline,
    LastReturnBaseline,
    RidgeBaseline,
    compare_engines,
)
from cryptoml.models.xgb import XGBoostEngine
from cryptoml.models.deep import LSTMEngine, GRUEngine, TransformerEngine

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=5000)
ap.add_argument("--seeds", type=int, default=3)
ap.add_argument("--epochs", type=int, default=8)
ap.add_argument("--symbols", default="BTC/USD,ETH/USD")
args = ap.parse_args()

src = shared_data_dir()
if src is None:
    sys.exit("no shared data folder (../shared/data or CRYPTOML_SHARED_DATA); nothing to benchmark")

SEQ = 24
deep = dict(
    sequence_length=SEQ,
    hidden_units=32,
    num_layers=1,
    dropout=0.1,
    epochs=args.epochs,
    batch_size=128,
    learning_rate=1e-3,
    patience=3,
    reduce_lr_patience=2,
)
engines = {
    "zero return": ZeroReturnBaseline(),
    "last return": LastReturnBaseline(return_feature="logret_1"),
    "ridge": RidgeBaseline(alpha=100.0, window_features="flatten"),
    "xgboost": XGBoostEngine(n_estimators=200, max_depth=3, learning_rate=0.05, window_features="summary", n_jobs=2),
    "lstm": LSTMEngine(**deep),
    "gru": GRUEngine(**deep),
    "transformer": TransformerEngine(**{**deep, "num_heads": 4}),
}
metrics = ["rmse", "directional_accuracy", "ic", "rank_ic"]
t_all = time.perf_counter()
for symbol in args.symbols.split(","):
    df = load_market_data(symbol, "1h", limit=args.rows, source=src)
    prep = Preparation(
        feature_set="minimal", scaler="standard", sequence_length=SEQ, horizon=1, columns=SCALE_FREE_MINIMAL
    )
    t0 = time.perf_counter()
    table, results = compare_engines(
        engines,
        df,
        preparation=prep,
        seeds=tuple(range(args.seeds)),
        metrics=metrics,
        splitter=WalkForwardSplitter(n_splits=3, horizon=1, sequence_length=SEQ),
        val_fraction=0.15,
    )
    folds = results["ridge"].folds
    print(
        f"\n=== {symbol} 1h (Binance, USDT): {len(df)} candles {df.index[0]:%Y-%m-%d} .. {df.index[-1]:%Y-%m-%d}; "
        f"3 walk-forward folds, test {folds['n_test'].iloc[0]} h each from {folds['test_start'].iloc[0]:%Y-%m-%d}; "
        f"{args.seeds} seeds; {time.perf_counter() - t0:.0f}s ==="
    )
    out = pd.DataFrame(
        {
            m: [f"{table.loc[k, f'{m} mean']:.5f} ± {table.loc[k, f'{m} std']:.5f}" for k in table.index]
            for m in metrics + ["seconds"]
        },
        index=table.index,
    )
    print(out.to_string())
    best = table["rmse mean"].idxmin()
    best_ic = table["ic mean"].idxmax()
    print(
        f"lowest rmse: {best}; highest IC: {best_ic}; rmse of each vs zero-return baseline: "
        + ", ".join(f"{k} {table.loc[k, 'rmse mean'] / table.loc['zero return', 'rmse mean']:.4f}" for k in table.index)
    )
    per_fold = pd.concat(
        {k: r.folds.groupby("fold")[["ic", "directional_accuracy"]].mean() for k, r in results.items()}, axis=1
    )
    print("per-fold IC (seed mean):")
    print(per_fold.xs("ic", axis=1, level=1).round(4).to_string())
print(f"\ntotal {time.perf_counter() - t_all:.0f}s")
