"""The shape docs/design.md (Layout) promises, checked on the code itself: short functions, tests that mirror
the source and share helpers only through `tests/support`."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "feedgate"
LONGEST = 60


def _functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)  # type: ignore[operator]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_no_function_is_longer_than_60_lines() -> None:
    long = [f"{path.relative_to(ROOT)}:{name} ({lines} lines)" for path in sorted(SRC.rglob("*.py"))
            if "migrations" not in path.parts for name, lines in _functions(path) if lines > LONGEST]
    assert long == []


def test_every_package_has_its_test_folder() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - {"migrations"}
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    assert packages - folders == set()


def test_no_test_module_imports_another() -> None:
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("tests.") and not module.startswith("tests.support"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []
