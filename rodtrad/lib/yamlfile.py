"""Read YAML into plain Python while remembering the line of every key.

PyYAML's safe loader forgets where values came from and silently keeps the last of two
duplicate keys. Error messages about human-written files must name the line, so this module
composes the node tree and converts it itself, recording `path -> line` as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    """("levels", 2, "owners") -> "levels[2].owners"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.path:
            where += f", {self.path}"
        return f"{where}: {self.message}"


class FileProblems(ValueError):
    """One or more problems in a human-written file; nothing was changed."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class Located:
    """Parsed YAML data and the line of every path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def load_located(text: str) -> Located:
    """Parse YAML text; raise FileProblems for a syntax error or a duplicate key."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FileProblems([Problem(line, "", f"invalid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise FileProblems([Problem(None, "", f"invalid YAML: {exc}")]) from None
    located = Located(data=None)
    problems: list[Problem] = []
    constructor = SafeConstructor()
    if root is not None:
        try:
            located.data = _convert(root, (), located, constructor, problems, set())
        except _Alias as alias:
            raise FileProblems(
                [Problem(alias.line, "", "anchors and aliases (& and *) are not allowed")]
            ) from None
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise FileProblems([Problem(line, "", f"a value could not be read: {exc}")]) from None
    if problems:
        raise FileProblems(problems)
    return located


class _Alias(Exception):
    def __init__(self, line: int):
        self.line = line


def _convert(
    node: Node,
    path: Path,
    located: Located,
    constructor: SafeConstructor,
    problems: list[Problem],
    seen: set[int],
) -> Any:
    # An alias is the same node met twice. Refusing them keeps a small file from expanding
    # into millions of values (and from referring to itself).
    if id(node) in seen:
        raise _Alias(node.start_mark.line + 1)
    seen.add(id(node))
    located.lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                problems.append(
                    Problem(key_node.start_mark.line + 1, path_text(path), "keys must be text")
                )
                continue
            key = str(key)
            if key in result:
                problems.append(
                    Problem(
                        key_node.start_mark.line + 1,
                        path_text((*path, key)),
                        f"the key {key!r} appears twice",
                    )
                )
                continue
            located.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, (*path, key), located, constructor, problems, seen)
        return result
    if isinstance(node, SequenceNode):
        return [
            _convert(child, (*path, index), located, constructor, problems, seen)
            for index, child in enumerate(node.value)
        ]
    assert isinstance(node, ScalarNode)
    return constructor.construct_object(node, deep=True)
