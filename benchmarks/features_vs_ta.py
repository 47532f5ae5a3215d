"""cryptoml.features against TA-Lib (the C library) and `ta`: speed and agreement on 1,000,000 hourly candles.

Usage: python benchmarks/features_vs_ta.py [--n 1000000] [--repeat 15] [--no-ta] [--profile]

The candles are the real Binance BTC/USDT hourly series from the shared data directory (48,046 candles), tiled end
to end on a fresh regular hourly index until there are `n` of them (each seam is one price jump, like a gap); without
the data directory a seeded synthetic market is used. The frame holds one contiguous array per column, as
`pd.read_csv` and `cryptoml.data` give it.

Each indicator is timed for cryptoml (the public function on Series, output frame included) and for TA-Lib
producing the same columns (TA-Lib's call plus the NumPy it takes to finish them where TA-Lib has no such output:
Bollinger %B and width, Chaikin money flow and the rolling VWAP from `talib.SUM`, the three ADX lines from three
calls). The two are timed alternately, best of `repeat`, in CPU time of the calling thread (on a shared machine the
steadier figure) and in wall time; RATIO is cryptoml / TA-Lib in CPU time (below 1: cryptoml is faster). `ta` (pure
pandas) is timed once, as before.

Agreement: the maximum absolute difference relative to the indicator's scale, on rows where both are defined, with
the documented convention differences removed (see nbs/02_features.ipynb, "Agreement with ta"). Against TA-Lib the
definitions differ in places, and the comparison says where: TA-Lib seeds its EMAs (MACD, EMA) with a simple average
and its ATR one row later (compared after a 500-row burn-in, where the seeds no longer matter), starts OBV at the
first volume (removed), and gives 0 where cryptoml gives a neutral value (RSI 50 with no price move, %K 50 / %R -50
in a zero range, MFI 50 with no money flow; such rows are rare and listed as `neutral rows`). Bollinger bands:
TA-Lib's standard deviation comes from running sums of squares; cryptoml's matches an exact two-pass computation
to 1e-13 (see the notebook), so the two differ by TA-Lib's rounding.

At the end the whole default feature set (`extract_features(df)`, 76 columns) is timed, best of 3, and with
`--profile` split into its features, the validation and the assembly of the frame.
"""

from __future__ import annotations

import argparse, time, warnings

import numpy as np
import pandas as pd

from cryptoml import features as F
from cryptoml.core import shared_data_dir


def candles(n: int) -> tuple[pd.DataFrame, str]:
    "`n` hourly candles built from the real BTC series (or synthetic when the shared data is absent)."
    d = shared_data_dir()
    p = d / "BTC-USD_1h.csv" if d is not None else None
    if p is None or not p.exists():
        from cryptoml.data import synthetic_ohlcv

        return synthetic_ohlcv(n, seed=0), "synthetic"
    cols = ["open", "high", "low", "close", "volume"]
    base = pd.read_csv(p, index_col="timestamp", parse_dates=True)[cols].to_numpy(np.float64)
    a = np.tile(base, (-(-n // len(base)), 1))[:n]  # copies end to end: prices stay in the real range
    idx = pd.date_range("2000-01-01", periods=n, freq="h", tz="UTC", name="timestamp")
    frame = pd.DataFrame({k: np.ascontiguousarray(a[:, j]) for j, k in enumerate(cols)}, index=idx)
    return frame, f"real BTC/USDT 1h x{n / len(base):.1f}"


def _bb_talib(talib, c):
    "TA-Lib's Bollinger bands, with %B and width finished in NumPy (cryptoml's five columns)."
    up, mid, lo = talib.BBANDS(c, 20, 2, 2)
    span = up - lo
    return {"bb_middle": mid, "bb_upper": up, "bb_lower": lo, "bb_pctb": (c - lo) / span, "bb_width": 100 * span / mid}


def _flow_talib(talib, h, l, c, v, n, cmf):
    "Chaikin money flow or the rolling VWAP from `talib.SUM` (TA-Lib has neither)."
    if cmf:
        rng = h - l
        w = np.divide((c - l) - (h - c), rng, out=np.zeros_like(rng), where=rng != 0) * v
    else:
        w = (h + l + c) / 3 * v
    return talib.SUM(w, n) / talib.SUM(v, n)


def indicators(df: pd.DataFrame, talib, ta) -> dict:
    "name -> (cryptoml, TA-Lib, ta, [(column, getter ours, getter TA-Lib, getter ta, skip vs ta, skip vs TA-Lib)])."
    h, l, c, v = (df[k] for k in ("high", "low", "close", "volume"))
    ha, la, ca, va = (x.to_numpy() for x in (h, l, c, v))
    n, burn = 14, 500
    flat = np.r_[True, np.diff(ca) == 0]
    ta_flat_vol = np.cumsum(np.where(flat, va, 0.0))  # ta counts V on an unchanged close and on row 0
    one = lambda col, skip=0, skip_talib=0: [(col, lambda o: o, lambda t: t, lambda t: t, skip, skip_talib)]
    cols = lambda names, talib_names=None: [
        (k, lambda o, k=k: o[k], lambda t, k=k: t[k], lambda t, k=k: t[k], 0, 0) for k in names
    ]
    return {
        "RSI(14)": (lambda: F.rsi(c, n), lambda: talib.RSI(ca, n), lambda: ta.momentum.rsi(c, n), one("rsi", 500)),
        "MACD(12,26,9)": (
            lambda: F.macd(c),
            lambda: dict(zip(("macd", "macd_signal", "macd_hist"), talib.MACD(ca, 12, 26, 9))),
            lambda: (lambda m: {"macd": m.macd(), "macd_signal": m.macd_signal(), "macd_hist": m.macd_diff()})(
                ta.trend.MACD(c)
            ),
            [
                (k, lambda o, k=k: o[k], lambda t, k=k: t[k], lambda t, k=k: t[k], 0, burn)
                for k in ("macd", "macd_signal", "macd_hist")
            ],
        ),
        "Bollinger(20,2)": (
            lambda: F.bollinger(c),
            lambda: _bb_talib(talib, ca),
            lambda: (
                lambda b: {
                    "bb_middle": b.bollinger_mavg(),
                    "bb_upper": b.bollinger_hband(),
                    "bb_lower": b.bollinger_lband(),
                    "bb_pctb": b.bollinger_pband(),
                    "bb_width": b.bollinger_wband(),
                }
            )(ta.volatility.BollingerBands(c)),
            cols(("bb_middle", "bb_upper", "bb_lower", "bb_pctb", "bb_width")),
        ),
        "ATR(14)": (
            lambda: F.atr(h, l, c, n),
            lambda: talib.ATR(ha, la, ca, n),
            lambda: ta.volatility.average_true_range(h, l, c, n),
            one("atr", n - 1, burn),
        ),
        "ADX(14)": (
            lambda: F.adx(h, l, c, n),
            lambda: {
                "adx": talib.ADX(ha, la, ca, n),
                "plus_di": talib.PLUS_DI(ha, la, ca, n),
                "minus_di": talib.MINUS_DI(ha, la, ca, n),
            },
            lambda: (lambda a: {"adx": a.adx(), "plus_di": a.adx_pos(), "minus_di": a.adx_neg()})(
                ta.trend.ADXIndicator(h, l, c, n)
            ),
            [
                ("adx", lambda o: o.adx, lambda t: t["adx"], lambda t: t["adx"], 2 * n - 1, burn),
                ("plus_di", lambda o: o.plus_di, lambda t: t["plus_di"], lambda t: t["plus_di"], n + 1, burn),
                ("minus_di", lambda o: o.minus_di, lambda t: t["minus_di"], lambda t: t["minus_di"], n + 1, burn),
            ],
        ),
        "Stochastic(14,3)": (
            lambda: F.stochastic(h, l, c),
            lambda: dict(zip(("stoch_k", "stoch_d"), talib.STOCHF(ha, la, ca, 14, 3, 0))),
            lambda: (lambda s: {"stoch_k": s.stoch(), "stoch_d": s.stoch_signal()})(
                ta.momentum.StochasticOscillator(h, l, c)
            ),
            cols(("stoch_k", "stoch_d")),
        ),
        "Williams %R(14)": (
            lambda: F.williams_r(h, l, c, n),
            lambda: talib.WILLR(ha, la, ca, n),
            lambda: ta.momentum.williams_r(h, l, c, n),
            one("williams_r"),
        ),
        "CCI(20)": (
            lambda: F.cci(h, l, c, 20),
            lambda: talib.CCI(ha, la, ca, 20),
            lambda: ta.trend.cci(h, l, c, 20),
            one("cci"),
        ),
        "ROC(12)": (lambda: F.roc(c, 12), lambda: talib.ROC(ca, 12), lambda: ta.momentum.roc(c, 12), one("roc")),
        "SMA(50)": (lambda: F.sma(c, 50), lambda: talib.SMA(ca, 50), lambda: ta.trend.sma_indicator(c, 50), one("sma")),
        "EMA(50)": (
            lambda: F.ema(c, 50),
            lambda: talib.EMA(ca, 50),
            lambda: ta.trend.ema_indicator(c, 50),
            one("ema", 0, burn),
        ),
        "OBV": (
            lambda: F.obv(c, v),
            lambda: talib.OBV(ca, va),
            lambda: ta.volume.on_balance_volume(c, v),
            [("obv", lambda o: o, lambda t: t - va[0], lambda t: t - ta_flat_vol, 0, 0)],
        ),
        "MFI(14)": (
            lambda: F.mfi(h, l, c, v, n),
            lambda: talib.MFI(ha, la, ca, va, n),
            lambda: ta.volume.money_flow_index(h, l, c, v, n),
            one("mfi", n),
        ),
        "CMF(20)": (
            lambda: F.cmf(h, l, c, v, 20),
            lambda: _flow_talib(talib, ha, la, ca, va, 20, True),
            lambda: ta.volume.chaikin_money_flow(h, l, c, v, 20),
            one("cmf"),
        ),
        "VWAP(14)": (
            lambda: F.rolling_vwap(h, l, c, v, 14),
            lambda: _flow_talib(talib, ha, la, ca, va, 14, False),
            lambda: ta.volume.volume_weighted_average_price(h, l, c, v, 14),
            one("vwap"),
        ),
    }


def race(fns: dict, repeat: int) -> dict:
    "Interleaved best-of-`repeat` (cpu, wall) seconds of each callable, and its last result."
    best = {k: [np.inf, np.inf, None] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            c0, w0 = time.thread_time(), time.perf_counter()
            out = f()
            c1, w1 = time.thread_time(), time.perf_counter()
            b = best[k]
            b[0], b[1], b[2] = min(b[0], c1 - c0), min(b[1], w1 - w0), out
    return best


def diff(a, b, skip: int) -> tuple[float, int]:
    "(max |a - b| relative to max |b|, rows compared) where both are defined, after `skip` rows."
    a, b = np.asarray(a, np.float64)[skip:], np.asarray(b, np.float64)[skip:]
    ok = ~np.isnan(a) & ~np.isnan(b)
    if not ok.any():
        return np.nan, 0
    return float(np.abs(a[ok] - b[ok]).max() / max(np.abs(b[ok]).max(), 1e-300)), int(ok.sum())


def main(n: int = 1_000_000, repeat: int = 15, with_ta: bool = True, profile: bool = False) -> pd.DataFrame:
    import talib

    ta = None
    if with_ta:
        import ta
    df, what = candles(n)
    print(
        f"{len(df):,} hourly candles ({what}); TA-Lib {talib.__version__}, ta {'0.11' if with_ta else '-'}, "
        f"pandas {pd.__version__}, numpy {np.__version__}; best of {repeat}, cryptoml and TA-Lib alternately"
    )
    F.extract_features(df.iloc[:5000])  # compile (or load) the kernels outside the timings
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (ours, theirs, slow, cols) in indicators(df, talib, ta).items():
            r = race({"ours": ours, "talib": theirs}, repeat)
            t_ta, t = np.nan, None
            if with_ta:
                t0 = time.perf_counter()
                t = slow()
                t_ta = time.perf_counter() - t0
            o, tl = r["ours"][2], r["talib"][2]
            d_talib = max(diff(go(o), gt(tl), skip_tl)[0] for _, go, gt, _, _, skip_tl in cols)
            neutral = sum(int(((np.asarray(go(o)) != 0) & (np.asarray(gt(tl)) == 0)).sum()) for _, go, gt, *_ in cols)
            d_ta = max(diff(go(o), gs(t), skip)[0] for _, go, _, gs, skip, _ in cols) if with_ta else np.nan
            row = dict(
                indicator=name,
                cryptoml_cpu=r["ours"][0],
                talib_cpu=r["talib"][0],
                cryptoml_wall=r["ours"][1],
                talib_wall=r["talib"][1],
                ratio=r["ours"][0] / r["talib"][0],
                ta_s=t_ta,
                x_ta=t_ta / r["ours"][1],
                diff_talib=d_talib,
                neutral_rows=neutral,
                diff_ta=d_ta,
            )
            rows.append(row)
            print(
                f"{name:17s} cryptoml {row['cryptoml_cpu'] * 1e3:7.2f} ms  TA-Lib {row['talib_cpu'] * 1e3:7.2f} ms  "
                f"RATIO {row['ratio']:5.2f} {'ok ' if row['ratio'] <= 1.2 else 'SLOW'}  "
                f"(wall {row['cryptoml_wall'] * 1e3:6.2f} "
                f"vs {row['talib_wall'] * 1e3:6.2f} ms)  ta {t_ta:7.3f} s x{row['x_ta']:7.1f}  "
                f"diff vs ta {d_ta:.1e}, vs TA-Lib {d_talib:.1e}" + (f" ({neutral} neutral rows)" if neutral else ""),
                flush=True,
            )
    res = pd.DataFrame(rows).set_index("indicator")
    print(
        f"\nTOTAL (CPU)       cryptoml {res.cryptoml_cpu.sum() * 1e3:7.1f} ms  "
        f"TA-Lib {res.talib_cpu.sum() * 1e3:7.1f} ms  "
        f"RATIO {res.cryptoml_cpu.sum() / res.talib_cpu.sum():.2f}; worst indicator {res.ratio.idxmax()} "
        f"x{res.ratio.max():.2f}; {int((res.ratio <= 1.2).sum())}/{len(res)} within 1.2x TA-Lib"
        + (f"; ta {res.ta_s.sum():.1f} s, x{res.ta_s.sum() / res.cryptoml_wall.sum():.0f} overall" if with_ta else "")
    )
    r = race({"extract": lambda: F.extract_features(df)}, 3)["extract"]
    print(
        f"extract_features(default): {r[2].shape[1]} columns x {len(df):,} rows in {r[1]:.3f} s wall, "
        f"{r[0]:.3f} s CPU (best of 3)"
    )
    if profile:
        fs = F.feature_set("default")
        parts = {k: (lambda k=k, p=p: F._spec(k).fn(df, **p)) for k, p in fs.features.items()}
        parts["(validate)"] = lambda: F._validate(df)
        parts["(leading NaN scan)"] = lambda: F._leading_nans(r[2])
        for k, (cpu, wall, _) in race(parts, 3).items():
            print(f"  {k:20s} {cpu * 1e3:7.1f} ms CPU  {wall * 1e3:7.1f} ms wall")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of candles")
    ap.add_argument("--repeat", type=int, default=15, help="timing runs per library (best is kept)")
    ap.add_argument("--no-ta", action="store_true", help="skip the slow `ta` library")
    ap.add_argument("--profile", action="store_true", help="split extract_features into its parts")
    a = ap.parse_args()
    main(a.n, a.repeat, not a.no_ta, a.profile)
