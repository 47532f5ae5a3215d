"""Import time of cryptoml's modules, and which heavy libraries each one pulls in.

Usage: python benchmarks/import_time.py [--repeat 3] [module ...]

Each module is imported in a fresh interpreter with `python -X importtime` (best of `repeat` runs, so that a cold
file cache does not count). The figure is the module's cumulative import time, its own imports included. HEAVY lists
the large libraries found in `sys.modules` afterwards: the low layers (core, data, features, dataset, evaluation,
pipeline, backtest) must not pay for TensorFlow, Keras, torch or stable-baselines3 (checked: FAIL if they do),
and the script also names the moderately heavy ones (SciPy, scikit-learn, numba, TA-Lib, matplotlib) each module
imports.
"""

from __future__ import annotations

import argparse, importlib.util, json, subprocess, sys
from pathlib import Path

LOW = ["core", "data", "features", "dataset", "evaluation", "pipeline", "backtest"]
HIGH = ["models.core", "volatility", "crosssection", "regime", "persistence", "rl.env"]
FORBIDDEN = ("tensorflow", "keras", "torch", "stable_baselines3")
NOTED = ("scipy", "sklearn", "numba", "talib", "matplotlib", "xgboost", "pyarrow")
PROBE = "import json, sys; import cryptoml.{m}; print(json.dumps(sorted({{k.split('.')[0] for k in sys.modules}})))"


def import_time(module: str) -> tuple[float, list[str]]:
    "(seconds to import cryptoml.<module> in a fresh interpreter, top-level packages loaded)."
    root = Path(importlib.util.find_spec("cryptoml").origin).parent.parent  # the checkout this process imports
    cmd = [sys.executable, "-X", "importtime", "-c", PROBE.format(m=module)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=root)  # (`-c` puts the cwd first)
    line = [x for x in r.stderr.splitlines() if x.rstrip().endswith(f"| cryptoml.{module}")][-1]
    return int(line.split("|")[1]) / 1e6, json.loads(r.stdout.strip().splitlines()[-1])


def main(modules: list[str], repeat: int = 3) -> list[dict]:
    pkg = Path(importlib.util.find_spec("cryptoml").origin).parent
    here = lambda m: (
        (pkg / f"{m.replace('.', '/')}.py").exists() or (pkg / m.replace(".", "/") / "__init__.py").exists()
    )
    rows, missing = [], [m for m in modules if not here(m)]  # (an editable install would fill gaps from elsewhere)
    print(f"cryptoml from {pkg}")
    modules = [m for m in modules if m not in missing]
    if missing:
        print(f"not in this checkout: {', '.join(missing)}")
    print(f"{'module':22s} {'import':>8s}   heavy libraries loaded")
    for m in modules:
        runs = [import_time(m) for _ in range(repeat)]
        t, pkgs = min(r[0] for r in runs), runs[-1][1]
        bad = [p for p in FORBIDDEN if p in pkgs]
        noted = [p for p in NOTED if p in pkgs]
        low = m in LOW
        flag = ("FAIL: " if bad and low else "") + ", ".join(bad + noted) if (bad or noted) else "-"
        rows.append(dict(module=m, seconds=t, forbidden=bad, noted=noted))
        print(f"{'cryptoml.' + m:22s} {t:7.3f} s   {flag}")
    fails = [r["module"] for r in rows if r["forbidden"] and r["module"] in LOW]
    print(
        "low layers free of TensorFlow/Keras/torch/SB3: "
        + ("yes" if not fails else f"NO ({', '.join(fails)})")
        + f"; slowest low layer: {max((r for r in rows if r['module'] in LOW), key=lambda r: r['seconds'])['module']}"
        if any(r["module"] in LOW for r in rows)
        else ""
    )
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "modules", nargs="*", default=LOW + HIGH, help="modules of cryptoml (default: low layers and some above)"
    )
    ap.add_argument("--repeat", type=int, default=3, help="fresh interpreters per module (best is kept)")
    a = ap.parse_args()
    main(a.modules, a.repeat)
