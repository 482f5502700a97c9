"""The structure the code promises: one reader of jaxtyping's internals, a model and io that know
no concrete class, imports that run one way."""

import ast
import inspect
import re
from pathlib import Path

import shapenn as sn
from shapenn._registry import _TABLES

PACKAGE = Path(sn.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {_name(p) for p in MODULES}


def _imports(path: Path) -> set[str]:
    """The shapenn modules ``path`` imports at module level (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _name(path) if path.name == "__init__.py" else _name(path).rsplit(".", 1)[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.startswith("shapenn"):
                # `from . import _init` imports the submodule; `from .x import Y`, module x.
                submodules = {f"{module}.{alias.name}" for alias in node.names} & KNOWN
                found.update(submodules or {module})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("shapenn"))
    return {m for m in found if m in KNOWN and m != _name(path)}


def test_only_the_dim_model_reads_jaxtyping_internals() -> None:
    readers = [_name(path) for path in MODULES if "jaxtyping._" in path.read_text(encoding="utf-8")]
    assert readers == ["shapenn.shapes._dims"]


def test_the_shape_vocabulary_imports_nothing_else_of_shapenn() -> None:
    for path in (PACKAGE / "shapes").glob("*.py"):
        outside = {m for m in _imports(path) if not m.startswith("shapenn.shapes")}
        assert not outside, f"{_name(path)} imports {outside}"


def test_imports_run_one_way() -> None:
    graph = {_name(path): _imports(path) for path in MODULES}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and not seen.add(nxt) and reaches(nxt, goal, seen))  # type: ignore[func-returns-value]
            for nxt in graph.get(start, ())
        )

    cycles = [m for m in graph if reaches(m, m, set())]
    assert cycles == []


def test_the_model_and_io_name_no_concrete_class() -> None:
    concrete = {cls.__name__ for table in _TABLES.values() for cls in table.values()}
    concrete = {name for name in concrete if inspect.getmodule(getattr(sn, name, None)) is not None}
    for module in (
        "model/_model.py",
        "model/_fit.py",
        "model/_data.py",
        "model/_summary.py",
        "_io.py",
        "optim/_optimizers.py",
        "optim/_flat.py",
        "testing/_gradcheck.py",
    ):
        tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
        named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        named |= {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not named & concrete, f"{module} names {sorted(named & concrete)}"


def test_no_module_outside_the_engine_imports_its_private_names() -> None:
    # The engine's public face is shapenn.shapes: layers, models, saving and export read the
    # same Signature and dim model through it.
    private = re.compile(r"(?:from\s+\.*shapes\._\w+|shapenn\.shapes\._\w+|shapes\._\w+\s+import)")
    outside = [
        _name(path)
        for path in MODULES
        if not _name(path).startswith("shapenn.shapes") and private.search(path.read_text())
    ]
    assert outside == []


def test_the_model_is_split_by_job() -> None:
    # the model, the chain and its build, the training loop, the data checks, the summary,
    # fit's sample weights and validation split
    jobs = {path.stem for path in (PACKAGE / "model").glob("_*.py")} - {"__init__"}
    assert jobs == {"_model", "_chain", "_fit", "_data", "_summary", "_weights"}
    lines = {
        path.stem: len(path.read_text().splitlines()) for path in (PACKAGE / "model").glob("*.py")
    }
    assert max(lines.values()) < 600, lines


def test_gradients_are_found_in_one_place() -> None:
    spelled = [
        _name(path)
        for path in MODULES
        if '"d" +' in path.read_text(encoding="utf-8")
        or "'d' +" in path.read_text(encoding="utf-8")
    ]
    assert spelled == ["shapenn.layers._layer"]


def _shape_line(method: object) -> str:
    """What a checked method's docstring says of its shapes, worked out from its annotations."""
    from shapenn.shapes import render_spec, specs_of

    checker = method.__shapenn_checker__  # type: ignore[attr-defined]

    def text(hint: object) -> str:
        return " or ".join(render_spec(s, {}) for s in specs_of(hint))

    arrays = [a for a in checker.arguments if specs_of(checker.hints[a])]
    line = "Shape: " + ", ".join(f"{a} {text(checker.hints[a])}" for a in arrays)
    if checker.returns is not None and specs_of(checker.returns):
        line += f" → {text(checker.returns)}"
    return line


def test_docstrings_say_the_shapes_the_annotations_say() -> None:
    # Hover in an editor shows the docstring, not the dims of a jaxtyping annotation, so each
    # checked public method states its shapes there; this keeps the two in agreement.
    checked = [
        (cls, name, member)
        for table in _TABLES.values()
        for cls in table.values()
        if cls.__module__.startswith("shapenn")
        for klass in cls.__mro__
        if klass.__module__.startswith("shapenn")
        for name, member in vars(klass).items()
        if getattr(member, "__shapenn_checker__", None) is not None
    ]
    assert len(checked) >= 20
    for cls, name, member in checked:
        # Compared with whitespace collapsed: a long line may wrap in the docstring.
        said = " ".join((inspect.getdoc(member) or "").split())
        assert _shape_line(member) in said, f"{cls.__name__}.{name}"


def test_annotations_are_ones_beartype_can_read() -> None:
    # jaxtyping's pytest hook runs beartype over every function of shapenn: it refuses an
    # ndarray whose dtype is not `np.dtype[...]`, and `typing.Self` outside its own classes.
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        assert "ndarray[Any, Any]" not in text, _name(path)
        assert "Self" not in text.replace("self", ""), _name(path)
