"""Peak extra memory of `cryptoml.dataset.create_sequences` vs a materialized copy of the windows.

Input: 1,000,000 rows x 40 float features (float32 and float64), sequence_length=60, prediction_horizon=1,
as a plain array and as a DataFrame with a UTC DatetimeIndex. The peer is the classic materialized approach
(`np.array([data[i:i+L] for i in ...])`, i.e. a contiguous copy of every window): its size is computed, not
allocated, because it would need 9.6 GB (float32) / 19.2 GB (float64).

Measured: tracemalloc peak of the call (NumPy reports its buffers to tracemalloc) and the RSS growth (psutil).
Goal: peak extra memory under 2x the input size. Also times one pass of `Sequences.batches` (Keras path
without Keras) to show the windows are usable without being materialized.

Run: .venv/bin/python benchmarks/windows_memory.py
"""

import gc, time, tracemalloc

import numpy as np
import pandas as pd
import psutil

from cryptoml.dataset import create_sequences

N, F, L, H = 1_000_000, 40, 60, 1
proc = psutil.Process()
MB = 1 << 20


def measure(make_input, dtype, kind):
    data = make_input(dtype)
    gc.collect()
    input_bytes = data.memory_usage(deep=True).sum() if isinstance(data, pd.DataFrame) else data.nbytes
    rss0 = proc.memory_info().rss
    tracemalloc.start()
    t0 = time.perf_counter()
    seqs = create_sequences(data, L, H, **({"target": 0} if kind == "array" else {}))
    secs = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = proc.memory_info().rss - rss0
    X = seqs.X
    materialized = X.shape[0] * X.shape[1] * X.shape[2] * X.itemsize
    src = data.to_numpy() if isinstance(data, pd.DataFrame) else data
    shares = np.shares_memory(X, src)
    t0 = time.perf_counter()
    nb = sum(1 for _ in seqs.batches(4096))
    bsecs = time.perf_counter() - t0
    print(
        f"{kind:9s} {np.dtype(dtype).name:8s} input {input_bytes / MB:8.1f} MB | "
        f"peak extra (tracemalloc) {peak / MB:7.1f} MB = {peak / input_bytes:5.3f}x input | "
        f"RSS growth {rss / MB:7.1f} MB | materialized copy {materialized / MB:9.1f} MB "
        f"= {materialized / input_bytes:5.1f}x input, {materialized / max(peak, 1):7.0f}x our peak | "
        f"zero-copy {shares} | {secs * 1e3:6.1f} ms | {nb} batches of 4096 in {bsecs:5.2f} s"
    )
    assert peak < 2 * input_bytes, "goal missed: peak extra memory >= 2x input"
    del seqs, X, src, data
    gc.collect()


def make_array(dtype):
    return np.random.default_rng(0).standard_normal((N, F), dtype=np.float64).astype(dtype)


def make_frame(dtype):
    idx = pd.date_range("2020-01-01", periods=N, freq="min", tz="UTC", name="timestamp")
    a = make_array(dtype)
    cols = ["close"] + [f"f{i}" for i in range(F - 1)]
    return pd.DataFrame(a, index=idx, columns=cols, copy=False)


if __name__ == "__main__":
    print(f"create_sequences on {N:,} x {F} features, sequence_length={L}, prediction_horizon={H}")
    for kind, make in (("array", make_array), ("DataFrame", make_frame)):
        for dtype in (np.float32, np.float64):
            measure(make, dtype, kind)
