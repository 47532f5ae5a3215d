"""End to end: every papermill template runs through the `cryptoml` command with the smoke parameter set."""
import json, os, subprocess, sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent/"cryptoml"
TEMPLATES = sorted(p.stem for p in (ROOT/"pipelines").glob("*.ipynb"))


def _cli(*args, env=None, timeout=600):
    return subprocess.run([str(CLI), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_runs_with_smoke_params(name, tmp_path):
    res = _cli("run", name, "-f", "smoke", "--run-id", "smoke", env={"CRYPTOML_REPORTS_DIR": str(tmp_path)})
    run = tmp_path/name/"smoke"
    status = json.loads((run/"status.json").read_text()) if (run/"status.json").exists() else {}
    assert res.returncode == 0, f"{name} failed: {status.get('error')}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    html = (run/"report.html").read_text()
    assert "<html" in html and len(html) > 10_000
    assert yaml.safe_load((run/"params.yaml").read_text())["run"]["pipeline"] == name


def test_smoke_params_name_real_parameters():
    "Every key of smoke.yaml is a template, so a renamed template cannot silently lose its CI parameters."
    doc = yaml.safe_load((ROOT/"pipelines"/"params"/"smoke.yaml").read_text())
    assert set(doc) <= set(TEMPLATES), set(doc) - set(TEMPLATES)


def test_cli_reports_bad_parameters(tmp_path):
    res = _cli("run", "data", "-p", "limt=5", env={"CRYPTOML_REPORTS_DIR": str(tmp_path)})
    assert res.returncode == 2 and "unknown parameter(s) ['limt']" in res.stderr


def test_list_starts_with_data():
    res = _cli("list")
    assert res.returncode == 0 and res.stdout.split()[0] == "data"
