"""The documentation site builds offline from the notebooks (`make docs`: nbdev-proc-nbs, then smalldocs)."""

import re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_docs_site_builds_offline(tmp_path):
    # build in a copy, so the test leaves no _proc/ or _docs/ in the checkout
    for name in ("nbs", "pyproject.toml", "README.md"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    for cmd in (
        [BIN / "nbdev-proc-nbs"],
        [BIN / "smalldocs", "api", "build", "--dir", "_proc"],
        [BIN / "smalldocs", "render", "--quiet", "_proc"],
    ):
        res = subprocess.run([str(c) for c in cmd], cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{cmd[0].name} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    site = tmp_path / "_proc" / "_docs"
    pages = {p.stem for p in site.glob("*.html")}
    notebooks = {p.stem for p in (ROOT / "nbs").glob("*.ipynb")}
    assert notebooks <= pages, f"notebooks without a page: {notebooks - pages}"
    sidebar = (ROOT / "nbs" / "sidebar.yml").read_text()  # kept by hand: every notebook and API page must be listed
    unlisted = {p.name for p in (tmp_path / "_proc").glob("*.ipynb")} | {
        f"api/{p.name}" for p in (tmp_path / "_proc" / "api").glob("*.qmd")
    }
    unlisted = {n for n in unlisted if n not in sidebar}
    assert not unlisted, f"pages missing from nbs/sidebar.yml: {sorted(unlisted)}"
    text = lambda p: re.sub(r"<[^>]+>", "", p.read_text())  # page text without tags (code is highlighted in spans)
    home = text(site / "index.html")
    assert "make reports" in home and "make test" in home
    data = (site / "01_data.html").read_text()
    assert "load_market_data" in data and "validate_ohlcv" in data
    api = text(site / "api" / "data.html")  # the API reference, from the package's docstrings and docments
    assert "load_market_data" in api and "keep the last limit candles" in api
