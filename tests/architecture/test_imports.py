"""The house rules of the layout (README, "Layout"), checked on every import statement of the product code.

config     the project shell: settings, the root URLconf, wsgi; it may import anything and nothing imports it
ops        serving, health, metrics, the request log, outage answers, logging, error views; no domain module
           imports it
api → applications → portal   the domain, each importing only those to its right
throttle   the brute-force counters, a library the others use; it imports none of them
testing, bench, scripts, tests   tools around the product, which never imports them
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"config", "ops", "throttle", "portal", "applications", "api", "testing", "bench", "scripts", "tests"}
TOOLS = {"testing", "bench", "scripts", "tests"}

# What each product package may import of ours (besides itself).
ALLOWED = {
    "config": OURS - TOOLS,
    "ops": {"throttle", "portal", "applications", "api"},
    "api": {"throttle", "portal", "applications"},
    "applications": {"throttle", "portal"},
    "portal": {"throttle"},
    "throttle": set(),
}


def _is_test_code(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return "tests" in parts or path.name in ("conftest.py",) or path.name.startswith("test_")


def product_modules():
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not _is_test_code(path):
                yield package, path


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages that the module imports, wherever the import statement is (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in OURS)
    return found


def test_the_rules_see_every_product_module():
    packages = {package for package, _ in product_modules()}
    assert packages == set(ALLOWED)
    # Any new top-level package of Python code must be placed in the rules above.
    top_level = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert top_level <= OURS, f"placed nowhere in the layout: {top_level - OURS}"


@pytest.mark.parametrize(
    ("package", "path"), [pytest.param(*module, id=str(module[1].relative_to(ROOT))) for module in product_modules()]
)
def test_each_product_module_imports_only_what_its_package_may(package, path):
    forbidden = imported_packages(path) - ALLOWED[package] - {package}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def test_nothing_imports_the_shell():
    importers = [
        str(path.relative_to(ROOT))
        for path in sorted(ROOT.rglob("*.py"))
        if ".venv" not in path.parts and path.parts[len(ROOT.parts)] != "config" and "config" in imported_packages(path)
    ]
    # Tests may reload the shell to check it; no other code names it.
    assert [path for path in importers if not _is_test_code(ROOT / path)] == []
