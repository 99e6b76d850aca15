"""The kernel (revorg/) imports no domain app: data flows kernel ← domain apps ← console."""

import ast
from pathlib import Path

REVORG = Path(__file__).resolve().parents[2] / "revorg"
DOMAIN_APPS = {
    "members",
    "territories",
    "capacities",
    "allocation",
    "crm_sync",
    "book",
    "jobs",
    "console",
}


def imported_modules(tree: ast.AST):
    """Every module an import statement names, at any depth (function-local ones too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def domain_imports_in(source: str) -> list[tuple[int, str]]:
    return [
        (line, module)
        for line, module in imported_modules(ast.parse(source))
        if module.split(".")[0] in DOMAIN_APPS
    ]


def test_no_module_of_the_kernel_imports_a_domain_app():
    offenders = [
        f"{path.relative_to(REVORG.parent)}:{line} imports {module}"
        for path in sorted(REVORG.rglob("*.py"))
        for line, module in domain_imports_in(path.read_text())
    ]
    assert offenders == []


def test_the_walk_sees_function_local_imports():
    source = "import os\n\ndef f():\n    from territories.services import plan_ensure_active\n"
    assert domain_imports_in(source) == [(4, "territories.services")]
