"""AutoML service benchmark, in one run:

1. overhead per trial of `automl_service` (driver, Optuna storage in memory and in SQLite, executor) against calling
   scikit-optimize's `Optimizer` ask/tell directly, with the same surrogate settings, the same cheap objective
   (Branin) and the same number of trials;
2. best walk-forward score reached by Bayesian (scikit-optimize), TPE and random search at equal budgets on a real
   tuning task: XGBoost forecasting the next hourly log return of BTC/USDT (real Binance candles from
   `cryptoml.core.shared_data_dir()`), several seeds.

Usage: .venv/bin/python benchmarks/automl.py [--quick]
"""

from __future__ import annotations

import argparse, os, tempfile, time, warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
for _v in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
):  # one BLAS thread: CPU times comparable, no oversubscription
    os.environ.setdefault(_v, "1")
import numpy as np
import pandas as pd

from cryptoml.automl import OptimizationConfig, WalkForwardObjective, _seed_for, automl_service
from cryptoml.core import shared_data_dir
from cryptoml.testing import branin, test_function_ranges


def raw_skopt(n_trials: int, seed: int, n_init: int) -> tuple[float, float]:
    "scikit-optimize alone, configured and seeded as the service does it (so both evaluate the same points): (CPU seconds, best value)."
    from skopt import Optimizer
    from skopt.space import Real, Space
    from skopt.utils import cook_estimator, normalize_dimensions

    seed = _seed_for(
        OptimizationConfig(model_type="b", hyperparameter_ranges=test_function_ranges("branin"), seed=seed), 0
    )
    t0 = time.process_time()
    dims = [Real(-5.0, 10.0), Real(0.0, 15.0)]
    est = cook_estimator(
        "GP", space=Space(normalize_dimensions(dims)), random_state=seed, noise="gaussian", n_restarts_optimizer=0
    )
    opt = Optimizer(
        dims,
        base_estimator=est,
        n_initial_points=n_init,
        acq_func="gp_hedge",
        acq_optimizer="sampling",
        acq_optimizer_kwargs={"n_points": 2000},
        random_state=seed,
    )
    best = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_trials):
            x = opt.ask()
            y = branin({"x1": x[0], "x2": x[1]})
            opt.tell(x, y)
            best = min(best, y)
    return time.process_time() - t0, best


def service(n_trials: int, seed: int, n_init: int, storage: str, strategy: str = "bayesian") -> tuple[float, float]:
    "The same search through the AutoML service: (CPU seconds, best value)."
    cfg = OptimizationConfig(
        model_type="branin",
        hyperparameter_ranges=test_function_ranges("branin"),
        search_strategy=strategy,
        n_trials=n_trials,
        seed=seed,
        direction="minimize",
        storage=storage,
        n_initial_points=n_init,
    )
    t0 = time.process_time()
    r = automl_service.optimize_hyperparameters(cfg, branin)
    return time.process_time() - t0, r.best_score


def overhead(n_trials: int, seeds: list[int], repeats: int = 3) -> pd.DataFrame:
    "CPU seconds per run (minimum over `repeats`, runs interleaved, after a warm-up) and best value, per variant and seed."
    n_init = 5
    tmp = Path(tempfile.mkdtemp(prefix="automl-bench-"))
    k = iter(range(10**6))
    variants = {
        "scikit-optimize Optimizer (direct)": lambda s: raw_skopt(n_trials, s, n_init),
        "service, bayesian, in-memory storage": lambda s: service(n_trials, s, n_init, "memory"),
        "service, bayesian, SQLite storage": lambda s: service(n_trials, s, n_init, str(tmp / f"b{next(k)}.db")),
        "service, random, in-memory storage": lambda s: service(n_trials, s, n_init, "memory", "random"),
        "service, random, SQLite storage": lambda s: service(
            n_trials, s, n_init, str(tmp / f"r{next(k)}.db"), "random"
        ),
    }
    for f in variants.values():
        f(99)  # warm-up: first-use costs (imports, caches) out of the timings
    rows = []
    for s in seeds:
        best_t = {name: (np.inf, None) for name in variants}
        for _ in range(repeats):
            for name, f in variants.items():
                t, b = f(s)
                if t < best_t[name][0]:
                    best_t[name] = (t, b)
        rows += [(name, s, t, b) for name, (t, b) in best_t.items()]
    df = pd.DataFrame(rows, columns=["run", "seed", "cpu_seconds", "best"])
    out = df.groupby("run", sort=False).agg(cpu_seconds=("cpu_seconds", "sum"), best=("best", "mean"))
    out["ms_per_trial"] = 1000 * out["cpu_seconds"] / (n_trials * len(seeds))
    base = out.loc["scikit-optimize Optimizer (direct)", "ms_per_trial"]
    out["overhead_ms_per_trial_vs_skopt"] = out["ms_per_trial"] - base
    out.loc[out.index.str.contains("random"), "overhead_ms_per_trial_vs_skopt"] = np.nan  # no model: not comparable
    out["ratio_vs_skopt"] = out["ms_per_trial"] / base
    return out


def real_task(n_trials: int, seeds: list[int], limit: int, target: str) -> tuple[pd.DataFrame, dict]:
    "Tune XGBoost on real BTC/USDT hourly features for `target` ('return': next hour, 'volatility': next 24 h realized)."
    from cryptoml.data import load_market_data
    from cryptoml.dataset import WalkForwardSplitter
    from cryptoml.features import future_volatility
    from cryptoml.models.core import SCALE_FREE_MINIMAL, Preparation

    d = shared_data_dir()
    if d is None:
        raise SystemExit("no shared data directory (../shared/data or CRYPTOML_SHARED_DATA): cannot run the real task")
    df = load_market_data("BTC/USD", "1h", limit=limit, source=str(d))
    # trees are invariant to monotone feature scaling, so unscaled features computed once leak nothing
    prep = Preparation(feature_set="minimal", scaler=None, sequence_length=1, columns=SCALE_FREE_MINIMAL).fit(df)
    X, y, idx = prep.dataset(df)
    horizon = 1
    if target == "volatility":
        horizon = 24
        v = 100 * future_volatility(df, horizon).reindex(idx).to_numpy(np.float64)  # percent per hour
        ok = np.isfinite(v)
        X, y = X[ok], v[ok].astype(np.float32)
    ranges = [
        dict(name="max_depth", param_type="int", min=1, max=8),
        dict(name="learning_rate", param_type="float", min=0.005, max=0.3, log=True),
        dict(name="n_estimators", param_type="int", min=20, max=300),
        dict(name="subsample", param_type="float", min=0.5, max=1.0),
        dict(name="colsample_bytree", param_type="float", min=0.5, max=1.0),
    ]
    fixed = dict(n_jobs=1, early_stopping_rounds=10)
    info = dict(candles=len(df), first=str(df.index[0]), last=str(df.index[-1]), samples=len(X), features=X.shape[-1])
    obj = WalkForwardObjective("xgboost", X, y, metric="rmse", n_splits=3, fixed_params=fixed, horizon=horizon)
    info["rmse_default_params"] = obj({})["score"]
    folds = WalkForwardSplitter(n_splits=3, horizon=horizon, sequence_length=1).split(len(X))
    info["rmse_train_mean_forecast"] = float(
        np.mean([np.sqrt(np.mean((y[te] - y[tr].mean()) ** 2)) for tr, te in folds])
    )
    rows = []
    for strategy in ("bayesian", "tpe", "random"):
        for s in seeds:
            cfg = OptimizationConfig(
                model_type="xgboost",
                hyperparameter_ranges=ranges,
                search_strategy=strategy,
                n_trials=n_trials,
                seed=s,
                storage="memory",
                objective_options=dict(metric="rmse", n_splits=3, fixed_params=fixed, horizon=horizon),
            )
            t0 = time.perf_counter()
            r = automl_service.optimize_hyperparameters(cfg, data=X, y=y)
            rows.append(
                dict(
                    strategy=strategy,
                    seed=s,
                    best_rmse=r.best_score,
                    seconds=time.perf_counter() - t0,
                    failed=r.n_failed,
                    best_at_trial=int(r.convergence().idxmin()),
                )
            )
    return pd.DataFrame(rows), info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer trials and seeds")
    ap.add_argument("--part", type=int, choices=(1, 2), help="run only part 1 (overhead) or 2 (real task)")
    a = ap.parse_args()
    n_ov, seeds_ov = (20, [0, 1]) if a.quick else (30, [0, 1, 2])
    n_real, seeds_real, limit = (12, [0, 1], 4000) if a.quick else (20, [0, 1, 2, 3, 4], 8000)
    pd.set_option("display.width", 160)
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")
    if a.part != 2:
        part1(n_ov, seeds_ov)
    if a.part != 1:
        part2(n_real, seeds_real, limit)


def part1(n_ov, seeds_ov):
    print(
        f"== 1. Overhead per trial: AutoML service vs scikit-optimize directly (Branin, {n_ov} trials, GP surrogate, {len(seeds_ov)} seeds, CPU time of this process, fastest of 3 interleaved repeats)"
    )
    ov = overhead(n_ov, seeds_ov)
    print(ov.round(3).to_string())
    o_mem = ov.loc["service, bayesian, in-memory storage", "overhead_ms_per_trial_vs_skopt"]
    o_sql = ov.loc["service, bayesian, SQLite storage", "overhead_ms_per_trial_vs_skopt"]
    print(
        f"-> service overhead per trial: {o_mem:.1f} ms (in-memory storage), {o_sql:.1f} ms (SQLite, every trial committed to disk); "
        f"same points evaluated: {ov['best'].iloc[:3].nunique() == 1}"
    )
    import optuna
    from cryptoml.automl import open_storage, resolve_storage

    tmp = Path(tempfile.mkdtemp(prefix="automl-open-"))
    opens = []
    for i in range(3):
        t0 = time.process_time()
        optuna.create_study(storage=open_storage(resolve_storage(tmp / f"o{i}.db")), study_name="x")
        opens.append(time.process_time() - t0)
    print(
        f"-> of which one-time per run: opening a new SQLite storage and creating the study, {1000 * min(opens):.0f} ms CPU "
        f"({1000 * min(opens) / n_ov:.1f} ms per trial at {n_ov} trials)"
    )
    print(
        f"-> pure driver + storage cost (random strategy, no model): "
        f"{ov.loc['service, random, in-memory storage', 'ms_per_trial']:.1f} ms in memory, "
        f"{ov.loc['service, random, SQLite storage', 'ms_per_trial']:.1f} ms with SQLite"
    )
    print()


def part2(n_real, seeds_real, limit):
    for target, what in (("return", "next-hour log return"), ("volatility", "next-24h realized volatility (%)")):
        print(
            f"== 2{'ab'[target == 'volatility']}. Real tuning task: XGBoost on BTC/USDT hourly features -> {what}, "
            f"walk-forward RMSE (3 folds), {n_real} trials x {len(seeds_real)} seeds per strategy"
        )
        res, info = real_task(n_real, seeds_real, limit, target)
        print("data:", {k: (round(v, 6) if isinstance(v, float) else v) for k, v in info.items()})
        summary = res.groupby("strategy", sort=False).agg(
            mean_best_rmse=("best_rmse", "mean"),
            std=("best_rmse", "std"),
            mean_seconds=("seconds", "mean"),
            mean_best_at_trial=("best_at_trial", "mean"),
        )
        summary["vs_train_mean_forecast"] = summary["mean_best_rmse"] / info["rmse_train_mean_forecast"]
        summary["vs_default_params"] = summary["mean_best_rmse"] / info["rmse_default_params"]
        print(summary.to_string(float_format=lambda v: f"{v:.6g}"))
        piv = res.pivot(index="seed", columns="strategy", values="best_rmse")
        print(
            f"-> bayesian beat random on {int((piv['bayesian'] < piv['random']).sum())}/{len(piv)} seeds, tpe on "
            f"{int((piv['tpe'] < piv['random']).sum())}/{len(piv)}; mean best RMSE bayesian/random = "
            f"{summary.loc['bayesian', 'mean_best_rmse'] / summary.loc['random', 'mean_best_rmse']:.5f}, tpe/random = "
            f"{summary.loc['tpe', 'mean_best_rmse'] / summary.loc['random', 'mean_best_rmse']:.5f}"
        )
        print()


if __name__ == "__main__":
    main()
