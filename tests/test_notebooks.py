"""Every notebook in nbs/ as a pytest test, through nbdev's own runner (`nbdev.test.test_nb`).

Cells flagged with a `tst_flags` flag (`#| slow`, `#| net`) are skipped unless asked for with
`--flags "slow net"` or `CRYPTOML_TEST_FLAGS`, exactly as `nbdev-test --flags` would.
"""

from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(
    p
    for p in (ROOT / "nbs").rglob("*.ipynb")
    if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT / "nbs").parts)
)


@pytest.mark.notebook
@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NBS])
def test_notebook(nb, request):
    flags = get_config(ROOT).tst_flags.split()
    wanted = request.config.getoption("--flags").split()
    ok, secs = run_notebook(nb, skip_flags=flags, force_flags=wanted, basepath=ROOT, cell_timeout=900)
    assert ok, f"{nb.name} failed (traceback above, on stderr)"
