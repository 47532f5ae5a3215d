"""Volatility forecast quality and volatility-targeted sizing on the eight shared hourly coins, walk-forward.

Binance hourly candles (quoted in USDT) of BTC, ETH, LTC, XRP, ADA, DOGE, SOL and BNB from the shared data folder,
2018 (or listing) to 2023-06-30. Target: realized variance (close-to-close) of the next 24 hours, one forecast a day
at the last hourly candle of each UTC day (non-overlapping), refitted every 30 days (720 hourly decision times).

1. Tuning, on data before `--start` only (candles before it; scored decisions from `--tune-start`): the EWMA decay,
   the XGBoost configuration, the members of the model average (the three best models), the model that drives the
   sizing (the best one), the assumed correlation of the sizing (mean pairwise correlation of daily returns) and
   its target volatility (half the equal-weight basket's volatility).
2. Scoring, from `--start`: every model walk-forward per coin (XGBoost pooled over the coins, on a rolling window);
   QLIKE per model per coin and pooled, ratio to HAR, Diebold-Mariano p-values against HAR, fit and other time.
3. Sizing: the tuned model's forecasts -> `vol_target_weights` (always long, equal risk, no leverage) ->
   `basket_comparison` on daily bars: net Sharpe at 10 bps per side against the buy-and-hold basket, and the
   maximum drawdown ratio.

    CRYPTOML_SHARED_DATA=/path/to/shared/data python benchmarks/volatility_quality.py [--deep] [--symbols ...]
"""

import argparse, logging, os, sys, time, warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")
logging.getLogger("tensorflow").setLevel(logging.ERROR)

import numpy as np
import pandas as pd

from cryptoml.core import shared_data_dir
from cryptoml.data import load_market_data
from cryptoml.models.core import make_engine
from cryptoml.volatility import (
    EWMAEngine,
    GARCHEngine,
    HAREngine,
    basket_comparison,
    vol_target_weights,
    volatility_walk_forward,
)

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)

ap = argparse.ArgumentParser()
ap.add_argument("--data", default=None, help="shared data folder (default: CRYPTOML_SHARED_DATA or ../shared/data)")
ap.add_argument("--symbols", default="BTC,ETH,LTC,XRP,ADA,DOGE,SOL,BNB")
ap.add_argument("--start", default="2020-01-01", help="first scored decision time")
ap.add_argument("--tune-start", default="2019-01-01", help="first decision time scored while tuning")
ap.add_argument("--test-size", type=int, default=720, help="decision times per fold (refit interval)")
ap.add_argument("--horizon", type=int, default=24)
ap.add_argument("--xgb-train", type=int, default=17_520, help="rolling training window of XGBoost (decision times)")
ap.add_argument("--deep", action="store_true", help="also an LSTM (pooled; slow on CPU)")
args = ap.parse_args()

src = args.data or shared_data_dir()
if src is None:
    sys.exit("no shared data folder (--data, CRYPTOML_SHARED_DATA or ../shared/data); nothing to benchmark")
T0 = time.perf_counter()
coins = {s: load_market_data(f"{s}/USD", "1h", limit=None, source=src) for s in args.symbols.split(",")}
panel = pd.concat(coins, axis=1, names=["symbol", "field"])  # outer join: coins list at different times
start = pd.Timestamp(args.start, tz="UTC")
pre = panel[panel.index < start].dropna(axis=1, how="all")
span = f"{panel.index[0]:%Y-%m-%d} .. {panel.index[-1]:%Y-%m-%d}"
print(f"{len(coins)} coins, {len(panel):,} hours {span}; scored from {start:%Y-%m-%d}")

XGB = {
    "xgb_shallow": dict(n_estimators=300, max_depth=3, learning_rate=0.05, window_features="last", n_jobs=2),
    "xgb_deeper": dict(n_estimators=300, max_depth=5, learning_rate=0.05, window_features="last", n_jobs=2),
}
XGB_OPTS = {"mode": "rolling", "train_size": args.xgb_train}
LAMS = (0.94, 0.97, 0.985, 0.99, 0.995)
GARCH_OBS = 17_520  # GARCH estimation window: the last two years of hourly returns (as XGBoost's)


def baselines(lam_models: dict) -> dict:
    return {
        "persistence": "persistence",
        **lam_models,
        "har": HAREngine(),
        "harq": HAREngine(harq=True),
        "har_x": HAREngine(estimators=("cc", "parkinson", "gk", "rs")),
        "garch": GARCHEngine(max_obs=GARCH_OBS),
        "gjr": GARCHEngine(kind="gjr", max_obs=GARCH_OBS),
    }


# --- 1. tuning on data before the scored period ---------------------------------------------------------------------
t = time.perf_counter()
ewmas = {f"ewma_{lam}": EWMAEngine(lam=lam, sequence_length=336) for lam in LAMS}
tune_models = baselines(ewmas) | {k: make_engine("xgboost", **v) for k, v in XGB.items()}
tune = volatility_walk_forward(
    tune_models,
    pre,
    args.horizon,
    test_size=args.test_size,
    start=args.tune_start,
    pooled=list(XGB),
    options={k: XGB_OPTS for k in XGB},
    val_fraction=0.1,
)
tq = tune.losses().mean().sort_values()
lam = float(min(LAMS, key=lambda x: tq[f"ewma_{x}"]))
xgb_name = min(XGB, key=lambda k: tq[k])
tq_named = tq.rename({f"ewma_{lam}": "ewma", xgb_name: "xgboost"}).drop(
    [k for k in tq.index if k.startswith(("ewma_", "xgb_"))], errors="ignore"
)
members = [m for m in tq_named.drop("persistence").index[:3]]
sizing_model = tq_named.drop("persistence").index[0]
daily = np.log(pre.xs("close", axis=1, level="field").resample("1D").last()).diff()
corr = daily.corr().to_numpy()
rho = float(np.nanmean(corr[np.triu_indices_from(corr, 1)]))
ew_vol = float(daily.mean(axis=1).std() * np.sqrt(365))
target_vol = round(ew_vol / 2 / 0.05) * 0.05
print(
    f"\n[tuning {args.tune_start} .. {start:%Y-%m-%d}, {len(tune.forecasts)} forecasts, "
    f"{time.perf_counter() - t:.0f}s] pooled QLIKE: {tq.round(4).to_dict()}"
)
print(
    f"chosen: EWMA lambda {lam}, XGBoost {xgb_name} {XGB[xgb_name]}, average of {members}, sizing with {sizing_model}; "
    f"rho {rho:.2f} (mean pairwise daily correlation), target volatility {target_vol:.0%} (half of {ew_vol:.0%})"
)

# --- 2. scoring from --start ----------------------------------------------------------------------------------------
t = time.perf_counter()
models = baselines({"ewma": EWMAEngine(lam=lam, sequence_length=336)}) | {
    "xgboost": make_engine("xgboost", **XGB[xgb_name])
}
pooled, options = ["xgboost"], {"xgboost": XGB_OPTS}
if args.deep:
    models["lstm"] = make_engine(
        "lstm", sequence_length=24, hidden_units=16, num_layers=1, epochs=3, batch_size=512, patience=1, seed=0
    )
    pooled.append("lstm")
    options["lstm"] = XGB_OPTS
vf = volatility_walk_forward(
    models,
    panel,
    args.horizon,
    test_size=args.test_size,
    start=start,
    pooled=pooled,
    options=options,
    average={"average": members},
    val_fraction=0.1,
)
print(f"\n[scoring: {len(vf.forecasts):,} daily forecasts, {time.perf_counter() - t:.0f}s]")
ct = vf.coin_table("har")
cols = list(vf.models)
for what, title in [
    ("qlike", "QLIKE per coin and pooled (mean over daily forecasts)"),
    ("ratio", "ratio of QLIKE to HAR's"),
    ("dm", "Diebold-Mariano statistic against HAR (QLIKE; negative = lower loss than HAR)"),
    ("p_value", "Diebold-Mariano p-value against HAR (two-sided)"),
]:
    print(f"\n{title}")
    print(ct[what].unstack("model")[cols].round(4 if what == "qlike" else 3).to_string())
tab = vf.table("har", n_boot=1000)
print("\npooled summary (skill = 1 - QLIKE / HAR's QLIKE, 95% block-bootstrap interval over dates)")
print(tab.astype(float).round(3).to_string())
print("\ntime per model over all coins and folds, seconds (fit = training; other = features, windows, forecasts)")
print(vf.timing_table().round(1).to_string())

best = tab.drop(index="har")["qlike"].astype(float).idxmin()
ratio, worst = float(tab.loc[best, "ratio"]), float(tab.loc[best, "worst_coin_ratio"])
print(
    f"\nGOAL best pooled QLIKE <= 0.95 x HAR: best {best} at {ratio:.3f} x HAR "
    f"-> {'MET' if ratio <= 0.95 else 'NOT MET'}"
)
print(
    f"GOAL no coin more than 2% worse than HAR: worst coin {worst:.3f} x HAR -> {'MET' if worst <= 1.02 else 'NOT MET'}"
)

# --- 3. volatility-targeted basket ----------------------------------------------------------------------------------
sizing = dict(target_vol=target_vol, horizon=args.horizon, correlation=rho, max_leverage=1.0, band=0.1)
for model in dict.fromkeys([sizing_model, "har"]):
    W = vol_target_weights(vf.frame(model), **sizing)
    bt = basket_comparison(panel, W, every=args.horizon, fees_bps=(0.0, 10.0, 20.0)).table(10.0)
    tag = "chosen on the tuning period" if model == sizing_model else "for reference, not chosen"
    print(f"\nbaskets on daily bars from {W.index[0]:%Y-%m-%d}: vol target with {model} forecasts ({tag})")
    print(bt.astype(float).round(3).to_string())
    sh, sh_bh = bt.loc["vol target", "sharpe 10bps"], bt.loc["buy & hold", "sharpe 10bps"]
    dd = bt.loc["vol target", "max_drawdown"] / bt.loc["buy & hold", "max_drawdown"]
    if model == sizing_model:
        ok_sh, ok_dd = ("MET" if sh >= sh_bh + 0.15 else "NOT MET"), ("MET" if dd <= 0.75 else "NOT MET")
        print(f"GOAL net Sharpe (10 bps) >= buy & hold + 0.15: {sh:.3f} vs {sh_bh:.3f} + 0.15 -> {ok_sh}")
        print(f"GOAL max drawdown <= 0.75 x buy & hold's: ratio {dd:.3f} -> {ok_dd}")
print(f"\ntotal {time.perf_counter() - T0:.0f}s")
