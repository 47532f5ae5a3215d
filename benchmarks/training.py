"""Training speed of the deep engines on the TensorFlow and the torch Keras backends, XGBoost fit time, and
TensorFlow Lite vs Keras inference latency -- all on the same windows, in one run.

Data: the last `--rows` BTC hourly candles from the shared data folder (synthetic candles when it is missing),
scale-free `minimal` features, windows of 24. Each backend runs in its own subprocess (KERAS_BACKEND is read when
keras is first imported). Per engine: one warm-up epoch, then `--epochs` timed epochs; samples/s = samples x epochs / s.

    python benchmarks/training.py [--rows 4000] [--epochs 3] [--hidden 64]
"""

import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np

ENGINES = ("LSTMEngine", "GRUEngine", "TransformerEngine")


def child(data: str, epochs: int, hidden: int) -> None:
    "Runs inside a subprocess with KERAS_BACKEND set: time each deep engine, print one JSON line."
    import keras
    from cryptoml.models import deep

    d = np.load(data)
    X, y = d["X"], d["y"]
    out = {"backend": keras.backend.backend()}
    for name in ENGINES:
        kw = dict(sequence_length=X.shape[1], hidden_units=hidden, num_layers=1, batch_size=128, seed=0)
        if name == "TransformerEngine":
            kw["num_heads"] = 4
        getattr(deep, name)(**kw, epochs=1).fit(X, y)  # warm-up: graph building, kernels, allocator
        t0 = time.perf_counter()
        e = getattr(deep, name)(**kw, epochs=epochs).fit(X, y)
        fit_s = time.perf_counter() - t0
        e.predict(X[:256])
        t0 = time.perf_counter()
        e.predict(X)
        pred_s = time.perf_counter() - t0
        out[name] = {
            "train_samples_per_s": len(X) * epochs / fit_s,
            "predict_samples_per_s": len(X) / pred_s,
            "fit_s": fit_s,
        }
    print("RESULT " + json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--child", default=None)
    ap.add_argument("--data", default=None)
    a = ap.parse_args()
    if a.child:
        return child(a.data, a.epochs, a.hidden)

    from cryptoml.core import shared_data_dir
    from cryptoml.data import load_market_data
    from cryptoml.models.core import Preparation, SCALE_FREE_MINIMAL

    src = shared_data_dir()
    df = load_market_data("BTC/USD", "1h", limit=a.rows, source=src if src else "synthetic")
    X, y, _ = Preparation(feature_set="minimal", sequence_length=24, columns=SCALE_FREE_MINIMAL).fit(df).dataset(df)
    print(
        f"data: {len(df)} BTC/USD 1h candles ({'shared data' if src else 'synthetic'}) -> X {X.shape}, "
        f"{a.epochs} timed epochs, hidden {a.hidden}, batch 128, {os.cpu_count()} CPU(s)"
    )
    tmp = Path(tempfile.mkdtemp())
    np.savez(tmp / "d.npz", X=X, y=y)

    res = {}
    for backend in ("tensorflow", "torch"):
        env = {**os.environ, "KERAS_BACKEND": backend}
        r = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                backend,
                "--data",
                str(tmp / "d.npz"),
                "--epochs",
                str(a.epochs),
                "--hidden",
                str(a.hidden),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
        if r.returncode or not line:
            print(f"{backend} backend failed:\n{r.stderr[-2000:]}")
            continue
        res[backend] = json.loads(line[0][7:])
    print(
        f"\n{'engine':<18}{'TF train/s':>12}{'torch train/s':>15}{'torch/TF':>10}{'TF pred/s':>12}{'torch pred/s':>14}"
    )
    for name in ENGINES:
        tf_, th = res.get("tensorflow", {}).get(name), res.get("torch", {}).get(name)
        f = lambda d, k: f"{d[k]:,.0f}" if d else "n/a"
        ratio = f"{th['train_samples_per_s'] / tf_['train_samples_per_s']:.2f}x" if tf_ and th else "n/a"
        print(
            f"{name:<18}{f(tf_, 'train_samples_per_s'):>12}{f(th, 'train_samples_per_s'):>15}{ratio:>10}"
            f"{f(tf_, 'predict_samples_per_s'):>12}{f(th, 'predict_samples_per_s'):>14}"
        )

    from cryptoml.models.xgb import XGBoostEngine

    for wf in ("summary", "flatten"):
        XGBoostEngine(n_estimators=5, window_features=wf).fit(X[:500], y[:500])
        t0 = time.perf_counter()
        XGBoostEngine(n_estimators=100, window_features=wf).fit(X, y)
        s = time.perf_counter() - t0
        print(f"XGBoostEngine (100 trees, depth 6, {wf} windows): fit {s:.2f}s = {len(X) / s:,.0f} samples/s")

    import keras
    from cryptoml.models.deep import LSTMEngine, TransformerEngine
    from cryptoml.persistence import compare_tflite

    print(f"\nTFLite vs Keras ({keras.backend.backend()} backend), single-window latency over 200 windows:")
    for E, kw in ((LSTMEngine, {}), (TransformerEngine, {"num_heads": 4})):
        e = E(sequence_length=24, hidden_units=a.hidden, num_layers=1, epochs=1, batch_size=128, **kw).fit(X, y)
        tab = compare_tflite(e, X[-200:], tmp / "tfl")
        tab["speedup vs keras"] = tab.loc["keras", "latency_ms"] / tab["latency_ms"]
        print(f"{E.__name__}:")
        print(
            tab.round(
                {"size_kb": 1, "latency_ms": 4, "max_abs_diff": 8, "mean_abs_diff": 8, "speedup vs keras": 1}
            ).to_string()
        )


if __name__ == "__main__":
    main()
