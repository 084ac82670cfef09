"""The package's shape: one import name, the runtime at the bottom importing nothing above it, and
no import cycle anywhere (read from the source with ast, so nothing is imported to check it)."""

import ast
import configparser
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_dirs() -> dict[str, Path]:
    """Package name -> folder, as setup.cfg maps them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = [line.split("=") for line in config["options"]["package_dir"].strip().splitlines()]
    return {name.strip(): ROOT / folder.strip() for name, folder in lines}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in package_dirs().items():
        for path in folder.glob("*.py"):
            found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (at any depth of the file, lazy imports included)."""
    mods = modules()
    graph = defaultdict(set)
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def test_every_package_installs_under_deepfake_dct():
    assert all(name == "deepfake_dct" or name.startswith("deepfake_dct.") for name in package_dirs())


def test_runtime_imports_nothing_above_it():
    upward = [(m, t) for m, targets in import_graph().items() if m.startswith("deepfake_dct.detector")
              for t in targets if not t.startswith("deepfake_dct.detector")]
    assert upward == []


def test_no_import_cycles():
    graph = import_graph()
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(modules()):
        if module not in state:
            visit(module, [module])
    assert cycles == []
