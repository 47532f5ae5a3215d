"""GPU against CPU: train the deep engines (LSTM, GRU, Transformer) and XGBoost on the same synthetic data, once on the
CPU and once on the GPU, and print the training time of each and the speedup.

    python benchmarks/gpu.py             # default sizes (a few minutes on a GPU machine)
    python benchmarks/gpu.py --quick     # small sizes, to check that the script runs
    python benchmarks/gpu.py --engines xgboost lstm --n 50000

Each timing runs in a fresh process: the CPU one with `CUDA_VISIBLE_DEVICES=""` (no framework sees a GPU), the GPU one
with the environment as it is, so each framework places its work as it would in a real run (Keras: its default
placement; XGBoost: `device="cuda"` through the engine's `device="auto"`). Without a visible GPU
(`cryptoml.core.devices()` lists none for TensorFlow, torch or XGBoost) the script says so and exits with status 0:
there is nothing to compare.
The GPU builds come with the `gpu` extra (see the README).
"""

import argparse, json, os, subprocess, sys, time

ENGINES = ("xgboost", "lstm", "gru", "transformer")


def child(engine: str, n: int, seq: int, features: int, epochs: int) -> dict:
    "Train one engine once (after a short warm-up fit) and report the seconds of the timed fit."
    import numpy as np

    from cryptoml.core import devices
    from cryptoml.models.core import configure_engine

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, seq, features)).astype(np.float32)
    y = (0.01 * (X[:, -1, 0] - 0.5 * X[:, -2, 1]) + 0.002 * rng.standard_normal(n)).astype(np.float32)
    opts = dict(sequence_length=seq, epochs=epochs, batch_size=256, hidden_units=64, num_layers=2, verbose=0)
    opts |= dict(n_estimators=300, max_depth=8, early_stopping_rounds=None, window_features="flatten")
    configure_engine(engine, **{**opts, "epochs": 1, "n_estimators": 5}).fit(X[:1024], y[:1024])  # warm-up
    e = configure_engine(engine, **opts)
    t0 = time.perf_counter()
    e.fit(X, y)
    secs = time.perf_counter() - t0
    where = devices(["tensorflow"] if engine != "xgboost" else ["xgboost"])
    return {"engine": engine, "seconds": secs, "devices": where}


def timed(engine: str, gpu: bool, args) -> dict:
    "Run `child` in a fresh process, on the GPU or with every GPU hidden."
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if not gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    cmd = [sys.executable, __file__, "--child", engine, "--n", str(args.n), "--seq", str(args.seq)]
    cmd += ["--features", str(args.features), "--epochs", str(args.epochs)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} on {'GPU' if gpu else 'CPU'} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    ap.add_argument("--n", type=int, default=100_000, help="training windows")
    ap.add_argument("--seq", type=int, default=48, help="window length")
    ap.add_argument("--features", type=int, default=16, help="features per step")
    ap.add_argument("--epochs", type=int, default=3, help="epochs of the deep engines")
    ap.add_argument("--quick", action="store_true", help="small sizes (checks that the script runs)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.n, args.epochs = 4000, 1
    if args.child:
        print(json.dumps(child(args.child, args.n, args.seq, args.features, args.epochs)))
        return 0
    from cryptoml.core import devices, visible_gpus

    found = devices()
    print(f"visible NVIDIA GPUs: {visible_gpus()}; devices per framework: {found}")
    if not any(found.values()):
        print("no GPU visible to TensorFlow, torch or XGBoost: nothing to compare (needs a GPU, the gpu extra)")
        return 0
    rows = []
    for e in args.engines:
        cpu, gpu = timed(e, False, args), timed(e, True, args)
        rows.append((e, cpu["seconds"], gpu["seconds"], cpu["seconds"] / gpu["seconds"], gpu["devices"]))
        print(f"{e:12s} cpu {cpu['seconds']:8.2f}s  gpu {gpu['seconds']:8.2f}s  speedup x{rows[-1][3]:.2f}", flush=True)
    print(f"\n{args.n} windows of {args.seq} x {args.features}; deep engines {args.epochs} epochs, XGBoost 300 rounds")
    print(f"{'engine':12s} {'CPU s':>9s} {'GPU s':>9s} {'speedup':>8s}")
    for e, c, g, s, _ in rows:
        print(f"{e:12s} {c:9.2f} {g:9.2f} {s:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
