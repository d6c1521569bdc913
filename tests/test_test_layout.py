"""How the tests themselves are laid out: helpers come from ``tests/helpers.py``, never
from a ``conftest.py`` or another test module, and commands run through the ``runner``
fixture rather than ad-hoc click runners."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """``(module, names)`` of every ``import`` and ``from ... import`` in a file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _modules() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def test_nothing_is_imported_from_a_conftest_or_a_test_module() -> None:
    bad = [
        f"{path.relative_to(TESTS)}: {module}"
        for path in _modules()
        for module, _ in _imports(path)
        if module.startswith("tests.")
        and module.rsplit(".", 1)[-1].startswith(("conftest", "test_"))
    ]
    assert not bad, "import these from tests/helpers.py instead:\n" + "\n".join(bad)


def test_commands_run_through_the_runner_fixture() -> None:
    bad = [
        str(path.relative_to(TESTS))
        for path in _modules()
        if path.name != "helpers.py"
        for module, names in _imports(path)
        if module == "click.testing" and "CliRunner" in names
    ]
    assert not bad, "use the runner fixture (tests/helpers.py GatewayRunner):\n" + "\n".join(bad)
