"""The layer contract: imports only go down the layer order (inside functions too), no import cycle, settings read
only through `cryptoml.core.settings`, and light modules stay light (no deep-learning framework on import)."""

import ast, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "cryptoml"

# Lowest first. A module belongs to the layer of its first name under `cryptoml` (`models.deep` -> `models`).
# Modules may import from their own layer or any lower one; `cryptoml.testing` (fixtures) sits on top and nothing in
# the package may import it. Names of modules that do not exist yet are listed so that they land in the right place.
LAYERS = [
    ["core"],
    ["data", "features", "dataset", "evaluation"],
    ["pipeline"],
    ["models", "backtest", "volatility", "regime", "sentiment"],
    ["crosssection", "portfolio", "automl", "rl", "persistence"],
    ["reports", "ledger", "jobs", "monitor"],
    ["api"],
    ["cli"],
    ["testing"],
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
LEVEL[""] = 0  # the package itself (`import cryptoml`: its version)
SKIP = {"cryptoml._modidx"}  # nbdev's index of symbols, not code


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name not in SKIP:
            out[name] = p
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    "Every `cryptoml` module `name` imports, at module level or inside functions (relative imports resolved)."
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES}  # from x import module
    out = set()
    for m in found:
        if m == "cryptoml" or m.startswith("cryptoml."):
            while m not in MODULES and "." in m:  # `cryptoml.core.settings` -> the module `cryptoml.core`
                m = m.rpartition(".")[0]
            if m in MODULES and m != name:
                out.add(m)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_every_module_has_a_layer():
    unknown = sorted(m for m in MODULES if _layer(m) not in LEVEL)
    assert not unknown, f"modules missing from the layer table in tests/test_layers.py: {unknown}"


def test_imports_only_go_down():
    bad = [
        f"{m} (layer {LEVEL[_layer(m)]}) imports {d} (layer {LEVEL[_layer(d)]})"
        for m, deps in GRAPH.items()
        for d in sorted(deps)
        if _layer(m) in LEVEL and _layer(d) in LEVEL and LEVEL[_layer(d)] > LEVEL[_layer(m)]
    ]
    assert not bad, "imports going up the layer order:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    "Strongly connected components with more than one module (Tarjan)."
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    cycles = _cycles(GRAPH)
    assert not cycles, f"import cycles (imports inside functions count): {cycles}"


def test_the_contract_catches_what_it_should():
    "The checker itself: a cycle and an upward import are found in a made-up graph."
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert LEVEL["jobs"] < LEVEL["api"] < LEVEL["cli"] and LEVEL["automl"] < LEVEL["jobs"]


def _environ(node) -> bool:
    "`os.environ` (or `environ` imported from os)."
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _suspect(key) -> bool:
    "A key that is a `CRYPTOML_*` literal, or computed (so it may be one)."
    if isinstance(key, ast.Constant):
        return isinstance(key.value, str) and key.value.startswith("CRYPTOML_")
    return True


def _env_reads(path: Path) -> list[str]:
    "Lines that read an environment variable that is (or may be) a `CRYPTOML_*` one, or alias `os.environ`."
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            f = node.func
            read = (f.attr == "get" and _environ(f.value)) or f.attr == "getenv"
            if read and _suspect(node.args[0]):
                out.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _environ(node.value):
            if _suspect(node.slice):
                out.append(node.lineno)
        elif isinstance(node, ast.Assign):
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            if any(_environ(v) for v in values):
                out.append(node.lineno)  # an alias hides the reads that follow
    lines = path.read_text().splitlines()
    return [f"{path.relative_to(ROOT)}:{i}: {lines[i - 1].strip()}" for i in sorted(set(out))]


def test_settings_are_read_only_through_core_settings():
    "No module reads a `CRYPTOML_*` variable itself; `cryptoml.core.Settings` holds them all."
    bad = [line for p in MODULES.values() for line in _env_reads(p)]
    assert not bad, "read CRYPTOML_* through cryptoml.core.settings():\n" + "\n".join(bad)


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    return set(res.stdout.split())


HEAVY = {"torch", "stable_baselines3", "tensorflow", "keras", "mlflow"}


@pytest.mark.parametrize(
    "module",
    [
        "cryptoml.rl.env",
        "cryptoml.rl.allocation",
        "cryptoml.rl.agents",
        "cryptoml.rl.compare",
        "cryptoml.features",
        "cryptoml.data",
        "cryptoml.dataset",
        "cryptoml.backtest",
        "cryptoml.core",
        "cryptoml.models.ensemble",
        "cryptoml.ledger",
        "cryptoml.monitor",
    ],
)
def test_light_modules_load_no_deep_learning_framework(module):
    heavy = _loaded_after_import(module) & HEAVY
    assert not heavy, f"import {module} loads {sorted(heavy)}"
