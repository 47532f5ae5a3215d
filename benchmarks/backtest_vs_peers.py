"""Speed and agreement of `cryptoml.backtest` against vectorbt and backtesting.py.

An SMA(10)/SMA(30) crossover of hourly closes, long after an up-cross and flat after a down-cross (`--short`: short
instead), traded at the next open with a 10 bps fee, on 1,000,000 hourly candles built from the real BTC hourly
candles of ../shared/data (tiled forward, then time-reversed, then forward... so the series stays continuous and
within BTC's price range; synthetic candles when the shared data is missing). Every engine gets the same candles,
the same moving averages (`cryptoml.backtest.sma`) and the same fee. backtesting.py trades whole units, so every
engine starts with a cash of 1e200 (whole units are then as good as fractions, and a century of compounded fees
cannot push the account below one unit).

backtesting.py is first timed on a 100,000-candle slice; if that projects to more than 5 minutes for all candles
it is reported on the slice only (both sizes printed, the ratio taken per candle), else it also runs on all.

Each engine is timed in wall-clock and CPU seconds (of the calling thread; on a shared machine CPU time is the
steadier figure). cryptoml and vectorbt are timed warm (numba compiled beforehand) and alternately, best of
`--repeat` runs each, for the engine alone (target positions -> equity; cryptoml's `backtest` also computes its
trades table and every statistic, vectorbt's portfolio its equity only) and for signals + engine (both take the
signals from `cryptoml.backtest.sma_crossover_positions`). backtesting.py runs once (seconds-long runs average out
noise); it computes its statistics inside `run()` too. The closing lines give the ratios and whether the goals hold:
cryptoml at least 3x vectorbt warm and at least 100x backtesting.py, with identical trades and final equity.

Usage: .venv/bin/python benchmarks/backtest_vs_peers.py [--n 1000000] [--slice 100000] [--repeat 7] [--short]
vectorbt is optional (the `bench` extra, not needed by the tests): it is skipped when `import vectorbt` fails. It
gets a tz-naive copy of the candles: with a tz-aware index its pandas wrapping converts every timestamp to a Python
object (seconds per call).
"""

import argparse, os, time, warnings

import numpy as np
import pandas as pd

from cryptoml.backtest import backtest, sma, sma_crossover_positions
from cryptoml.core import shared_data_dir

FAST, SLOW, FEE_BPS = 10, 30, 10.0  # means of 10 and 30 hourly closes; Binance spot fee
CASH = 1e200
LONG_ONLY = True  # flat after a down-cross (--short: short)


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
    "Wall-clock and CPU (this thread's) seconds of a block: on a shared machine CPU time is the fairer measure."

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.thread_time() - self.c


def signals(close: pd.Series) -> pd.Series:
    "The crossover's target positions, decided at each close."
    return sma_crossover_positions(close, FAST, SLOW, long_only=LONG_ONLY)


def race(fns: dict, repeat: int) -> dict:
    "Alternate the callables `repeat` times: name -> (last result, (best wall, best cpu))."
    best = {k: [None, np.inf, np.inf] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            with Clock() as c:
                out = f()
            b = best[k]
            b[0], b[1], b[2] = out, min(b[1], c.wall), min(b[2], c.cpu)
    return {k: (b[0], (b[1], b[2])) for k, b in best.items()}


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
                self.position.close() if LONG_ONLY else self.sell()

    data = df.rename(columns=str.capitalize)
    with Clock() as c, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Backtest(
            data, SmaCross, cash=CASH, commission=FEE_BPS / 1e4, trade_on_close=False, exclusive_orders=True
        ).run()
    return out, (c.wall, c.cpu)


def vectorbt_engine(df: pd.DataFrame, pos: pd.Series):
    "vectorbt: target-percent orders at the next open, only when the target changes; (portfolio, equity)."
    import vectorbt as vbt

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
    return pf, pf.value()


def compare(ours: pd.Series, theirs: pd.Series) -> tuple[float, float]:
    "(max relative difference over the curve, relative difference of the final equity)."
    rel = ours.to_numpy() / np.asarray(theirs, float) - 1
    return float(np.abs(rel).max()), float(rel[-1])


def fmt(t) -> str:
    return f"wall {t[0]:7.3f} s, cpu {t[1]:7.3f} s"


def main():
    global LONG_ONLY
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=100_000)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--short", action="store_true", help="short after a down-cross instead of flat")
    args = ap.parse_args()
    LONG_ONLY = not args.short
    df, what = candles(args.n)
    print(
        f"data: {len(df):,} candles, {what}; SMA({FAST})/SMA({SLOW}) {'long/flat' if LONG_ONLY else 'long/short'} "
        f"crossover, next open, fee {FEE_BPS} bps"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    pos = signals(df["close"])
    bt = lambda p, d=df: backtest(d, p, fee_bps=FEE_BPS, initial_cash=CASH)
    bt(pos.iloc[:5000], df.iloc[:5000])  # warm-up (imports, numba kernels)
    fns = {"cryptoml": lambda: bt(pos), "cryptoml+signals": lambda: bt(signals(df["close"]))}
    try:
        import vectorbt  # noqa: F401

        dn, pos_n = df.tz_localize(None), pos.tz_localize(None)  # (see the module's docstring)
        vectorbt_engine(dn.iloc[:5000], pos_n.iloc[:5000])  # numba compilation outside the timing
        fns["vectorbt"] = lambda: vectorbt_engine(dn, pos_n)
        fns["vectorbt+signals"] = lambda: vectorbt_engine(dn, signals(dn["close"]))
    except ImportError:
        print("vectorbt: not installed, skipped (pip install -e '.[bench]')")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = race(fns, args.repeat)
    res, t_eng = r["cryptoml"][0], r["cryptoml"][1]
    t_ours = r["cryptoml+signals"][1]
    n_closed = int((~res.trades["is_open"]).sum())
    print(
        f"cryptoml       n={len(df):>9,}  engine {fmt(t_eng)}; signals + engine {fmt(t_ours)}  "
        f"trades {res.stats['n_trades']:,} ({n_closed:,} closed), final equity x{res.equity.iloc[-1] / CASH:.6e}"
    )
    if "vectorbt" in r:
        (pf, eq_v), t_v = r["vectorbt"]
        t_vs = r["vectorbt+signals"][1]
        mx, fin = compare(res.equity, eq_v)
        n_v = int(pf.trades.count())
        print(
            f"vectorbt       n={len(df):>9,}  engine {fmt(t_v)}; signals + engine {fmt(t_vs)}  trades {n_v:,}, "
            f"final equity x{eq_v.iloc[-1] / CASH:.6e}; equity difference max {mx:.2e}, final {fin:.2e}"
        )
        same = n_v == res.stats["n_trades"] and abs(fin) < 1e-9
        ratio = (t_v[1] / t_eng[1], t_vs[1] / t_ours[1], t_v[0] / t_eng[0], t_vs[0] / t_ours[0])
        print(
            f"RATIO vs vectorbt (same {len(df):,} candles, warm): engine {ratio[0]:.1f}x cpu, {ratio[2]:.1f}x wall; "
            f"signals + engine {ratio[1]:.1f}x cpu, {ratio[3]:.1f}x wall; trades and final equity "
            f"{'identical' if same else 'DIFFERENT'}; goal >= 3x: {'met' if min(ratio[:2]) >= 3 else 'NOT met'} (cpu)"
        )

    sl = df.iloc[: args.slice]
    res_sl, t_ours_sl = race({"s": lambda: bt(signals(sl["close"]), sl)}, 3)["s"]
    out_sl, t_bt_sl = run_backtesting_py(sl)
    mx, fin = compare(res_sl.equity, out_sl._equity_curve["Equity"])
    print(
        f"backtesting.py n={len(sl):>9,}  {fmt(t_bt_sl)}  trades {len(out_sl._trades):,} closed "
        f"(+{int(res_sl.trades['is_open'].sum())} open); "
        f"cryptoml on the same slice {fmt(t_ours_sl)}; equity difference max {mx:.2e}, final {fin:.2e}"
    )
    projected = t_bt_sl[0] * len(df) / len(sl)
    if len(df) > len(sl) and projected <= args.max_seconds:
        out, t_bt = run_backtesting_py(df)
        mx, fin = compare(res.equity, out._equity_curve["Equity"])
        print(
            f"backtesting.py n={len(df):>9,}  {fmt(t_bt)}  trades {len(out._trades):,} closed "
            f"(cryptoml {n_closed:,} closed + "
            f"{len(res.trades) - n_closed} open); equity difference max {mx:.2e}, final {fin:.2e}"
        )
        k = (t_bt[0] / t_ours[0], t_bt[1] / t_ours[1])
        print(
            f"RATIO vs backtesting.py (same {len(df):,} candles): signals + backtest {k[0]:,.0f}x wall, "
            f"{k[1]:,.0f}x cpu; "
            f"backtest alone {t_bt[0] / t_eng[0]:,.0f}x wall, {t_bt[1] / t_eng[1]:,.0f}x cpu; goal >= 100x: "
            f"{'met' if min(k) >= 100 else 'NOT met'}"
        )
    else:
        m = len(df) / len(sl)
        k = (t_bt_sl[0] * m / t_ours[0], t_bt_sl[1] * m / t_ours[1])
        print(
            f"backtesting.py on all {len(df):,} candles would take about {projected:,.0f} s "
            f"(> {args.max_seconds:.0f} s): "
            f"not run; per-candle ratio from backtesting.py n={len(sl):,} vs cryptoml n={len(df):,}"
        )
        print(
            f"RATIO vs backtesting.py (per candle): signals + backtest {k[0]:,.0f}x wall, {k[1]:,.0f}x cpu; "
            f"goal >= 100x: "
            f"{'met' if min(k) >= 100 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
