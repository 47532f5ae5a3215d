"""Load and validate every hourly file of the shared market data: CSV parsing vs the Parquet cache.

Usage: .venv/bin/python benchmarks/data_load.py [DATA_DIR]   (default: ../shared/data)
Prints, per file and in total, the time to parse + validate the CSV and the time to reload the validated
Parquet copy that `read_ohlcv_file` caches in data/cache/, and the ratio.
"""

import os, sys, tempfile, time
from pathlib import Path

import pandas as pd

from cryptoml.core import shared_data_dir


def main(src: Path) -> None:
    files = sorted(src.glob("*_1h.csv"))
    if not files:
        sys.exit(f"no *_1h.csv files in {src}")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CRYPTOML_DATA_DIR"] = cache  # a cold, private cache
        from cryptoml.data import read_ohlcv_file

        rows = []
        for f in files:
            t0 = time.perf_counter()
            a = read_ohlcv_file(f, cache=False)
            t_csv = time.perf_counter() - t0
            read_ohlcv_file(f, cache=True)  # writes the cache
            t0 = time.perf_counter()
            b = read_ohlcv_file(f, cache=True)
            t_pq = time.perf_counter() - t0
            assert a.equals(b), f"cache differs from CSV for {f.name}"
            rows.append(
                {"file": f.name, "rows": len(a), "csv+validate ms": t_csv * 1e3, "parquet cache ms": t_pq * 1e3}
            )
    df = pd.DataFrame(rows).set_index("file")
    df["ratio"] = df["csv+validate ms"] / df["parquet cache ms"]
    tot = df[["rows", "csv+validate ms", "parquet cache ms"]].sum()
    print(df.round(1).to_string())
    print(
        f"\nall {len(df)} files, {int(tot['rows']):,} candles: CSV parse+validate {tot['csv+validate ms']:.0f} ms, "
        f"Parquet cache reload {tot['parquet cache ms']:.0f} ms -> cache is {tot['csv+validate ms'] / tot['parquet cache ms']:.1f}x faster"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else (shared_data_dir() or Path("../shared/data")))
