"""Reading a task file: YAML (safe, no duplicate keys) validated against `harness.spec`, and every mistake
reported at once, each on one line as `file:line: field.path: what was expected (got value)`.

    harness validate tasks/contracts.yaml
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError, SpecError, did_you_mean
from harness.plugins import load_plugins
from harness.spec import BACKEND_TYPES, Task, TaskSpec, arm_types
from harness.textfiles import read_text


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice (plain YAML keeps the last one silently) and reads scalars as
    YAML 1.2 does: `yes`, `no`, `on`, `off` stay text, `017` is 17, `1:30` is text, `1e-4` is a number."""


_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_UniqueKeyLoader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$"),
                                       list("-+0123456789"))
_UniqueKeyLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0x", "0o")):
        return int(text, 0)
    return int(text, 10)  # a leading zero is decimal, as in YAML 1.2 (YAML 1.1 read 017 as 15)


_UniqueKeyLoader.add_constructor(_INT, _construct_int)


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)



def _line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node on a pydantic error path."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node, line = match, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        # discriminator tags ('prompted') are not YAML keys: skip them
    return line


def _format_loc(loc: tuple, tags: set[str]) -> tuple[tuple, str]:
    parts: list = []
    for part in loc:
        if isinstance(part, str) and part in tags and parts and isinstance(parts[-1], int):
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        parts.append(part)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return tuple(parts), text or "(top level)"


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model at a path, for 'did you mean' on unknown keys."""
    model: Any = TaskSpec
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            model = _first_model(annotation, None)
        else:
            model = _first_model(model, part)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _first_model(annotation: Any, tag: str | None) -> Any:
    """Dig a BaseModel class out of Optional / list / Annotated / discriminated-union annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = []
    for arg in getattr(annotation, "__args__", ()) + tuple(getattr(annotation, "__metadata__", ())):
        found = _first_model(arg, tag)
        if found is not None:
            candidates.append(found)
    if getattr(annotation, "__origin__", None) is Annotated:
        candidates.insert(0, _first_model(annotation.__origin__, tag))
    candidates = [c for c in candidates if c is not None]
    for c in candidates:
        type_field = c.model_fields.get("type") if isinstance(c, type) and issubclass(c, BaseModel) else None
        if tag is not None and type_field is not None and tag in getattr(type_field.annotation, "__args__", ()):
            return c
    return candidates[0] if candidates else None


def _describe(err: dict) -> str:
    msg = err["msg"]
    if any(isinstance(part, str) and "api_key" in part for part in err["loc"]):
        # a key pasted where its variable's name belongs must not be echoed back
        return msg.removeprefix("Value error, ")
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    if err["type"] == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag"))
        kind, choices = ("backend", BACKEND_TYPES) if err["loc"][-1] == "backend" else ("arm", arm_types())
        return f"unknown {kind} type {tag!r}; {did_you_mean(tag, list(choices))}"
    if err["type"] in ("missing", "extra_forbidden", "union_tag_not_found") or "input" not in err:
        return msg
    if err["type"] == "value_error" and isinstance(err["input"], (dict, list)):
        return msg  # a check across a section's fields names what it found itself
    value = err["input"]
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return f"{msg} (got {shown[:80]})"


def problems_from(err: ValidationError, file: str, root: yaml.Node | None) -> list[str]:
    tags = set(arm_types()) | set(BACKEND_TYPES) | {"list[...]", "FloatRange", "literal['epoch']", "int", "str",
                                                  "EvaluateMetricSpec"}
    lines = []
    for e in err.errors():
        loc, where = _format_loc(e["loc"], tags)
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, where = loc + ("type",), where + ".type"
        line = _line_of(root, loc)
        prefix = f"{file}:{line}" if line else file
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            parent = loc[:-1]
            _, parent_text = _format_loc(parent, tags)
            allowed = _allowed_keys(tuple(p for p in e["loc"][:-1]))
            hint = did_you_mean(key, allowed) if allowed else ""
            lines.append(f"{prefix}: {parent_text}: unknown key {key!r}" + (f"; {hint}" if hint else ""))
            continue
        if e["type"] == "value_error" and where == "(top level)":
            # cross-field checks name their own field path: point each at its line
            for part in e["msg"].removeprefix("Value error, ").split("\n"):
                path = tuple(int(x) if x.isdigit() else x for x in re.split(r"[.\[\]]+", part.split(":", 1)[0]) if x)
                lines.append(f"{file}:{_line_of(root, path) or line}: {part}")
            continue
        lines.append(f"{prefix}: {where}: {_describe(e)}")
    return lines


def _keep_version_text(raw: dict, root: yaml.Node) -> None:
    """`version: 1.10` is the text 1.10, not the number 1.1."""
    node = next((v for k, v in root.value if k.value == "version"), None) if isinstance(root, yaml.MappingNode) else None
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in (_INT, _FLOAT):
        raw["version"] = node.value


def load_spec(path: str | Path) -> Task:
    """Read and validate a task file; raise SpecError listing every problem. Installed plugins are loaded first,
    so their arm and backend types are known."""
    load_plugins()
    path = Path(path)
    if not path.is_file():
        raise SpecError([f"{path}: task file not found" if not path.exists() else f"{path}: expected a task file, found a folder"])
    try:
        text = read_text(path)
    except HarnessError as exc:
        raise SpecError([str(exc)]) from None
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError([f"{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.reader.ReaderError as exc:  # a control character: YAML allows printable text only
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SpecError([f"{path}:{line}:{column}: invalid YAML: character U+{exc.character:04X} is not allowed "
                         f"(YAML files hold printable text only)"]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise SpecError([f"{path}: invalid YAML: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"]) from None
    if not isinstance(raw, dict):
        raise SpecError([f"{path}: expected a mapping of task settings at the top level, got {type(raw).__name__}"])
    _keep_version_text(raw, root)
    try:
        spec = TaskSpec.model_validate(raw, context={"base_dir": path.parent})
    except ValidationError as err:
        raise SpecError(problems_from(err, str(path), root)) from None
    return Task(spec, path, raw)
