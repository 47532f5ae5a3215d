"""Shared pytest set-up: working folders in a temporary place, headless plotting, quiet TensorFlow."""

import os, tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="cryptoml-tests-"))
for kind in ("DATA", "MODELS", "REPORTS"):
    os.environ.setdefault(f"CRYPTOML_{kind}_DIR", str(_TMP / kind.lower()))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_addoption(parser):
    parser.addoption(
        "--flags",
        default=os.environ.get("CRYPTOML_TEST_FLAGS", ""),
        help="test flags to run (space separated, e.g. 'slow net'); default: none of tst_flags",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "notebook: an nbdev notebook run as a test")


def pytest_collection_modifyitems(config, items):
    "Skip tests marked with a flag (slow, net) unless the flag was asked for, as nbdev does for notebook cells."
    wanted = set(config.getoption("--flags").split())
    for item in items:
        for flag in ("slow", "net"):
            if flag in item.keywords and flag not in wanted:
                item.add_marker(pytest.mark.skip(reason=f"flag '{flag}' not requested (--flags '{flag}')"))
