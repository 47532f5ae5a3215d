"""Monitoring and the run ledger on real data: an XGBoost model trained on 2018-2020 Binance BTC/USDT hourly candles,
monitored on 2022 to mid-2023 (drift per feature and over time, forecasts against outcomes), then the evaluate and
monitor templates run on the same data and the run ledger compares what they recorded.

    python benchmarks/monitor_btc.py                 # needs ../shared/data (CRYPTOML_SHARED_DATA)
    python benchmarks/monitor_btc.py --no-templates  # only the library calls (a minute or two)

Everything it writes (models, reports, the ledger database) goes to a temporary folder unless --out names one.
"""

import argparse, os, sys, tempfile, time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="folder for models, reports and the ledger (default: a temporary one)")
    ap.add_argument("--no-templates", action="store_true", help="skip the template runs")
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="cryptoml-monitor-btc-"))
    os.environ.update(
        CRYPTOML_MODELS_DIR=str(out / "models"),
        CRYPTOML_REPORTS_DIR=str(out / "reports"),
        CRYPTOML_JOBS_URL=str(out / "jobs.sqlite"),
    )
    import pandas as pd

    from cryptoml.core import shared_data_dir
    from cryptoml.data import load_market_data
    from cryptoml.monitor import drift_by_period, drift_report, monitored_model, performance_report, split_periods

    pd.set_option("display.width", 160)
    data = shared_data_dir()
    if data is None:
        print("no shared data directory (../shared/data or CRYPTOML_SHARED_DATA): nothing to do")
        return 0
    df = load_market_data("BTC/USD", "1h", limit=None, source=data)
    train, later = split_periods(df, "2018-01-01", "2020-12-31 23:00", "2022-01-01", "2023-06-30 23:00")
    t0 = time.time()
    prep = {"sequence_length": 24, "target": "return"}
    mid = monitored_model(None, train, "xgboost", prep, {"n_estimators": 300, "max_depth": 3, "seed": 42})
    print(
        f"model {mid}: trained on {len(train):,} candles {train.index[0]:%Y-%m-%d} .. {train.index[-1]:%Y-%m-%d} "
        f"in {time.time() - t0:.0f}s; monitored on {len(later):,} candles {later.index[0]:%Y-%m-%d} .. "
        f"{later.index[-1]:%Y-%m-%d}\n"
    )
    rep = drift_report(mid, later)
    print("Drift report (PSI > 0.25 or KS > 0.1: drift; PSI > 0.1: moderate)")
    print(rep.table.sort_values("psi", ascending=False).round(3).to_string(), "\n")
    print({k: v for k, v in rep.summary().items() if k not in ("model_id",)}, "\n")
    print("PSI by quarter (features and forecasts)")
    print(drift_by_period(mid, later, "QS").round(2).to_string(), "\n")
    perf = performance_report(mid, later, freq="QS")
    print("Forecasts against outcomes by quarter")
    print(perf.by_period.round(4).to_string(), "\n")
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in perf.summary().items()}, "\n")
    if not args.no_templates:
        _templates(data)
    return 0


def _templates(data) -> None:
    "Run the monitor and evaluate templates on the real data, then print the ledger's view of them."
    from cryptoml.cli import main as cli
    from cryptoml.ledger import open_ledger
    from cryptoml.reports import run_pipeline

    src = {"source": str(data)}  # the parameter sets name ../shared/data; this run may live elsewhere
    fast = {"engines": ["zero", "last", "ridge", "xgboost"], "seeds": [0]}  # the LSTM is left out for time
    for name, over in (("monitor", src), ("evaluate", {**src, **fast})):
        t0 = time.time()
        r = run_pipeline(name, over, params_file="btc_1h", raise_on_error=False)
        print(f"template {name}: {r.status} in {time.time() - t0:.0f}s -> {r.html} {r.error or ''}")
    print("\n$ cryptoml runs list")
    cli(["runs", "list", "--limit", "30"])
    led = open_ledger()
    evals = {r.name: r.id for r in led.list(kind="evaluation")}
    keep = ["rmse mean", "ic mean", "rank_ic mean", "directional_accuracy mean", "seconds mean"]
    comp = led.compare([evals[k] for k in evals])
    comp.columns = [led.get(c).name for c in comp.columns]
    print("\n$ cryptoml runs compare <the evaluate template's walk-forward rows>  (selected metrics)")
    print(comp.loc[[k for k in keep if k in comp.index]].T.round(4).to_string())


if __name__ == "__main__":
    sys.exit(main())
