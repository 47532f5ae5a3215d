"""The documentation site builds offline from the notebooks (`make docs`: nbdev-proc-nbs, then smalldocs)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docs_site_builds_offline(docs_site):
    # built once per session in a copy (the `docs_site` fixture in conftest.py): no _proc/ or _docs/ in the checkout
    site, proc = docs_site, docs_site.parent
    pages = {p.stem for p in site.glob("*.html")}
    notebooks = {p.stem for p in (ROOT / "nbs").glob("*.ipynb")}
    assert notebooks <= pages, f"notebooks without a page: {notebooks - pages}"
    sidebar = (ROOT / "nbs" / "sidebar.yml").read_text()  # kept by hand: every notebook and API page must be listed
    unlisted = {p.name for p in proc.glob("*.ipynb")} | {f"api/{p.name}" for p in (proc / "api").glob("*.qmd")}
    unlisted = {n for n in unlisted if n not in sidebar}
    assert not unlisted, f"pages missing from nbs/sidebar.yml: {sorted(unlisted)}"
    text = lambda p: re.sub(r"<[^>]+>", "", p.read_text())  # page text without tags (code is highlighted in spans)
    home = text(site / "index.html")
    assert "make reports" in home and "make test" in home
    data = (site / "01_data.html").read_text()
    assert "load_market_data" in data and "validate_ohlcv" in data
    api = text(site / "api" / "data.html")  # the API reference, from the package's docstrings and docments
    assert "load_market_data" in api and "keep the last limit candles" in api
