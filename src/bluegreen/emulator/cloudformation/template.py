"""Read a CloudFormation template and evaluate its intrinsic functions, as CloudFormation does.

Loading: cfn-lint's decoder (already a dependency: the validator of every template), which
reads JSON and YAML with CloudFormation's short-form tags, and refuses what CloudFormation
refuses at parse time (a duplicate key is "E0000 Duplicate found"), naming the line.

Evaluation follows the CloudFormation User Guide ("Intrinsic function reference",
"Parameters", "Conditions"):

- a parameter's value is a string once referenced, whatever its ``Type`` (``Number`` too);
  ``CommaDelimitedList`` and ``List<...>`` give lists; AllowedValues, AllowedPattern,
  Min/MaxLength and Min/MaxValue are checked;
- ``Fn::Equals`` compares two values as CloudFormation holds them (scalars as strings);
- conditions may refer to each other in any order (a cycle is an error);
- a ``Transform`` (SAM, AWS::LanguageExtensions, macros) and what only a transform enables
  (``Fn::Length``, ``Fn::ToJsonString``, ``Fn::FindInMap`` with a default), and dynamic
  references (``{{resolve:...}}``) are refused with a message: the emulated CloudFormation
  does not run them, and passing them through would rehearse something AWS would not see.

Anything it does not know is an error, never a silent pass-through.

Why not moto's CloudFormation parser or cloud-radar: moto's creates resources by calling
its models directly (no request checked against the API models, unsupported types skipped,
the blue/green properties dropped: reference/moto-5.2.5-findings.md); cloud-radar renders a
template in one pass, where the emulated CloudFormation evaluates each resource when its
dependencies exist, and fetches region data from the network.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bluegreen.errors import RehearsalError

# --------------------------------------------------------------------------- loading


def load(text: str, filename: str) -> dict[str, Any]:
    """The template as plain data (long-form intrinsics), checked as CloudFormation
    parses it: cfn-lint's decoder, no Transform, no dynamic reference."""
    from cfnlint.decode import decode_str

    decoded, problems = decode_str(text)
    if problems or decoded is None:
        details = "; ".join(_problem(p) for p in problems) or "not JSON or YAML"
        raise RehearsalError(f"{filename}: Template format error: {details}")
    data = _plain(decoded)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise RehearsalError(f"{filename}: not a CloudFormation template (no Resources)")
    if "Transform" in data:
        raise RehearsalError(
            f"{filename}: Transform {data['Transform']!r} is not run by the emulated "
            "CloudFormation (macros such as AWS::Serverless and AWS::LanguageExtensions "
            "expand the template on AWS); rehearse the expanded template instead",
        )
    for block in ("Resources", "Outputs"):
        missing = unresolved(data, block)
        if missing:
            raise RehearsalError(
                f"{filename}: Unresolved resource dependencies [{', '.join(missing)}] in the "
                f"{block} block of the template"
            )
    found = _dynamic_reference(data)
    if found:
        raise RehearsalError(
            f"{filename}: the dynamic reference {found!r} is not resolved by the emulated "
            "CloudFormation (it reads SSM or Secrets Manager at deploy time on AWS); "
            "give the value directly, or as a parameter",
        )
    return data


def _problem(match: Any) -> str:
    line = getattr(match, "linenumber", None)
    message = str(getattr(match, "message", match))
    return f"line {line}: {message}" if line else message


def _plain(node: Any) -> Any:
    """cfn-lint's nodes (dict/str/list subclasses with line numbers) as plain values."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (datetime.date, datetime.datetime)):
        # YAML reads 2012-10-17 as a date; CloudFormation keeps it the string it was
        # (policy documents' Version).
        return node.isoformat()
    return node


_DYNAMIC = re.compile(r"\{\{resolve:[^}]*\}\}")


def _dynamic_reference(node: Any) -> str:
    if isinstance(node, str):
        match = _DYNAMIC.search(node)
        return match.group(0) if match else ""
    if isinstance(node, dict):
        for value in node.values():
            found = _dynamic_reference(value)
            if found:
                return found
    if isinstance(node, list):
        for value in node:
            found = _dynamic_reference(value)
            if found:
                return found
    return ""


# --------------------------------------------------------------------------- parameters


class ParameterError(ValueError):
    """A parameter value CloudFormation refuses (a ValidationError on AWS)."""


def held(value: Any) -> str:
    """A scalar as CloudFormation holds a parameter: a string (numbers, booleans too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resolve_parameters(declared: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as a template sees them, checked as CloudFormation checks them
    (User Guide, "Parameters": Type, AllowedValues, AllowedPattern, MinLength, MaxLength,
    MinValue, MaxValue; a ConstraintDescription replaces the message)."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    resolved: dict[str, Any] = {}
    missing = []
    for name, spec in declared.items():
        if given.get(name) is not None:
            raw: Any = given[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            missing.append(name)
            continue
        kind = str(spec.get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        if is_list:
            items = raw if isinstance(raw, list) else str(raw).split(",")
            value: Any = [held(item).strip() for item in items]
        else:
            value = held(raw)
        for item in value if is_list else [value]:
            problem = _parameter_problem(item, spec, number=kind in ("Number", "List<Number>"))
            if problem:
                why = spec.get("ConstraintDescription")
                raise ParameterError(f"Parameter '{name}' {problem}" + (f": {why}" if why else ""))
        resolved[name] = value
    if missing:
        raise ParameterError(f"Parameters: [{', '.join(missing)}] must have values")
    return resolved


def _parameter_problem(value: str, spec: Mapping[str, Any], number: bool) -> str:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [held(v) for v in allowed]:
        return "must be one of AllowedValues"
    if number:
        try:
            amount = float(value)
        except ValueError:
            return "must be a number"
        if "MinValue" in spec and amount < float(spec["MinValue"]):
            return f"must be a number not less than {held(spec['MinValue'])}"
        if "MaxValue" in spec and amount > float(spec["MaxValue"]):
            return f"must be a number not greater than {held(spec['MaxValue'])}"
        return ""
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), value):
        return f"failed to satisfy constraint: Parameter must match pattern {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"must contain at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"must contain at most {spec['MaxLength']} characters"
    return ""


# --------------------------------------------------------------------------- evaluation


class _NoValue:
    """AWS::NoValue: removes the property (or list item) it stands in."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class Scope:
    """What names resolve to while evaluating one stack's template."""

    filename: str
    pseudo: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: Mapping[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    azs: list[str] = field(default_factory=list)
    where: str = ""
    #: the template's Conditions section, evaluated on first use (in any order)
    condition_defs: Mapping[str, Any] = field(default_factory=dict)
    _evaluating: list[str] = field(default_factory=list)

    def fail(self, message: str) -> RehearsalError:
        at = f" ({self.where})" if self.where else ""
        return RehearsalError(f"{self.filename}{at}: {message}")

    def evaluate_conditions(self) -> dict[str, bool]:
        """Every condition of the template, each evaluated once."""
        for name in self.condition_defs:
            condition(name, self)
        return self.conditions


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def evaluate(node: Any, scope: Scope) -> Any:
    """Evaluate every intrinsic function in ``node``; NoValue items are dropped."""
    if isinstance(node, list):
        items = [evaluate(item, scope) for item in node]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return _function(key, arg, scope)
    out = {}
    for key, value in node.items():
        result = evaluate(value, scope)
        if result is not NO_VALUE:
            out[key] = result
    return out


def _function(key: str, arg: Any, scope: Scope) -> Any:
    if key == "Ref":
        return ref(arg, scope)
    if key == "Condition":
        return condition(arg, scope)
    name = key[4:]
    handler = _FUNCTIONS.get(name)
    if handler is None and name in _NEEDS_TRANSFORM:
        raise scope.fail(
            f"{key} needs the AWS::LanguageExtensions transform, which the emulated "
            "CloudFormation does not run (nor does CloudFormation without it)"
        )
    if handler is None:
        raise scope.fail(f"{key} is not supported by the rehearsal's template evaluator")
    return handler(arg, scope)


def ref(name: str, scope: Scope) -> Any:
    if name in scope.pseudo:
        return scope.pseudo[name]
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in scope.refs:
        return scope.refs[name]
    raise scope.fail(f"Ref {name!r}: no such resource, parameter or pseudo parameter")


def get_att(resource: str, attribute: str, scope: Scope) -> Any:
    attrs = scope.attrs.get(resource)
    if attrs is None:
        raise scope.fail(f"Fn::GetAtt {resource}.{attribute}: no such resource")
    if attribute not in attrs:
        known = ", ".join(sorted(attrs)) or "none"
        raise scope.fail(
            f"Fn::GetAtt {resource}.{attribute}: the rehearsal does not know this attribute "
            f"(it knows: {known})"
        )
    return attrs[attribute]


def condition(name: str, scope: Scope) -> bool:
    """A condition's value; conditions may name each other in any order, not in a cycle
    (User Guide, "Conditions syntax": a condition can reference another condition)."""
    if name in scope.conditions:
        return scope.conditions[name]
    if name not in scope.condition_defs:
        raise scope.fail(f"condition {name!r} is not defined")
    if name in scope._evaluating:
        cycle = " -> ".join([*scope._evaluating[scope._evaluating.index(name) :], name])
        raise scope.fail(f"Circular dependency between conditions: {cycle}")
    scope._evaluating.append(name)
    where, scope.where = scope.where, f"condition {name}"
    try:
        value = _truth(evaluate(scope.condition_defs[name], scope), scope)
    finally:
        scope.where = where
        scope._evaluating.pop()
    scope.conditions[name] = value
    return value


def _get_att(arg: Any, scope: Scope) -> Any:
    resource, attribute = evaluate(arg, scope)
    return get_att(str(resource), str(attribute), scope)


def _sub(arg: Any, scope: Scope) -> str:
    if isinstance(arg, list):
        text, variables = arg[0], evaluate(arg[1], scope)
    else:
        text, variables = arg, {}
    if not isinstance(text, str):
        raise scope.fail("Fn::Sub needs a string")

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        if inner in variables:
            return _text(variables[inner], scope)
        if "." in inner and inner not in scope.pseudo:
            resource, attribute = inner.split(".", 1)
            return _text(get_att(resource, attribute, scope), scope)
        return _text(ref(inner, scope), scope)

    return _SUB_VAR.sub(replace, text)


def _text(value: Any, scope: Scope) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise scope.fail(f"a {type(value).__name__} value cannot be substituted into a string")


def _pair(name: str, arg: Any, scope: Scope) -> tuple[Any, Any]:
    if not isinstance(arg, list) or len(arg) != 2:
        raise scope.fail(f"Fn::{name} needs a list of two items, got {arg!r}")
    return arg[0], arg[1]


def _list(name: str, value: Any, scope: Scope) -> list[Any]:
    if not isinstance(value, list):
        raise scope.fail(f"Fn::{name} needs a list of values, got {value!r}")
    return value


def _join(arg: Any, scope: Scope) -> str:
    delimiter, values = _pair("Join", arg, scope)
    if not isinstance(delimiter, str):
        raise scope.fail(f"Fn::Join's delimiter must be a string, got {delimiter!r}")
    items = _list("Join", evaluate(values, scope), scope)
    return delimiter.join(_text(value, scope) for value in items)


def _select(arg: Any, scope: Scope) -> Any:
    index, values = _pair("Select", arg, scope)
    raw = evaluate(index, scope)
    try:
        position = int(str(raw))
    except ValueError:
        raise scope.fail(f"Fn::Select's index must be an integer, got {raw!r}") from None
    items = _list("Select", evaluate(values, scope), scope)
    if not 0 <= position < len(items):
        raise scope.fail(f"Fn::Select index {position} out of range (list of {len(items)})")
    return items[position]


def _cidr(arg: Any, scope: Scope) -> list[str]:
    """Fn::Cidr [ipBlock, count, cidrBits]: the first ``count`` subnets whose host part has
    ``cidrBits`` bits (User Guide, "Fn::Cidr")."""
    import ipaddress

    if not isinstance(arg, list) or len(arg) != 3:
        raise scope.fail(f"Fn::Cidr needs [ipBlock, count, cidrBits], got {arg!r}")
    block, count, bits = (evaluate(item, scope) for item in arg)
    try:
        network = ipaddress.ip_network(str(block))
        wanted, host_bits = int(str(count)), int(str(bits))
        prefix = network.max_prefixlen - host_bits
        if not network.prefixlen <= prefix <= network.max_prefixlen or not 1 <= wanted <= 256:
            raise ValueError
        subnets = []
        for subnet in network.subnets(new_prefix=prefix):
            subnets.append(str(subnet))
            if len(subnets) == wanted:
                break
    except ValueError:
        raise scope.fail(f"Fn::Cidr [{block}, {count}, {bits}] is not a valid split") from None
    if len(subnets) < wanted:
        raise scope.fail(f"Fn::Cidr: {block} holds only {len(subnets)} subnets of /{prefix}")
    return subnets


def _split(arg: Any, scope: Scope) -> list[str]:
    delimiter, text = arg[0], evaluate(arg[1], scope)
    return str(text).split(str(delimiter))


def _get_azs(arg: Any, scope: Scope) -> list[str]:
    region = evaluate(arg, scope) or scope.pseudo["AWS::Region"]
    if region != scope.pseudo["AWS::Region"]:
        raise scope.fail(f"Fn::GetAZs for another region ({region}) is not supported")
    return list(scope.azs)


def _import_value(arg: Any, scope: Scope) -> Any:
    name = evaluate(arg, scope)
    if name not in scope.exports:
        raise scope.fail(
            f"Fn::ImportValue {name!r}: no earlier stack exports it "
            f"(exports so far: {', '.join(sorted(scope.exports)) or 'none'})"
        )
    return scope.exports[name]


def _if(arg: Any, scope: Scope) -> Any:
    name, when_true, when_false = arg
    return evaluate(when_true if condition(name, scope) else when_false, scope)


def _equals(arg: Any, scope: Scope) -> bool:
    """Compares values as CloudFormation holds them: a parameter of Type Number is the
    string "3", so ``!Equals [!Ref Count, 3]`` is true when Count is 3."""
    left, right = (evaluate(item, scope) for item in _pair("Equals", arg, scope))
    return bool(_held(left) == _held(right))


def _held(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_held(item) for item in value]
    return value


def _not(arg: Any, scope: Scope) -> bool:
    return not _truth(evaluate(arg, scope)[0], scope)


def _and(arg: Any, scope: Scope) -> bool:
    return all(_truth(value, scope) for value in evaluate(arg, scope))


def _or(arg: Any, scope: Scope) -> bool:
    return any(_truth(value, scope) for value in evaluate(arg, scope))


def _truth(value: Any, scope: Scope) -> bool:
    if not isinstance(value, bool):
        raise scope.fail(f"a condition evaluated to {value!r}, not true or false")
    return value


def _find_in_map(arg: Any, scope: Scope) -> Any:
    if isinstance(arg, list) and len(arg) == 4:
        raise scope.fail(
            "Fn::FindInMap with a default value needs the AWS::LanguageExtensions "
            "transform, which the emulated CloudFormation does not run"
        )
    if not isinstance(arg, list) or len(arg) != 3:
        raise scope.fail(f"Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey], got {arg!r}")
    name, top, second = (_text(evaluate(item, scope), scope) for item in arg)
    try:
        return scope.mappings[name][top][second]
    except (KeyError, TypeError):
        raise scope.fail(f"Fn::FindInMap [{name}, {top}, {second}]: no such entry") from None


def _base64(arg: Any, scope: Scope) -> str:
    import base64

    return base64.b64encode(_text(evaluate(arg, scope), scope).encode()).decode()


_FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "GetAtt": _get_att,
    "Sub": _sub,
    "Join": _join,
    "Select": _select,
    "Split": _split,
    "GetAZs": _get_azs,
    "ImportValue": _import_value,
    "If": _if,
    "Equals": _equals,
    "Not": _not,
    "And": _and,
    "Or": _or,
    "FindInMap": _find_in_map,
    "Base64": _base64,
    "Cidr": _cidr,
}

#: functions CloudFormation only knows under the AWS::LanguageExtensions transform
#: (User Guide, "AWS::LanguageExtensions transform")
_NEEDS_TRANSFORM = ("Length", "ToJsonString", "ForEach")


# --------------------------------------------------------------------------- dependencies


def references(node: Any, pseudo: Mapping[str, Any]) -> set[str]:
    """Logical ids ``node`` refers to (Ref, Fn::GetAtt, Fn::Sub variables)."""
    found: set[str] = set()

    def walk(item: Any, local: frozenset[str] = frozenset()) -> None:
        if isinstance(item, list):
            for sub in item:
                walk(sub, local)
        elif isinstance(item, dict):
            if len(item) == 1:
                ((key, arg),) = item.items()
                if key == "Ref" and isinstance(arg, str):
                    if arg not in pseudo and not arg.startswith("AWS::"):
                        found.add(arg)
                    return
                if key == "Fn::GetAtt":
                    target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
                    if isinstance(target, str):
                        found.add(target)
                    walk(arg[1:] if isinstance(arg, list) else [], local)
                    return
                if key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) else arg
                    names = set(arg[1]) if isinstance(arg, list) and len(arg) > 1 else set()
                    if isinstance(arg, list) and len(arg) > 1:
                        walk(arg[1], local)
                    for match in _SUB_VAR.finditer(str(text)):
                        inner = match.group(1)
                        if inner.startswith("!") or inner in names or inner.startswith("AWS::"):
                            continue
                        found.add(inner.split(".")[0])
                    return
            for value in item.values():
                walk(value, local)

    walk(node)
    return found


def unresolved(template: Mapping[str, Any], block: str) -> list[str]:
    """Names that ``block`` refers to (Ref, Fn::GetAtt, Fn::Sub, DependsOn) and that are
    neither a resource nor a parameter: CloudFormation refuses such a template before it
    creates anything ("Template format error: Unresolved resource dependencies [...] in the
    Resources block of the template", a ValidationError of CreateStack/CreateChangeSet)."""
    resources = template.get("Resources") or {}
    known = set(resources) | set(template.get("Parameters") or {})
    found: set[str] = set()
    for body in (template.get(block) or {}).values():
        if not isinstance(body, dict):
            continue
        found |= references({k: v for k, v in body.items() if k != "DependsOn"}, {})
        if block == "Resources":
            depends_on = body.get("DependsOn", [])
            found |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
    return sorted(found - known)


def order(resources: Mapping[str, Mapping[str, Any]], filename: str) -> list[str]:
    """Logical ids in dependency order (template order among independent ones)."""
    pseudo: dict[str, Any] = {}
    position = {name: index for index, name in enumerate(resources)}
    needs: dict[str, set[str]] = {}
    for name, body in resources.items():
        deps = references(body.get("Properties", {}), pseudo)
        depends_on = body.get("DependsOn", [])
        deps |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        unknown = deps - set(resources)
        # Refs to parameters are not resources; anything else unknown fails in evaluate().
        needs[name] = deps - unknown
        if name in deps:
            raise RehearsalError(f"{filename}: {name} refers to itself")
    done: list[str] = []
    ready = sorted((n for n, d in needs.items() if not d), key=position.__getitem__)
    remaining = {n: set(d) for n, d in needs.items() if d}
    while ready:
        current = ready.pop(0)
        done.append(current)
        freed = []
        for name, deps in remaining.items():
            deps.discard(current)
            if not deps:
                freed.append(name)
        for name in freed:
            del remaining[name]
        ready = sorted([*ready, *freed], key=position.__getitem__)
    if remaining:
        cycle = ", ".join(sorted(remaining))
        raise RehearsalError(f"{filename}: circular dependency among {cycle}")
    return done
