"""Bad input from files and the command line (issue 16, items 16 and 17): every case is a clear `CryptoMLError`
naming the problem, raised before any work or run folder exists, never a raw IndexError, pyarrow or YAML error."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cryptoml.core import ConfigError, DataValidationError
from cryptoml.data import download_ccxt, synthetic_ohlcv, timeframe_to_timedelta, validate_ohlcv


# --- item 16: NaT timestamps, timeframes with trailing characters, a corrupt ccxt cache -------------------------------
@pytest.mark.parametrize("where", [0, 4, -1])
@pytest.mark.parametrize("as_column", [False, True])
def test_missing_timestamp_is_a_validation_error(where, as_column):
    "A NaT anywhere (the last row raised IndexError) names the row."
    df = synthetic_ohlcv(10, seed=1)
    idx = df.index.tolist()
    idx[where] = pd.NaT
    df.index = pd.DatetimeIndex(idx, name="timestamp")
    df = df.reset_index() if as_column else df
    with pytest.raises(DataValidationError, match=rf"missing timestamp \(NaT\) at row {where % 10}"):
        validate_ohlcv(df)


def test_missing_epoch_timestamp_is_a_validation_error():
    df = synthetic_ohlcv(5, seed=1).reset_index()
    df["timestamp"] = [1.7e9, 1.7e9 + 3600, 1.7e9 + 7200, 1.7e9 + 10800, np.nan]
    with pytest.raises(DataValidationError, match=r"missing timestamp \(NaT\) at row 4"):
        validate_ohlcv(df)


@pytest.mark.parametrize("tf", ["1h\n", "1h ", " 1h", "1h\r\n", "\u0661h", "\uff11h", "1 h", "01h\x00"])
def test_timeframe_must_be_exact(tf):
    "Only ASCII digits and a unit, nothing before or after ('1h\\n' was accepted, as were non-ASCII digits)."
    with pytest.raises(ConfigError, match="unknown timeframe"):
        timeframe_to_timedelta(tf)


class _Exchange:
    "A tiny ccxt stand-in over a synthetic series."

    id = "fake"
    rateLimit = 0

    def __init__(self, n=200):
        df = synthetic_ohlcv(n, seed=2, start="2024-01-01")
        ts = (df.index.asi8 // 10**6).tolist()
        self.rows = [[t, *r] for t, r in zip(ts, df.to_numpy().tolist())]
        self.calls = 0

    def fetch_ohlcv(self, symbol, timeframe, since=None, limit=None):
        self.calls += 1
        return [r for r in self.rows if r[0] >= since][:limit]


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: p.write_bytes(b"PAR1 this is not parquet"),  # unreadable (a raw pyarrow error before)
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
        lambda p: pd.DataFrame({"a": [1, 2]}).to_parquet(p),  # readable, but not candles
        lambda p: pd.read_parquet(p).assign(high=-1.0).to_parquet(p),  # candles that fail validation
    ],
)
def test_corrupt_ccxt_cache_is_rebuilt(tmp_path, monkeypatch, corrupt, caplog):
    "A cache that cannot be read or does not validate is rebuilt from the exchange, with a warning, once."
    monkeypatch.setenv("CRYPTOML_DATA_DIR", str(tmp_path))
    now = pd.Timestamp("2024-01-09T08:00:00Z")
    first = download_ccxt("BTC/USDT", "1h", _Exchange(), since="2024-01-01", now=now)
    path = tmp_path / "ccxt" / "fake" / "BTC-USDT_1h.parquet"
    assert path.is_file()
    corrupt(path)
    with caplog.at_level("WARNING"):
        again = download_ccxt("BTC/USDT", "1h", _Exchange(), since="2024-01-01", now=now)
    pd.testing.assert_frame_equal(again, first)
    assert any("rebuilding" in r.getMessage() and "cache" in r.getMessage() for r in caplog.records)
    validate_ohlcv(pd.read_parquet(path))  # the cache on disk is good again
    ex = _Exchange()
    pd.testing.assert_frame_equal(download_ccxt("BTC/USDT", "1h", ex, since="2024-01-01", now=now), first)
    assert ex.calls <= 1  # from the rebuilt cache: nothing new to fetch


# --- item 17: parameters are plain data -------------------------------------------------------------------------------
def test_cli_params_plain_data():
    from cryptoml.cli import parse_params

    got = parse_params(["d=2024-01-01", "t=2024-01-01T10:00:00Z", "n=3", "x=1.5", "s=[a, {k: 1}]", "z=null", "b=true"])
    assert got == {"d": "2024-01-01", "t": "2024-01-01T10:00:00+00:00", "n": 3, "x": 1.5} | {
        "s": ["a", {"k": 1}],
        "z": None,
        "b": True,
    }
    bad = {
        "bin": "!!binary aGVsbG8=",
        "st": "!!set {a, b}",
        "key": "{1: a}",
        "nested": "[{a: {2: b}}]",
        "obj": "!!python/object/apply:os.system [echo hi]",
        "broken": "[1,",
        "nan": ".nan",
    }
    for name, value in bad.items():
        with pytest.raises(ConfigError, match=rf"parameter '{name}"):
            parse_params([f"{name}={value}"])


def test_sweep_values_plain_data():
    from cryptoml.reports import parse_sweep

    assert parse_sweep(["d=2024-01-01,2024-02-01"]) == {"d": ["2024-01-01", "2024-02-01"]}
    for item in ("x=!!binary aGVsbG8=", "x={1: a}", "x=!!python/name:os.system", "x=[1"):
        with pytest.raises(ConfigError, match=r"parameter 'x"):
            parse_sweep([item])


def test_param_file_plain_data_before_any_run_folder(tmp_path, monkeypatch):
    "A parameter file with non-plain values is refused, naming the parameter, before a run (or sweep) folder exists."
    from cryptoml.reports import list_pipelines, load_params, run_pipeline, run_sweep

    monkeypatch.setenv("CRYPTOML_REPORTS_DIR", str(tmp_path / "reports"))
    name = "regime"  # takes symbol and limit
    assert name in list_pipelines()
    for i, (value, what) in enumerate(
        [("!!binary aGVsbG8=", "bytes"), ("!!set {a}", "set"), ("{3: x}", "key"), ("[!!binary aGk=]", "bytes")]
    ):
        f = tmp_path / f"bad{i}.yaml"
        f.write_text(f"{name}:\n  symbol: {value}\n")
        with pytest.raises(ConfigError, match=rf"parameter 'symbol.*{what}"):
            load_params(name, f)
        with pytest.raises(ConfigError, match="parameter 'symbol"):
            run_pipeline(name, params_file=f, run_id=f"r{i}")
        with pytest.raises(ConfigError, match="parameter 'symbol"):
            run_sweep(name, {"limit": [1, 2]}, params_file=f, sweep_id=f"s{i}")
    with pytest.raises(ConfigError, match="parameter 'when"):
        run_pipeline(name, {"when": object()}, run_id="obj")
    with pytest.raises(ConfigError, match="parameter 'when"):
        run_sweep(name, {"when": [b"x"]}, sweep_id="objs")
    assert not (tmp_path / "reports" / name).exists() or not any((tmp_path / "reports" / name).iterdir())
    assert load_params(name, overrides={"symbol": dt.date(2024, 1, 1)})["symbol"] == "2024-01-01"
