"""cryptoml.features vs the `ta` library: speed and agreement on 1,000,000 hourly candles.

Usage: python benchmarks/features_vs_ta.py [--n 1000000] [--repeat 3]

The candles are the real Binance BTC/USDT hourly series from the shared data directory (48,046 candles), tiled end
to end on a fresh regular hourly index until there are `n` of them (each seam is one price jump, like a gap); without the data directory a seeded synthetic market is used. Every indicator both libraries
compute is timed for cryptoml (best of `repeat` runs) and for `ta` (one run: it is slow), with the same parameters,
and the maximum absolute difference is measured on the rows where both are defined, with the documented convention
differences removed (see nbs/02_features.ipynb, "Agreement with ta"): RSI is compared after a 500-row burn-in
(Wilder's seed vs ta's zero seed), +DI/-DI from row n+1, MFI from row n, OBV with ta's unchanged-close volume removed.
"""

from __future__ import annotations

import argparse, time, warnings

import numpy as np
import pandas as pd
import ta

from cryptoml import features as F
from cryptoml.core import shared_data_dir


def candles(n: int) -> tuple[pd.DataFrame, str]:
    "`n` hourly candles built from the real BTC series (or synthetic when the shared data is absent)."
    d = shared_data_dir()
    p = d / "BTC-USD_1h.csv" if d is not None else None
    if p is None or not p.exists():
        from cryptoml.data import synthetic_ohlcv

        return synthetic_ohlcv(n, seed=0), "synthetic"
    base = pd.read_csv(p, index_col="timestamp", parse_dates=True)[["open", "high", "low", "close", "volume"]].to_numpy(
        np.float64
    )
    a = np.tile(base, (-(-n // len(base)), 1))[
        :n
    ]  # copies end to end: prices stay in the real range, one jump per seam
    idx = pd.date_range("2000-01-01", periods=n, freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame(
        a, index=idx, columns=["open", "high", "low", "close", "volume"]
    ), f"real BTC/USDT 1h x{n / len(base):.1f}"


def indicators(df: pd.DataFrame) -> dict:
    "name -> (cryptoml fn, ta fn, [(column, ours getter, ta getter, rows to skip)])."
    h, l, c, v = (df[k] for k in ("high", "low", "close", "volume"))
    n = 14
    flat = np.r_[True, np.diff(c.to_numpy()) == 0]
    ta_flat_vol = np.cumsum(np.where(flat, v.to_numpy(), 0.0))
    same = lambda col, skip=0: [(col, lambda o: o, lambda t: t, skip)]
    return {
        "RSI(14)": (lambda: F.rsi(c, n), lambda: ta.momentum.rsi(c, n), same("rsi", 500)),
        "MACD(12,26,9)": (
            lambda: F.macd(c),
            lambda: (
                lambda m: pd.DataFrame({"macd": m.macd(), "macd_signal": m.macd_signal(), "macd_hist": m.macd_diff()})
            )(ta.trend.MACD(c)),
            [(k, lambda o, k=k: o[k], lambda t, k=k: t[k], 0) for k in ("macd", "macd_signal", "macd_hist")],
        ),
        "Bollinger(20,2)": (
            lambda: F.bollinger(c),
            lambda: (
                lambda b: pd.DataFrame(
                    {
                        "bb_middle": b.bollinger_mavg(),
                        "bb_upper": b.bollinger_hband(),
                        "bb_lower": b.bollinger_lband(),
                        "bb_pctb": b.bollinger_pband(),
                        "bb_width": b.bollinger_wband(),
                    }
                )
            )(ta.volatility.BollingerBands(c)),
            [
                (k, lambda o, k=k: o[k], lambda t, k=k: t[k], 0)
                for k in ("bb_middle", "bb_upper", "bb_lower", "bb_pctb", "bb_width")
            ],
        ),
        "ATR(14)": (
            lambda: F.atr(h, l, c, n),
            lambda: ta.volatility.average_true_range(h, l, c, n),
            same("atr", n - 1),
        ),
        "ADX(14)": (
            lambda: F.adx(h, l, c, n),
            lambda: (lambda a: pd.DataFrame({"adx": a.adx(), "plus_di": a.adx_pos(), "minus_di": a.adx_neg()}))(
                ta.trend.ADXIndicator(h, l, c, n)
            ),
            [
                ("adx", lambda o: o.adx, lambda t: t.adx, 2 * n - 1),
                ("plus_di", lambda o: o.plus_di, lambda t: t.plus_di, n + 1),
                ("minus_di", lambda o: o.minus_di, lambda t: t.minus_di, n + 1),
            ],
        ),
        "Stochastic(14,3)": (
            lambda: F.stochastic(h, l, c),
            lambda: (lambda s: pd.DataFrame({"stoch_k": s.stoch(), "stoch_d": s.stoch_signal()}))(
                ta.momentum.StochasticOscillator(h, l, c)
            ),
            [(k, lambda o, k=k: o[k], lambda t, k=k: t[k], 0) for k in ("stoch_k", "stoch_d")],
        ),
        "Williams %R(14)": (
            lambda: F.williams_r(h, l, c, n),
            lambda: ta.momentum.williams_r(h, l, c, n),
            same("williams_r"),
        ),
        "CCI(20)": (lambda: F.cci(h, l, c, 20), lambda: ta.trend.cci(h, l, c, 20), same("cci")),
        "ROC(12)": (lambda: F.roc(c, 12), lambda: ta.momentum.roc(c, 12), same("roc")),
        "SMA(50)": (lambda: F.sma(c, 50), lambda: ta.trend.sma_indicator(c, 50), same("sma")),
        "EMA(50)": (lambda: F.ema(c, 50), lambda: ta.trend.ema_indicator(c, 50), same("ema")),
        "OBV": (
            lambda: F.obv(c, v),
            lambda: ta.volume.on_balance_volume(c, v),
            [("obv", lambda o: o, lambda t: t - ta_flat_vol, 0)],
        ),
        "MFI(14)": (lambda: F.mfi(h, l, c, v, n), lambda: ta.volume.money_flow_index(h, l, c, v, n), same("mfi", n)),
        "CMF(20)": (lambda: F.cmf(h, l, c, v, 20), lambda: ta.volume.chaikin_money_flow(h, l, c, v, 20), same("cmf")),
        "VWAP(14)": (
            lambda: F.rolling_vwap(h, l, c, v, 14),
            lambda: ta.volume.volume_weighted_average_price(h, l, c, v, 14),
            same("vwap"),
        ),
    }


def timed(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(n: int = 1_000_000, repeat: int = 3) -> pd.DataFrame:
    df, what = candles(n)
    print(
        f"{len(df):,} hourly candles ({what}); ta {ta.__version__ if hasattr(ta, '__version__') else '0.11'}, pandas {pd.__version__}, numpy {np.__version__}"
    )
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (ours, theirs, cols) in indicators(df).items():
            t_ours, o = timed(ours, repeat)
            t_ta, t = timed(theirs, 1)
            diffs = []
            for col, go, gt, skip in cols:
                a = np.asarray(go(o), np.float64)[skip:]
                b = np.asarray(gt(t), np.float64)[skip:]
                ok = ~np.isnan(a) & ~np.isnan(b)
                diffs.append((np.abs(a[ok] - b[ok]).max(), np.abs(b[ok]).max(), ok.sum()))
            d = max(diffs, key=lambda x: x[0] / x[1])
            rows.append(
                {
                    "indicator": name,
                    "cryptoml_s": t_ours,
                    "ta_s": t_ta,
                    "speedup": t_ta / t_ours,
                    "max_abs_diff": max(x[0] for x in diffs),
                    "diff/scale": d[0] / d[1],
                    "rows_compared": min(x[2] for x in diffs),
                }
            )
            r = rows[-1]
            print(
                f"{name:18s} cryptoml {r['cryptoml_s']:8.4f} s   ta {r['ta_s']:8.3f} s   x{r['speedup']:8.1f}   "
                f"max|diff| {r['max_abs_diff']:.2e} (rel. to scale {r['diff/scale']:.1e})",
                flush=True,
            )
    res = pd.DataFrame(rows).set_index("indicator")
    t_ours, t_ta = res.cryptoml_s.sum(), res.ta_s.sum()
    print(
        f"\nTOTAL              cryptoml {t_ours:8.3f} s   ta {t_ta:8.2f} s   x{t_ta / t_ours:8.1f} overall"
        f"   (median per-indicator speedup x{res.speedup.median():.1f}; largest diff rel. to scale {res['diff/scale'].max():.1e})"
    )
    t0 = time.perf_counter()
    fx = F.extract_features(df)
    t_all = time.perf_counter() - t0
    print(f"extract_features(default): {fx.shape[1]} columns x {len(df):,} rows in {t_all:.2f} s")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of candles")
    ap.add_argument("--repeat", type=int, default=3, help="cryptoml timing runs (best is kept)")
    a = ap.parse_args()
    main(a.n, a.repeat)
