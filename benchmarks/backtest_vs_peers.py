"""Speed and agreement of `cryptoml.backtest` against backtesting.py (and vectorbt when importable).

An SMA(24)/SMA(168) crossover (1-day and 1-week means of hourly closes), long after an up-cross and short after a
down-cross, traded at the next open with a 10 bps fee, on 1,000,000 hourly candles built from the real BTC hourly
candles of ../shared/data (tiled forward, then time-reversed, then forward... so the series stays continuous and
within BTC's price range; synthetic candles when the shared data is missing). Every engine gets the same candles,
the same moving averages (`cryptoml.backtest.sma`) and the same fee. backtesting.py trades whole units, so every
engine starts with a cash of 1e200 (whole units are then as good as fractions, and a century of compounded fees
cannot push the account below one unit).

backtesting.py is first timed on a 100,000-candle slice; if that projects to more than 5 minutes for all candles
it is reported on the slice only (both sizes printed, the ratio taken per candle), else it also runs on all.

Each engine is timed in wall-clock and CPU (process) seconds; on a shared machine CPU time is the steadier figure.
cryptoml's time is the best of 3 runs, for signals + backtest and for the backtest alone (backtesting.py computes
its statistics inside `run()` too). backtesting.py and vectorbt run once (seconds-long runs average out noise).

Usage: .venv/bin/python benchmarks/backtest_vs_peers.py [--n 1000000] [--slice 100000]
vectorbt is optional (not a project dependency): it is timed when `import vectorbt` works, skipped otherwise
(e.g. `pip install --target /tmp/vbt vectorbt` and PYTHONPATH=/tmp/vbt). It gets a tz-naive copy of the candles:
with a tz-aware index its pandas wrapping converts every timestamp to a Python object (seconds per call).
"""

import argparse, os, time, warnings

import numpy as np
import pandas as pd

from cryptoml.backtest import backtest, sma, sma_crossover_positions
from cryptoml.core import shared_data_dir

FAST, SLOW, FEE_BPS = 24, 168, 10.0  # 1-day and 1-week means of hourly closes; Binance spot fee
CASH = 1e200


def candles(n: int) -> tuple[pd.DataFrame, str]:
    "n hourly OHLCV candles: real BTC tiled forward / reversed (continuous), or synthetic."
    d = shared_data_dir()
    if d is not None and (d / "BTC-USD_1h.csv").exists():
        src = pd.read_csv(d / "BTC-USD_1h.csv", index_col="timestamp", parse_dates=True)[
            ["open", "high", "low", "close", "volume"]
        ]
        what = f"real BTC/USDT 1h candles ({len(src):,}) tiled forward/reversed"
    else:
        from cryptoml.data import synthetic_ohlcv

        src = synthetic_ohlcv(50_000, "1h", seed=0)[["open", "high", "low", "close", "volume"]]
        what = "synthetic 1h candles (shared data not found) tiled forward/reversed"
    fwd = src.to_numpy()
    rev = fwd[::-1][:, [3, 1, 2, 0, 4]]  # time-reversed candles: open and close swap
    parts, total, i = [], 0, 0
    while total < n:
        parts.append(fwd if i % 2 == 0 else rev)
        total += len(fwd)
        i += 1
    a = np.vstack(parts)[:n]
    idx = pd.date_range("2000-01-01", periods=n, freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame(a, idx, columns=["open", "high", "low", "close", "volume"]), what


class Clock:
    "Wall-clock and CPU (process) seconds of a block: on a shared machine CPU time is the fairer measure."

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c


def run_cryptoml(df: pd.DataFrame, repeat: int = 3):
    "(result, (wall, cpu) for signals + backtest, (wall, cpu) for the backtest alone), best of `repeat` runs."
    tot, eng = [np.inf, np.inf], [np.inf, np.inf]
    for _ in range(repeat):
        with Clock() as c_all:
            pos = sma_crossover_positions(df["close"], FAST, SLOW)
            with Clock() as c_bt:
                res = backtest(df, pos, fee_bps=FEE_BPS, initial_cash=CASH)
        tot = [min(tot[0], c_all.wall), min(tot[1], c_all.cpu)]
        eng = [min(eng[0], c_bt.wall), min(eng[1], c_bt.cpu)]
    return res, tot, eng


def run_backtesting_py(df: pd.DataFrame):
    "(stats, (wall, cpu)) of the crossover in backtesting.py."
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    class SmaCross(Strategy):
        def init(self):  # the same moving averages as cryptoml's (the engines are compared, not the indicators)
            self.f, self.s = self.I(sma, self.data.Close, FAST), self.I(sma, self.data.Close, SLOW)

        def next(self):
            if crossover(self.f, self.s):
                self.buy()
            elif crossover(self.s, self.f):
                self.sell()

    data = df.rename(columns=str.capitalize)
    with Clock() as c, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Backtest(
            data, SmaCross, cash=CASH, commission=FEE_BPS / 1e4, trade_on_close=False, exclusive_orders=True
        ).run()
    return out, (c.wall, c.cpu)


def run_vectorbt(df: pd.DataFrame):
    "Same strategy in vectorbt: target-percent orders at the next open, only when the target changes."
    import vectorbt as vbt

    df = df.tz_localize(None)  # vectorbt turns a tz-aware index into Python objects (seconds per call); naive is fair
    with Clock() as c:
        pos = sma_crossover_positions(df["close"], FAST, SLOW)
        tgt = pos.shift(1).fillna(0.0)  # decided at close t, ordered at open t+1
        size = tgt.where(tgt.ne(tgt.shift(1).fillna(0.0)))  # NaN = no order (hold units between changes)
        pf = vbt.Portfolio.from_orders(
            df["close"],
            size=size,
            size_type="targetpercent",
            price=df["open"],
            fees=FEE_BPS / 1e4,
            init_cash=CASH,
            direction="both",
            freq="1h",
        )
        eq = pf.value()
    return eq, (c.wall, c.cpu)


def compare(ours: pd.Series, theirs: pd.Series) -> tuple[float, float]:
    "(max relative difference over the curve, relative difference of the final equity)."
    rel = ours.to_numpy() / np.asarray(theirs, float) - 1
    return float(np.abs(rel).max()), float(rel[-1])


def fmt(t) -> str:
    return f"wall {t[0]:7.3f} s, cpu {t[1]:7.3f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=100_000)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    args = ap.parse_args()
    df, what = candles(args.n)
    print(
        f"data: {len(df):,} candles, {what}; SMA({FAST})/SMA({SLOW}) long/short crossover, next open, fee {FEE_BPS} bps"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    backtest(
        df.iloc[:5000], sma_crossover_positions(df["close"].iloc[:5000]), fee_bps=FEE_BPS
    )  # warm-up (imports, caches)
    res, t_ours, t_engine = run_cryptoml(df)
    print(
        f"cryptoml       n={len(df):>9,}  {fmt(t_ours)} (signals + backtest; backtest alone {fmt(t_engine)})  "
        f"trades {res.stats['n_trades']:,}, final equity x{res.equity.iloc[-1] / CASH:.3e}"
    )

    sl = df.iloc[: args.slice]
    res_sl, t_ours_sl, _ = run_cryptoml(sl)
    out_sl, t_bt_sl = run_backtesting_py(sl)
    mx, fin = compare(res_sl.equity, out_sl._equity_curve["Equity"])
    print(
        f"backtesting.py n={len(sl):>9,}  {fmt(t_bt_sl)}  trades {len(out_sl._trades):,} closed (+{int(res_sl.trades['is_open'].sum())} open); "
        f"cryptoml on the same slice {fmt(t_ours_sl)}; equity difference max {mx:.2e}, final {fin:.2e}"
    )
    projected = t_bt_sl[0] * len(df) / len(sl)
    if len(df) > len(sl) and projected <= args.max_seconds:
        out, t_bt = run_backtesting_py(df)
        mx, fin = compare(res.equity, out._equity_curve["Equity"])
        n_closed = int((~res.trades["is_open"]).sum())
        print(
            f"backtesting.py n={len(df):>9,}  {fmt(t_bt)}  trades {len(out._trades):,} closed (cryptoml {n_closed:,} closed + "
            f"{len(res.trades) - n_closed} open); equity difference max {mx:.2e}, final {fin:.2e}"
        )
        print(
            f"RATIO (same {len(df):,} candles, backtesting.py / cryptoml): signals + backtest {t_bt[0] / t_ours[0]:,.0f}x wall, "
            f"{t_bt[1] / t_ours[1]:,.0f}x cpu; backtest alone {t_bt[0] / t_engine[0]:,.0f}x wall, {t_bt[1] / t_engine[1]:,.0f}x cpu"
        )
    else:
        print(
            f"backtesting.py on all {len(df):,} candles would take about {projected:,.0f} s (> {args.max_seconds:.0f} s): "
            f"not run; per-candle ratio from backtesting.py n={len(sl):,} vs cryptoml n={len(df):,}"
        )
        k = len(df) / len(sl)
        print(
            f"RATIO (per candle): signals + backtest {t_bt_sl[0] * k / t_ours[0]:,.0f}x wall, {t_bt_sl[1] * k / t_ours[1]:,.0f}x cpu"
        )
    try:
        import vectorbt  # noqa: F401
    except ImportError:
        print("vectorbt: not installed, skipped")
        return
    run_vectorbt(df.iloc[:5000])  # numba compilation outside the timing
    eq_v, t_v = run_vectorbt(df)  # signals + orders + equity
    mx, fin = compare(res.equity, eq_v)
    print(
        f"vectorbt       n={len(df):>9,}  {fmt(t_v)}  ({t_v[1] / t_ours[1]:.1f}x cryptoml's cpu time); equity difference "
        f"max {mx:.2e}, final {fin:.2e} (vectorbt sizes target-percent orders before fees, cryptoml and backtesting.py after)"
    )


if __name__ == "__main__":
    main()
