"""End to end: every papermill template runs through the `cryptoml` command with the smoke parameter set."""

import importlib, json, os, subprocess, sys, tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "cryptoml.cli"]  # the `cryptoml` script's entry point, without depending on an install
TEMPLATES = sorted(p.stem for p in (ROOT / "pipelines").glob("*.ipynb"))


def _cli(*args, env=None, timeout=600):
    return subprocess.run(
        [*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def test_script_entry_point_is_the_cli():
    "`pyproject.toml` installs `cryptoml` as `cryptoml.cli:main`, the function these tests run."
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["cryptoml"]
    mod, _, fn = target.partition(":")
    assert target == "cryptoml.cli:main" and callable(getattr(importlib.import_module(mod), fn))


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_runs_with_smoke_params(name, tmp_path):
    res = _cli("run", name, "-f", "smoke", "--run-id", "smoke", env={"CRYPTOML_REPORTS_DIR": str(tmp_path)})
    run = tmp_path / name / "smoke"
    status = json.loads((run / "status.json").read_text()) if (run / "status.json").exists() else {}
    assert res.returncode == 0, f"{name} failed: {status.get('error')}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    html = (run / "report.html").read_text()
    assert "<html" in html and len(html) > 10_000
    assert yaml.safe_load((run / "params.yaml").read_text())["run"]["pipeline"] == name


def test_smoke_params_name_real_parameters():
    "Every key of smoke.yaml is a template, so a renamed template cannot silently lose its CI parameters."
    doc = yaml.safe_load((ROOT / "pipelines" / "params" / "smoke.yaml").read_text())
    assert set(doc) <= set(TEMPLATES), set(doc) - set(TEMPLATES)


def test_cli_reports_bad_parameters(tmp_path):
    res = _cli("run", "data", "-p", "limt=5", env={"CRYPTOML_REPORTS_DIR": str(tmp_path)})
    assert res.returncode == 2 and "unknown parameter(s) ['limt']" in res.stderr


def test_list_starts_with_data():
    res = _cli("list")
    assert res.returncode == 0 and res.stdout.split()[0] == "data"


def test_cli_sweep_runs_every_combination(tmp_path):
    res = _cli(
        "run",
        "data",
        "-f",
        "smoke",
        "--sweep",
        "limit=300,400",
        "--sweep",
        "symbols=[BTC/USD]",
        "--run-id",
        "sw1",
        env={"CRYPTOML_REPORTS_DIR": str(tmp_path)},
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    sweep = tmp_path / "data" / "sw1"
    assert (sweep / "summary.html").exists()
    runs = [p for p in sweep.rglob("report.html")]
    assert len(runs) == 2, runs


def test_cli_serve_answers_health(tmp_path):
    import socket, time, httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CRYPTOML_MODELS_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(120):  # up to 60 s for the server to start
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/ml-v2/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            raise AssertionError("cryptoml serve did not answer")
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
