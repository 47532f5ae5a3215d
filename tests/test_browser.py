"""Reports, the reports index and the documentation site in a real browser (headless Chromium, installed when missing):
no console errors, every figure rendered, links that resolve, pages that fit a laptop screen. The test saves
screenshots of the index and of a report in its temporary folder (index.png, report.png)."""

import pytest

from browser import LAPTOP, Browser, chromium


@pytest.fixture(scope="module")
def browser():
    exe, why = chromium(install=True)
    if exe is None:
        pytest.skip(f"no headless browser: {why}")
    b = Browser(exe)
    yield b
    b.close()


# Loads from other hosts a page may make: they fail offline (as here), and the page reads well without them.
# smalldocs loads KaTeX from a CDN on docs pages with formulas (offline, the TeX shows as written). Any other load
# from the network fails the test: reports and docs must open offline.
ALLOWED_EXTERNAL = ("https://cdn.jsdelivr.net/npm/katex@",)


def _assert_reads_well(check: dict, what: str, figures: bool = False) -> None:
    "No errors, no broken images or dead links, no page wider than the window (and figures when asked)."
    assert not check["problems"], f"{what}: {check['problems'][:5]}"
    other = [e for e in check["external"] if not any(a in e for a in ALLOWED_EXTERNAL)]
    assert not other, f"{what} loads from the network: {other[:5]}"
    assert not check["broken_images"], f"{what}: images that did not render: {check['broken_images'][:5]}"
    assert not check["dead_links"], f"{what}: links to files that do not exist: {check['dead_links'][:5]}"
    assert check["scrollWidth"] <= check["width"], (
        f"{what}: page {check['scrollWidth']}px wide in a {check['width']}px window"
    )
    if figures:
        assert check["images"], f"{what}: no figures"


def test_reports_and_index(browser, main_job, tmp_path):
    root, _ = main_job
    page = browser.page()
    index = page.open((root / "index.html").as_uri()).check()
    _assert_reads_well(index, "reports/index.html")
    page.screenshot(tmp_path / "index.png")
    reports = sorted({h.split("#")[0] for h in index["links"] if h.endswith("/report.html")})
    assert len(reports) == 4, reports  # data, wide twice (latest and history), broken
    for url in reports:
        check = page.open(url).check()
        failed = "/broken/" in url
        _assert_reads_well(check, url, figures=not failed)
        assert any(h.endswith("/index.html") for h in check["links"]), f"{url}: no link back to the index"
    runs = [h for h in index["links"] if h.endswith("/runs.html")]  # the run ledger's comparison page
    assert len(runs) == 1, index["links"]
    _assert_reads_well(page.open(runs[0]).check(), "reports/runs.html")
    wide = next(u for u in reports if "/wide/" in u)
    page.open(wide)
    page.screenshot(tmp_path / "report.png")
    # the trading statistics table is wider than the text column: it scrolls inside its output, the page does not
    wider = "[...document.querySelectorAll('.jp-OutputArea-output')].filter(e => e.scrollWidth > e.clientWidth + 1)"
    assert page.evaluate(f"{wider}.length") >= 1, "the wide table should scroll inside its output"
    page.close()
    narrow = browser.page((900, 800))
    _assert_reads_well(narrow.open(wide).check(), f"{wide} at 900px", figures=True)
    narrow.close()
    assert (tmp_path / "index.png").stat().st_size > 10_000 and (tmp_path / "report.png").stat().st_size > 10_000


def test_docs_site(browser, docs_site):
    pages = sorted(docs_site.glob("*.html")) + sorted((docs_site / "api").glob("*.html"))
    assert len(pages) > 20
    page = browser.page(LAPTOP)
    for p in pages:
        _assert_reads_well(page.open(p.as_uri(), settle_ms=100).check(), f"docs {p.relative_to(docs_site)}")
    page.close()
