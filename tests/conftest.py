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


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory):
    """The documentation site, built offline once per test session (`make docs`: nbdev-proc-nbs, smalldocs api,
    smalldocs render) in a copy of the notebooks, so the build leaves no _proc/ or _docs/ in the checkout."""
    import shutil, subprocess, sys

    root, tmp = Path(__file__).resolve().parent.parent, tmp_path_factory.mktemp("docs")
    bin_ = Path(sys.executable).parent
    for name in ("nbs", "pyproject.toml", "README.md"):
        src = root / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp / name)
    for cmd in (
        [bin_ / "nbdev-proc-nbs"],
        [bin_ / "smalldocs", "api", "build", "--dir", "_proc"],
        [bin_ / "smalldocs", "render", "--quiet", "_proc"],
    ):
        res = subprocess.run([str(c) for c in cmd], cwd=tmp, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{cmd[0].name} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return tmp / "_proc" / "_docs"


def _template(path: Path, params: str, cells: list[tuple[str, str]], tags: dict | None = None) -> None:
    "Write a small papermill template: a parameters cell, then (kind, source) cells; `tags`: cell position -> tags."
    import nbformat

    p = nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})
    new = lambda k, s: nbformat.v4.new_markdown_cell(s) if k == "md" else nbformat.v4.new_code_cell(s)
    body = [new(k, s) for k, s in cells]
    for i, t in (tags or {}).items():
        body[i].metadata["tags"] = t
    nb = nbformat.v4.new_notebook(cells=[body[0], p, *body[1:]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


WIDE = [
    ("md", "# Trading statistics\n\nSynthetic predictions (noisy future returns): a wide table, a figure."),
    (
        "code",
        "import matplotlib.pyplot as plt, numpy as np, pandas as pd\nfrom IPython.display import display\n"
        "from cryptoml.backtest import compare_strategies\nfrom cryptoml.data import load_market_data\n"
        "df = load_market_data('BTC/USD', '1h', limit=limit, source='synthetic', seed=0)\n"
        "r = np.log(df['close']).diff().shift(-1).dropna()\nrng = np.random.default_rng(0)\n"
        "preds = {f'model_{k}': pd.DataFrame({'seed': 0, 'y_pred': r + rng.normal(0, 0.01 * (k + 1), len(r))}, "
        "index=r.index) for k in range(3)}\nstrategies = compare_strategies(preds, df, fee_bps=10)\n"
        "display(strategies.table())",
    ),
    ("code", "strategies.equity().plot(figsize=(10, 4))\nplt.show()"),
]


@pytest.fixture(scope="session")
def main_job(tmp_path_factory):
    """The main job (`cryptoml run-all`) run twice into a fresh reports folder, as a user would from the command line:
    first the real `data` template and a template with a wide trading-statistics table and a figure (smoke parameters),
    then one that loads TensorFlow and fails, and the wide one again.
    Returns (reports folder, [the two completed processes])."""
    import shutil, subprocess, sys

    root, tmp = Path(__file__).resolve().parent.parent, tmp_path_factory.mktemp("mainjob")
    (tmp / "pipelines" / "params").mkdir(parents=True)
    shutil.copy(root / "pipelines" / "data.ipynb", tmp / "pipelines")
    (tmp / "pipelines" / "params" / "smoke.yaml").write_text("data: {limit: 500}\nwide: {limit: 600}\n")
    _template(tmp / "pipelines" / "wide.ipynb", "limit = 2000", WIDE, {1: ["metrics"]})
    tf = "import tensorflow as tf\ntf.zeros(1)"  # TensorFlow's native start-up lines: in the run log, not the console
    _template(
        tmp / "pipelines" / "broken.ipynb",
        "x = 1",
        [("md", "# Broken"), ("code", tf), ("code", "raise ValueError('on purpose')")],
    )
    env = {**os.environ, "CRYPTOML_PIPELINES_DIR": str(tmp / "pipelines"), "CRYPTOML_REPORTS_DIR": str(tmp / "reports")}
    run = lambda only: subprocess.run(
        [sys.executable, "-m", "cryptoml.cli", "run-all", "--params", "smoke", "--only", only],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return tmp / "reports", [run("data,wide"), run("broken,wide")]
