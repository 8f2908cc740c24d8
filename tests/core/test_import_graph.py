"""Dependencies point one way, read from the code itself (Python's ast, every module of every
package, imports inside functions included): core ← merchants ← ledger ← credit, reconciliation;
the apps and tools on top (backoffice, payouts, receipts, risk, demo, bench, soak) may import the
apps below them, and nothing below imports them. Imports under `if TYPE_CHECKING:` are exempt
(they never run). A new arrow is a design decision: add it to ALLOWED, with its reason."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CORE_APPS = ("core", "merchants", "ledger", "credit", "reconciliation")
ON_TOP = ("backoffice", "payouts", "receipts", "risk", "demo", "bench", "soak")

# package -> the project packages it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "core": set(),  # core imports no app
    "merchants": {"core"},  # the ledger registers with merchants.hooks, never the other way
    "ledger": {"core", "merchants"},
    "credit": {"core", "merchants", "ledger"},
    "reconciliation": {"core", "merchants", "ledger"},
    # The new apps on top of the money apps; the back office renders them all.
    "payouts": set(CORE_APPS),
    "receipts": set(CORE_APPS),
    "risk": set(CORE_APPS),
    "backoffice": {*CORE_APPS, "payouts", "receipts", "risk"},
    # Tools: demo data and the benchmark go through every app's services (the benchmark and the
    # soak test also through the client); the soak test and the backup drill reuse the benchmark's
    # cluster and loaders.
    "demo": {*CORE_APPS, "payouts", "receipts", "risk"},
    "bench": {*CORE_APPS, "payouts", "receipts", "risk", "jianguan_client"},
    "soak": {*CORE_APPS, "payouts", "receipts", "risk", "bench", "jianguan_client"},
    "backup": {*CORE_APPS, "bench"},
    # The platforms' client library signs with core.api.signing (one signing scheme for both
    # sides; standard library only, no Django): that module and nothing else of the project.
    "jianguan_client": {"core"},
}
CLIENT_MAY_IMPORT = {"core.api.signing"}
# config is the composition root (settings, URLs, Celery): it may import anything; no package imports it.
PROJECT = set(ALLOWED) | {"config"}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """(line, imported module) for every absolute import, skipping `if TYPE_CHECKING:` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        stack.extend(ast.iter_child_nodes(node))


def import_arrows() -> list[tuple[str, str, str]]:
    """(importing package, imported package, "path:line imports module") for every import between
    project packages."""
    arrows = []
    for package in sorted(ALLOWED):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in _imports(tree):
                target = module.split(".")[0]
                if target in PROJECT and target != package:
                    arrows.append((package, target, f"{path.relative_to(ROOT)}:{line} imports {module}"))
    return arrows


def test_every_package_of_the_graph_exists():
    # the rule names real packages (a renamed app must be renamed here too)
    missing = [p for p in ALLOWED if not (ROOT / p / "__init__.py").exists()]
    assert missing == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package):
    # given every import of the package's modules
    arrows = [a for a in import_arrows() if a[0] == package]
    # then each goes to a package it may depend on
    forbidden = [where for _source, target, where in arrows if target not in ALLOWED[package]]
    assert forbidden == []


def test_the_client_library_imports_only_the_signing_scheme():
    # the client ships to platforms: of the project, it may use the standard-library signing module only
    arrows = [where for source, _target, where in import_arrows() if source == "jianguan_client"]
    assert [where for where in arrows if where.split(" imports ")[1] not in CLIENT_MAY_IMPORT] == []


def test_nothing_below_imports_the_apps_and_tools_on_top():
    # the rule of the design stated directly: no arrow from the money apps into what sits on them
    arrows = [where for source, target, where in import_arrows() if source in CORE_APPS and target in ON_TOP]
    assert arrows == []


def test_the_scan_sees_lazy_imports_and_skips_type_checking_ones():
    # given a module with an import inside a function and one under TYPE_CHECKING
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import ledger.models\n"
                     "def f():\n    from credit import services\n")
    # then only the lazy import counts
    assert [module for _line, module in sorted(_imports(tree))] == ["typing", "credit"]



# --- templates: the same rule for {% include %}, {% extends %} and {% url %} -------------------

_TEMPLATE_REFERENCE = re.compile(r"{%\s*(?:include|extends)\s+[\"']([\w-]+)/|{%\s*url\s+[\"']([\w-]+):")


def template_arrows() -> list[tuple[str, str, str]]:
    """(owning app, referenced app, "path:line") for every template of an app (templates/<app>/
    and templates/admin/<app>/) that includes or extends another app's template or reverses its
    URL namespace (admin: is the admin site's, shared by all)."""
    arrows = []
    base = ROOT / "templates"
    for path in sorted(base.rglob("*.html")):
        parts = path.relative_to(base).parts
        owner = parts[1] if parts[0] == "admin" and len(parts) > 2 else parts[0]
        if owner not in ALLOWED:
            continue
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _TEMPLATE_REFERENCE.finditer(text):
                target = match.group(1) or match.group(2)
                if target in PROJECT and target != owner:
                    arrows.append((owner, target, f"{path.relative_to(ROOT)}:{number}"))
    return arrows


def test_templates_point_the_same_way():
    # given every template of an app: what it includes, extends or links to by URL name
    forbidden = [where for source, target, where in template_arrows() if target not in ALLOWED[source]]
    # then a money app's page never reaches into the apps on top (they register with its hooks instead)
    assert forbidden == []
