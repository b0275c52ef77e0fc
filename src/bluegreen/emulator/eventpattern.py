"""EventBridge event patterns: checked as PutRule checks them, matched as EventBridge does.

The semantics are those of Event Ruler (github.com/aws/event-ruler, README), the
matching library behind EventBridge, and of the EventBridge user guide ("Content
filtering in Amazon EventBridge event patterns", "Comparison operators for use in event
patterns"):

- every field named in the pattern must match (AND); a field matches when any value of
  its array matches (OR); ``"$or": [{...}, {...}]`` ORs whole sub-patterns;
- when the event's value is an array, the field matches if any element matches; objects
  inside arrays are matched element by element (array-consistent matching, Event
  Ruler's ``rulesForJSONEvent``);
- exact values compare strings as strings and numbers as numbers (``300`` matches
  ``3.0e2``), and ``true``/``false``/``null`` only themselves;
- ``prefix``, ``suffix`` and ``equals-ignore-case`` (and ``prefix``/``suffix`` with
  ``equals-ignore-case``) work on strings only;
- ``wildcard``: only ``*`` is a wildcard (zero or more characters); ``\\*`` is a literal
  star and ``\\\\`` a literal backslash; any other escape, and two consecutive ``*``,
  are invalid patterns. ``?`` and ``[`` are ordinary characters;
- ``anything-but`` takes a value, a list of strings or of numbers, or one of ``prefix``,
  ``suffix``, ``equals-ignore-case``, ``wildcard``; it matches present values only;
- ``numeric`` takes one or two comparisons (``=``, ``<``, ``<=``, ``>``, ``>=``) on JSON
  numbers; ``cidr`` matches IPv4/IPv6 addresses in a range;
- ``exists`` works on leaf fields: ``exists: false`` also matches a field whose value is
  an object (it is not a leaf), and a missing parent.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

_OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "equals-ignore-case",
        "wildcard",
        "anything-but",
        "numeric",
        "cidr",
        "exists",
    }
)
_NUMERIC_OPS = frozenset({"=", "<", "<=", ">", ">="})


class PatternError(ValueError):
    """The pattern is not valid; the message is the reason PutRule gives."""


def parse(text: str) -> dict[str, Any]:
    """Parse and check a pattern (what PutRule and TestEventPattern do first)."""
    try:
        pattern = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PatternError(f"Invalid JSON: {exc.msg}") from None
    if not isinstance(pattern, dict):
        raise PatternError("Filter is not an object")
    check(pattern)
    return pattern


def check(pattern: dict[str, Any]) -> None:
    """Refuse what EventBridge refuses in a pattern (InvalidEventPatternException)."""
    for key, value in pattern.items():
        if _is_or(key, value):
            for sub in value:
                check(sub)
        elif isinstance(value, dict):
            check(value)
        elif isinstance(value, list):
            if not value:
                raise PatternError("Empty arrays are not allowed")
            for rule in value:
                _check_rule(key, rule)
        else:
            raise PatternError(f"'{key}' must be an object or an array")


def _is_or(key: str, value: Any) -> bool:
    # Event Ruler reads "$or" as OR only for an array of at least two objects whose
    # keys are not operator names; otherwise it is an ordinary field name (README,
    # "The $or Primitive").
    return (
        key == "$or"
        and isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(sub, dict) and sub and not (set(sub) & _OPERATORS) for sub in value)
    )


def _check_rule(key: str, rule: Any) -> None:
    if not isinstance(rule, dict):
        if isinstance(rule, list):
            raise PatternError(f"Match value must be String, number, true, false, or null ({key})")
        return
    if len(rule) != 1:
        raise PatternError(f"Only one key allowed in match expression ({key})")
    ((operator, operand),) = rule.items()
    if operator not in _OPERATORS:
        raise PatternError(f"Unrecognized match type {operator}")
    if operator == "exists":
        if not isinstance(operand, bool):
            raise PatternError("exists match pattern must be either true or false.")
    elif operator in ("prefix", "suffix"):
        if isinstance(operand, dict):
            _ignore_case_operand(operator, operand)
        elif not isinstance(operand, str):
            raise PatternError(f"{operator} match pattern must be a string")
    elif operator == "equals-ignore-case":
        if not isinstance(operand, str):
            raise PatternError("equals-ignore-case match pattern must be a string")
    elif operator == "wildcard":
        if not isinstance(operand, str):
            raise PatternError("wildcard match pattern must be a string")
        _check_wildcard(operand)
    elif operator == "numeric":
        _check_numeric(operand)
    elif operator == "cidr":
        if not isinstance(operand, str):
            raise PatternError("cidr match pattern must be a string")
        try:
            ipaddress.ip_network(operand, strict=False)
        except ValueError:
            raise PatternError(f"Nonstandard IP address: {operand}") from None
    else:  # anything-but
        _check_anything_but(operand)


def _ignore_case_operand(operator: str, operand: dict[str, Any]) -> None:
    if list(operand) != ["equals-ignore-case"] or not isinstance(
        operand["equals-ignore-case"], str
    ):
        raise PatternError(f"Unsupported {operator} pattern: {json.dumps(operand)}")


def _check_anything_but(operand: Any) -> None:
    if isinstance(operand, list):
        if not operand:
            raise PatternError("Empty arrays are not allowed")
        strings = all(isinstance(v, str) for v in operand)
        numbers = all(_is_number(v) for v in operand)
        if not (strings or numbers):
            raise PatternError("Inside anything but list, start|null|boolean is not supported.")
        return
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise PatternError("Only one key allowed in anything-but match expression")
        ((inner, value),) = operand.items()
        if inner not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise PatternError(f"Unsupported anything-but pattern: {inner}")
        values = (
            value
            if isinstance(value, list) and inner in ("equals-ignore-case", "wildcard")
            else [value]
        )
        for one in values:
            if not isinstance(one, str):
                raise PatternError(f"anything-but {inner} match pattern must be a string")
            if inner == "wildcard":
                _check_wildcard(one)
        return
    if not (isinstance(operand, str) or _is_number(operand)):
        raise PatternError("anything-but match pattern must be a string, a number or a list")


def _check_wildcard(operand: str) -> None:
    index = 0
    while index < len(operand):
        char = operand[index]
        if char == "\\":
            if index + 1 >= len(operand) or operand[index + 1] not in "*\\":
                raise PatternError(f"Invalid escape character at pos {index}")
            index += 2
            continue
        if char == "*" and operand[index + 1 : index + 2] == "*":
            raise PatternError(f"Consecutive wildcard characters at pos {index}")
        index += 1


def _check_numeric(operand: Any) -> None:
    if not isinstance(operand, list) or not operand or len(operand) % 2:
        raise PatternError("Value of numeric must be an array of operator and number pairs")
    pairs = list(zip(operand[::2], operand[1::2], strict=True))
    if len(pairs) > 2:
        raise PatternError("Too many terms in numeric range expression")
    for op, number in pairs:
        if op not in _NUMERIC_OPS:
            raise PatternError(f"Unrecognized numeric range operator: {op}")
        if not _is_number(number):
            raise PatternError("Value of numeric must be numbers")
    if len(pairs) == 2:
        lower = [op for op, _ in pairs if op in (">", ">=")]
        upper = [op for op, _ in pairs if op in ("<", "<=")]
        if len(lower) != 1 or len(upper) != 1:
            raise PatternError("Bad numeric range operator")
        bottom = next(n for op, n in pairs if op in (">", ">="))
        top = next(n for op, n in pairs if op in ("<", "<="))
        if bottom >= top:
            raise PatternError("Bottom must be less than top")


# ------------------------------------------------------------------------------ matching


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern`` (a checked pattern)."""
    return _match_object(pattern, event)


def _match_object(pattern: dict[str, Any], node: dict[str, Any]) -> bool:
    for key, expected in pattern.items():
        if _is_or(key, expected):
            if not any(_match_object(sub, node) for sub in expected):
                return False
            continue
        present = key in node
        value = node.get(key)
        if isinstance(expected, dict):
            candidates = _objects(value) if present else []
            if not candidates:
                candidates = [{}]
            if not any(_match_object(expected, candidate) for candidate in candidates):
                return False
            continue
        if isinstance(value, dict):
            leaves: list[Any] = []
            is_leaf = False
        elif isinstance(value, list):
            leaves = [v for v in _flatten(value) if not isinstance(v, dict)]
            is_leaf = bool(leaves)
        else:
            leaves = [value] if present else []
            is_leaf = present
        if not any(_match_rule(rule, is_leaf, leaves) for rule in expected):
            return False
    return True


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in _flatten(value) if isinstance(v, dict)]
    return []


def _flatten(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list):
            out.extend(_flatten(value))
        else:
            out.append(value)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(expected: Any, value: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return value is expected
    if _is_number(expected):
        return _is_number(value) and float(value) == float(expected)
    return isinstance(value, str) and value == expected


def _match_rule(rule: Any, present: bool, values: list[Any]) -> bool:
    if not isinstance(rule, dict):
        return any(_equal(rule, value) for value in values)
    ((operator, operand),) = rule.items()
    if operator == "exists":
        return present is operand
    strings = [v for v in values if isinstance(v, str)]
    if operator == "prefix":
        if isinstance(operand, dict):
            folded = operand["equals-ignore-case"].casefold()
            return any(v.casefold().startswith(folded) for v in strings)
        return any(v.startswith(operand) for v in strings)
    if operator == "suffix":
        if isinstance(operand, dict):
            folded = operand["equals-ignore-case"].casefold()
            return any(v.casefold().endswith(folded) for v in strings)
        return any(v.endswith(operand) for v in strings)
    if operator == "equals-ignore-case":
        return any(v.casefold() == operand.casefold() for v in strings)
    if operator == "wildcard":
        compiled = _wildcard(operand)
        return any(compiled.fullmatch(v) for v in strings)
    if operator == "numeric":
        return any(_numeric(operand, v) for v in values if _is_number(v))
    if operator == "cidr":
        network = ipaddress.ip_network(operand, strict=False)
        return any(_in_network(v, network) for v in strings)
    return any(_anything_but(operand, v) for v in values)


def _anything_but(operand: Any, value: Any) -> bool:
    if isinstance(operand, list):
        return not any(_equal(excluded, value) for excluded in operand)
    if isinstance(operand, dict):
        ((inner, excluded),) = operand.items()
        if not isinstance(value, str):
            return False
        options = excluded if isinstance(excluded, list) else [excluded]
        if inner == "prefix":
            return not value.startswith(excluded)
        if inner == "suffix":
            return not value.endswith(excluded)
        if inner == "equals-ignore-case":
            return all(value.casefold() != one.casefold() for one in options)
        return not any(_wildcard(one).fullmatch(value) for one in options)
    return not _equal(operand, value)


def _numeric(operand: list[Any], value: float) -> bool:
    for op, number in zip(operand[::2], operand[1::2], strict=True):
        ok = {
            "=": value == number,
            "<": value < number,
            "<=": value <= number,
            ">": value > number,
            ">=": value >= number,
        }[op]
        if not ok:
            return False
    return True


def _in_network(value: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False


_WILDCARDS: dict[str, re.Pattern[str]] = {}


def _wildcard(operand: str) -> re.Pattern[str]:
    compiled = _WILDCARDS.get(operand)
    if compiled is None:
        parts: list[str] = []
        index = 0
        while index < len(operand):
            char = operand[index]
            if char == "\\" and index + 1 < len(operand):
                parts.append(re.escape(operand[index + 1]))
                index += 2
                continue
            parts.append(".*" if char == "*" else re.escape(char))
            index += 1
        compiled = re.compile("".join(parts), re.DOTALL)
        _WILDCARDS[operand] = compiled
    return compiled
