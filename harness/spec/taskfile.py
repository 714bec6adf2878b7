"""Reading a task file: YAML (safe, YAML 1.2's core schema, no duplicate keys, bounded) validated against `harness.spec`, and every mistake
reported at once, each on one line as `file:line: field.path: what was expected (got value)`.

    harness validate tasks/contracts.yaml
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError, SpecError, did_you_mean, shown
from harness.plugins import load_plugins
from harness.redact import public_broken_url, public_url
from harness.spec import Task, TaskSpec, arm_types, backend_types
from harness.spec.limits import TASK_FILE_LIMIT, YAML_VALUES_LIMIT
from harness.spec.trust import Trust
from harness.textfiles import SURROGATE_HINT, lone_surrogate, read_text


class TaskLoader(yaml.SafeLoader):
    """safe_load as YAML 1.2's core schema reads a file: `yes`, `no`, `on`, `off` stay text, `017` is 17, `1:30`
    and `2024-06-01` are text, `1e-4` is a number; mapping keys are text; a key given twice is refused (plain YAML
    keeps the last one silently); the `<<` merge key is kept. What the file can make the loader build is bounded
    (`check_graph`)."""


_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_MERGE, _MAP, _SEQ = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_CORE_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:null", _BOOL, _INT, _FLOAT, _MAP, _SEQ, _MERGE}
# YAML 1.1's timestamps and `=` values are not resolved from plain scalars: they stay text
TaskLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in ("tag:yaml.org,2002:null", _MERGE)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
TaskLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
TaskLoader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$"),
                                 list("-+0123456789"))
TaskLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))

INT64 = (-(1 << 63), (1 << 63) - 1)


def _error(problem: str, node: yaml.Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def _construct_int(loader: TaskLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    digits = text.lstrip("+-")
    if len(digits) > 20:  # before int(): Python refuses to convert past 4,300 digits, and nothing here needs 20
        raise _error(f"integer of {len(digits)} digits is out of range (a 64-bit integer at most)", node)
    value = int(text, 0) if digits.startswith(("0x", "0o")) else int(text, 10)  # 017 is 17 (YAML 1.1: 15)
    if not INT64[0] <= value <= INT64[1]:
        raise _error(f"integer {text} is out of range (a 64-bit integer at most)", node)
    return value


def _construct_mapping(loader: TaskLoader, node: yaml.MappingNode) -> dict:
    """Keys as their text; a key given twice among the node's own keys is refused, a merged (`<<`) key is
    overridden by the node's own, as YAML's merge says."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        if key_node.value in seen:
            raise _error(f"key {key_node.value!r} is given twice", key_node)
        seen.add(key_node.value)
    loader.flatten_mapping(node)
    return {key_node.value: loader.construct_object(value_node, deep=True) for key_node, value_node in node.value}


TaskLoader.add_constructor(_INT, _construct_int)
TaskLoader.add_constructor(_MAP, _construct_mapping)


def check_graph(root: yaml.Node) -> None:
    """Refuse, before anything is built, what YAML lets a file make a loader do: expand anchors and aliases into
    billions of values (an alias bomb), refer to a node from inside itself, use YAML 1.1 types (!!binary, !!set,
    !!timestamp, ...), key a mapping by a list or a mapping, or spell a lone UTF-16 surrogate (\\ud800)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise _error("an alias refers to a node that contains it (a cycle)", node)
        if node.tag not in _CORE_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise _error(f"tag {tag} is not read: task files hold YAML 1.2 text, numbers, true/false, null, lists "
                         f"and mappings (quote the value to keep it as text)", node)
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    raise _error(f"a key must be text, got a {'list' if isinstance(key, yaml.SequenceNode) else 'mapping'}",
                                 key)
                total += size(key) + size(value)
                if total > YAML_VALUES_LIMIT:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > YAML_VALUES_LIMIT:
                    break
        elif not node.value.isascii():
            found = lone_surrogate(node.value)
            if found is not None:
                raise _error(f"{found} {SURROGATE_HINT}", node)
        open_nodes.discard(id(node))
        if total > YAML_VALUES_LIMIT:
            raise _error(f"the file expands to more than {YAML_VALUES_LIMIT:,} values (anchors and aliases count each "
                         f"time they are used)", node)
        sizes[id(node)] = total
        return total

    size(root)


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


_MEMBER_TAGS = {"float", "int", "str", "bool", "FloatRange", "literal['epoch']"}


def _format_loc(loc: tuple, tags: set[str]) -> tuple[tuple, str]:
    parts: list = []
    for part in loc:
        if isinstance(part, str) and part in tags and parts and (isinstance(parts[-1], int) or parts[-1] == "backend"):
            continue
        if isinstance(part, str) and (part.startswith("function-") or "[" in part or part in _MEMBER_TAGS):
            continue  # a union member's name (list[...], float, ...), not a key of the file
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
        kind, choices = ("backend", backend_types()) if err["loc"][-1] == "backend" else ("arm", arm_types())
        return f"unknown {kind} type {tag!r}; {did_you_mean(tag, list(choices))}"
    if err["type"] in ("missing", "extra_forbidden", "union_tag_not_found") or "input" not in err:
        return msg
    if err["type"] == "value_error" and isinstance(err["input"], (dict, list)):
        return msg  # a check across a section's fields names what it found itself
    value = err["input"]
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    text = public_broken_url(text) if "url" in str(err["loc"][-1]) else public_url(text)
    return f"{msg} (got {text[:80]})"


def _union_noise_dropped(errors: list[dict]) -> list[dict]:
    """A value that fits no member of a union gets one error per member; when one member took the value's shape
    (a mapping for FloatRange) and found a real problem in it, the others' "should be a valid list" are noise."""
    def member(e: dict) -> int | None:
        return next((i for i, part in enumerate(e["loc"]) if isinstance(part, str) and "[" in part), None)

    real = [e["loc"] for e in errors if not e["type"].endswith("_type")]
    kept = []
    for e in errors:
        at = member(e)
        if at is not None and e["type"].endswith("_type") and any(
                loc[:at] == e["loc"][:at] and loc != e["loc"] for loc in real):
            continue
        kept.append(e)
    return kept


def problems_from(err: ValidationError, file: str, root: yaml.Node | None) -> list[str]:
    tags = set(arm_types()) | set(backend_types()) | {"list[...]", "FloatRange", "literal['epoch']", "int", "str",
                                                  "EvaluateMetricSpec"}
    lines = []
    for e in _union_noise_dropped(err.errors()):
        if e["type"] == "extra_forbidden":  # the last part is the file's own key, whatever it looks like
            parent, parent_text = _format_loc(e["loc"][:-1], tags)
            key = str(e["loc"][-1])
            line = _line_of(root, parent + (key,))
            prefix = f"{file}:{line}" if line else file
            allowed = _allowed_keys(tuple(p for p in e["loc"][:-1]))
            hint = did_you_mean(key, allowed) if allowed else ""
            lines.append(f"{prefix}: {parent_text}: unknown key {key!r}" + (f"; {hint}" if hint else ""))
            continue
        loc, where = _format_loc(e["loc"], tags)
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, where = loc + ("type",), where + ".type"
        line = _line_of(root, loc)
        prefix = f"{file}:{line}" if line else file
        if e["type"] == "value_error" and where == "(top level)":
            # cross-field checks name their own field path: point each at its line
            for part in e["msg"].removeprefix("Value error, ").split("\n"):
                path = tuple(int(x) if x.isdigit() else x for x in re.split(r"[.\[\]]+", part.split(":", 1)[0]) if x)
                lines.append(f"{file}:{_line_of(root, path) or line}: {part}")
            continue
        lines.append(f"{prefix}: {where}: {_describe(e)}")
    return list(dict.fromkeys(lines))  # one value that fits no member of a union: one line


def _keep_version_text(raw: dict, root: yaml.Node) -> None:
    """`version: 1.10` is the text 1.10, not the number 1.1."""
    node = next((v for k, v in root.value if k.value == "version"), None) if isinstance(root, yaml.MappingNode) else None
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in (_INT, _FLOAT):
        raw["version"] = node.value


def parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """(the node graph, the value) of one YAML document, read by TaskLoader after check_graph passed it."""
    loader = TaskLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        check_graph(root)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


def _outside(spec: TaskSpec, path: Path, root: yaml.Node | None, trust: Trust) -> list[str]:
    """Each path the task reads that lies outside its folder and every folder its user allowed."""
    problems = []
    for loc, target in spec.read_paths(path.parent):
        refusal = trust.path_refusal(path.parent, target)
        if refusal is not None:
            _, where = _format_loc(loc, set())
            problems.append(f"{shown(path)}:{_line_of(root, loc)}: {where}: {refusal}")
    return problems


def load_spec(path: str | Path, trust: Trust | None = None) -> Task:
    """Read and validate a task file; raise SpecError listing every problem. `trust`: what the user allowed it to
    reach outside its folder (default: HARNESS_ALLOW_KEYS and HARNESS_ALLOW_PATHS). Installed plugins are loaded
    first, so their arm and backend types are known."""
    load_plugins()
    path = Path(path)
    try:
        text = read_text(path, TASK_FILE_LIMIT, "task file")
    except HarnessError as exc:
        raise SpecError([str(exc)]) from None
    try:
        root, raw = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown(path)}:{mark.line + 1}:{mark.column + 1}" if mark else shown(path)
        raise SpecError([f"{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.reader.ReaderError as exc:  # a control character: YAML allows printable text only
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SpecError([f"{shown(path)}:{line}:{column}: invalid YAML: character U+{exc.character:04X} is not allowed "
                         f"(YAML files hold printable text only)"]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise SpecError([f"{shown(path)}: invalid YAML: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"]) from None
    if not isinstance(raw, dict):
        raise SpecError([f"{shown(path)}: expected a mapping of task settings at the top level, got {type(raw).__name__}"])
    _keep_version_text(raw, root)
    try:
        spec = TaskSpec.model_validate(raw, context={"base_dir": path.parent})
    except ValidationError as err:
        raise SpecError(problems_from(err, shown(path), root)) from None
    trust = trust if trust is not None else Trust.of_user()
    problems = _outside(spec, path, root, trust)
    if problems:
        raise SpecError(problems)
    return Task(spec, path, raw, trust)
