"""The ``aws`` of a build: the AWS CLI v2's command line, played against the emulated AWS.

``aws [options] <service> <operation> [--param value ...]`` is read the way the AWS CLI
reads it, from botocore's API model of the service: the operation is the kebab-case of
an operation name (``describe-images`` is DescribeImages), each input member is an option
(``--repository-name``; booleans as ``--flag``/``--no-flag``), and values are given as the
CLI takes them ("Specifying parameter values for the AWS CLI", AWS CLI user guide):
scalars as one word, lists of scalars as several words, structures, maps and lists of
structures as JSON or in shorthand syntax (``--image-ids imageTag=abc``), any value from
a file with ``file://`` (text) or ``fileb://`` (bytes), blobs base64-encoded
(``cli_binary_format`` base64, the v2 default). Paginated operations are read to the
end unless ``--no-paginate``. ``--query`` is JMESPath; ``--output`` json (the default),
text, or ``AWS_DEFAULT_OUTPUT``.

The call is made in process as the build project's service role
(``emulator.client(service, principal=<role>, internal=True)``), so the role's policies
decide it as they would on AWS. Answers and failures are the CLI's: JSON with 4-space
indents and ISO 8601 timestamps; a service error is ``An error occurred (<Code>) when
calling the <Operation> operation: <Message>`` on standard error with exit status 254,
a command line the CLI would not accept exits 252, anything else 255 (AWS CLI user
guide, "Command line return codes").

Commands of the CLI that are not API operations: ``ecr get-login-password`` (the
password of GetAuthorizationToken's token), ``sts get-caller-identity`` (answered from the
build's role: GetCallerIdentity needs no permission, STS API reference), ``s3 cp`` of one
file, ``configure get region``. Anything else the emulated CLI does not support (waiters,
``--output table``/``yaml``, other ``s3`` commands, other regions, ``--endpoint-url``,
profiles) fails with exit status 252 or 255 and says so.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import posixpath
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError, UnknownServiceError

from bluegreen.emulator import internal
from bluegreen.emulator.standins import docker as docker_standin
from bluegreen.emulator.standins.server import Request, Response

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

VERSION = "aws-cli/2.17.0 Python/3.11 Linux/emulated exe/x86_64 (emulated by bluegreen)"
USAGE = 252  # "Command syntax was invalid, an unknown parameter was provided ..."
SERVICE_ERROR = 254  # "The command successfully parsed and a request was made ... error"
OTHER = 255  # "General catch-all error"

# Global options (AWS CLI v2, "Command line options"): those taking a value.
_GLOBAL_VALUES = {
    "--region",
    "--output",
    "--query",
    "--profile",
    "--endpoint-url",
    "--cli-binary-format",
    "--color",
    "--ca-bundle",
    "--cli-read-timeout",
    "--cli-connect-timeout",
}
_GLOBAL_FLAGS = {
    "--debug",
    "--no-paginate",
    "--no-cli-pager",
    "--no-verify-ssl",
    "--no-sign-request",
    "--cli-auto-prompt",
    "--no-cli-auto-prompt",
}
# CLI command names that are not the botocore service's name.
_SERVICES = {"s3api": "s3", "configservice": "config"}
_PAGING = {"--max-items", "--starting-token", "--page-size"}


class _Usage(Exception):
    """The command line is not one the CLI accepts (exit 252)."""


@dataclass
class _Options:
    region: str
    output: str
    query: str | None
    paginate: bool
    binary_raw: bool


class AwsCli:
    """The AWS CLI of one build, acting as the build's service role."""

    def __init__(self, emulator: Emulator, role: str, session_name: str) -> None:
        self.emulator = emulator
        self.role = role
        self.session_name = session_name

    def __call__(self, request: Request) -> Response:
        response = Response()
        try:
            return self._run(request, response)
        except _Usage as exc:
            return response.fail(
                "\nusage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\n"
                "To see help text, you can run:\n\n  aws help\n  aws <command> help\n"
                f"  aws <command> <subcommand> help\n\naws: error: {exc}\n",
                USAGE,
            )

    def _run(self, request: Request, response: Response) -> Response:
        words, options, unsupported = self._globals(request)
        if "--version" in words:
            response.out(VERSION + "\n")
            return response
        if unsupported:
            return response.fail(unsupported, OTHER)
        if len(words) < 2 or words[0].startswith("-") or words[1].startswith("-"):
            if words and words[0] in ("help",) or (len(words) > 1 and words[1] == "help"):
                return response.fail("the emulated AWS CLI has no help pages", USAGE)
            raise _Usage("the following arguments are required: command, operation")
        command, operation, rest = words[0], words[1], words[2:]
        if options.region != self.emulator.region:
            return response.fail(
                f"the emulated AWS serves {self.emulator.region} only, not {options.region!r}",
                OTHER,
            )
        if command == "configure":
            return self._configure(operation, rest, options, response)
        if command == "s3" and operation != "help":
            return self._s3(request, operation, rest, options, response)
        if operation == "wait":
            return response.fail(
                f"aws {command} wait is not supported by the emulated AWS CLI", USAGE
            )
        if command == "ecr" and operation == "get-login-password":
            return self._login_password(rest, response)
        service = _SERVICES.get(command, command)
        try:
            client = internal.client(self.emulator, service, self.role)
        except UnknownServiceError:
            raise _Usage(f"argument command: Invalid choice: '{command}'") from None
        model = client.meta.service_model
        names = {xform_name(name, "-"): name for name in model.operation_names}
        if operation not in names:
            raise _Usage(f"argument operation: Invalid choice: '{operation}'")
        name = names[operation]
        op_model = model.operation_model(name)
        params, paging = _parameters(op_model, rest, request, options)
        if service == "sts" and name == "GetCallerIdentity":
            return self._format(self._caller_identity(), options, response)
        try:
            result = self._call(client, name, op_model, params, paging, options)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return response.fail(
                f"\nAn error occurred ({error.get('Code')}) when calling the {name} operation: "
                f"{error.get('Message')}\n",
                SERVICE_ERROR,
            )
        except ParamValidationError as exc:
            return response.fail(f"\n{exc}\n", USAGE)
        if service == "ecr" and name == "GetAuthorizationToken":
            self._note_tokens(result)
        return self._format(result, options, response)

    # -- the command line --------------------------------------------------------------------
    def _globals(self, request: Request) -> tuple[list[str], _Options, str]:
        env = request.env
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
        output = env.get("AWS_DEFAULT_OUTPUT") or "json"
        query: str | None = None
        paginate = True
        binary_raw = False
        unsupported = ""
        words: list[str] = []
        argv = list(request.argv)
        i = 0
        while i < len(argv):
            word = argv[i]
            name, eq, value = word.partition("=")
            if name in _GLOBAL_VALUES:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise _Usage(f"argument {name}: expected one argument")
                    value = argv[i]
                if name == "--region":
                    region = value
                elif name == "--output":
                    output = value
                elif name == "--query":
                    query = value
                elif name == "--profile":
                    unsupported = f"The config profile ({value}) could not be found"
                elif name == "--endpoint-url":
                    unsupported = (
                        "the emulated AWS CLI calls the emulated AWS only (--endpoint-url "
                        f"{value} is not reachable from the build)"
                    )
                elif name == "--cli-binary-format":
                    binary_raw = value == "raw-in-base64-out"
            elif word in _GLOBAL_FLAGS:
                paginate = paginate and word != "--no-paginate"
            else:
                words.append(word)
            i += 1
        if output not in ("json", "text"):
            unsupported = unsupported or (
                f"--output {output} is not supported by the emulated AWS CLI (json and text are)"
            )
        if not region:
            unsupported = unsupported or (
                "You must specify a region. You can also configure your region by running "
                '"aws configure".'
            )
        return words, _Options(region, output, query, paginate, binary_raw), unsupported

    # -- calls -------------------------------------------------------------------------------
    def _call(
        self,
        client: Any,
        name: str,
        op_model: Any,
        params: dict[str, Any],
        paging: dict[str, Any],
        options: _Options,
    ) -> Any:
        method = xform_name(name)
        input_tokens = _input_tokens(client, method)
        if options.paginate and client.can_paginate(method) and not (input_tokens & set(params)):
            paginator = client.get_paginator(method)
            result = paginator.paginate(**params, PaginationConfig=paging).build_full_result()
        else:
            result = getattr(client, method)(**params)
        result = dict(result)
        result.pop("ResponseMetadata", None)
        return result

    def _caller_identity(self) -> dict[str, Any]:
        account = self.emulator.account_id
        role_name = self.role.rsplit("/", 1)[-1]
        try:
            role_id = str(self.emulator.backend("iam").get_role_by_arn(self.role).id)
        except Exception:  # noqa: BLE001 - moto's IAMNotFoundException: the role is gone
            role_id = "AROA" + "0" * 17
        return {
            "UserId": f"{role_id}:{self.session_name}",
            "Account": account,
            # An assumed role's ARN (IAM user guide, "IAM identifiers": arn:aws:sts::
            # <account>:assumed-role/<role name>/<session name>); CodeBuild's session is
            # AWSCodeBuild-<build uuid> (the AccessDenied texts in aws/aws-cdk#9980).
            "Arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{self.session_name}",
        }

    def _login_password(self, rest: list[str], response: Response) -> Response:
        if rest:
            raise _Usage(f"Unknown options: {', '.join(rest)}")
        ecr = internal.client(self.emulator, "ecr", self.role)
        try:
            result = ecr.get_authorization_token()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return response.fail(
                f"\nAn error occurred ({error.get('Code')}) when calling the "
                f"GetAuthorizationToken operation: {error.get('Message')}\n",
                SERVICE_ERROR,
            )
        passwords = self._note_tokens(result)
        response.out(passwords[0] + "\n")
        return response

    def _note_tokens(self, result: dict[str, Any]) -> list[str]:
        passwords = []
        for data in result.get("authorizationData", []):
            decoded = base64.b64decode(str(data["authorizationToken"])).decode()
            password = decoded.partition(":")[2]
            docker_standin.note_token(self.emulator, str(data.get("proxyEndpoint", "")), password)
            passwords.append(password)
        return passwords

    def _configure(
        self, operation: str, rest: list[str], options: _Options, response: Response
    ) -> Response:
        if operation == "get" and rest in (["region"], ["default.region"]):
            response.out(options.region + "\n")
            return response
        return response.fail(
            f"aws configure {operation} is not supported by the emulated AWS CLI (the build "
            "has its service role's credentials and region already)",
            USAGE,
        )

    def _s3(
        self,
        request: Request,
        operation: str,
        rest: list[str],
        options: _Options,
        response: Response,
    ) -> Response:
        paths = [w for w in rest if not w.startswith("--")]
        flags = [w for w in rest if w.startswith("--")]
        if operation != "cp" or len(paths) != 2 or flags:
            return response.fail(
                f"aws s3 {operation} {' '.join(rest)}: the emulated AWS CLI supports `aws s3 cp "
                "<file> s3://<bucket>/<key>` and `aws s3 cp s3://<bucket>/<key> <file>` only",
                USAGE,
            )
        source, dest = paths
        s3 = internal.client(self.emulator, "s3", self.role)
        cwd = Path(request.cwd)
        if dest.startswith("s3://") and not source.startswith("s3://"):
            bucket, _, key = dest[5:].partition("/")
            if not key or key.endswith("/"):
                key += posixpath.basename(source)
            local = cwd / source
            if not local.is_file():
                return response.fail(f"\nThe user-provided path {source} does not exist.\n", USAGE)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=local.read_bytes())
            except ClientError as exc:
                failed = _error_text(exc, "PutObject")
                return response.fail(f"upload failed: {source} to s3://{bucket}/{key} {failed}", 1)
            response.out(f"upload: {source} to s3://{bucket}/{key}\n")
            return response
        if source.startswith("s3://") and not dest.startswith("s3://"):
            bucket, _, key = source[5:].partition("/")
            local = cwd / dest
            if dest.endswith("/") or local.is_dir():
                local = local / posixpath.basename(key)
            try:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as exc:
                return response.fail(
                    f"download failed: s3://{bucket}/{key} to {dest} "
                    f"{_error_text(exc, 'GetObject')}",
                    1,
                )
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(body)
            response.out(f"download: s3://{bucket}/{key} to {dest}\n")
            return response
        return response.fail("aws s3 cp: one of the paths must be s3://<bucket>/<key>", USAGE)

    # -- output ------------------------------------------------------------------------------
    def _format(self, result: Any, options: _Options, response: Response) -> Response:
        data = _plain(result)
        if options.query is not None:
            # jmespath comes with botocore (its dependency), without type stubs.
            jmespath: Any = importlib.import_module("jmespath")
            try:
                data = jmespath.search(options.query, data)
            except jmespath.exceptions.JMESPathError as exc:
                return response.fail(f"\nBad value for --query {options.query}: {exc}\n", USAGE)
        elif data == {}:
            return response
        if options.output == "text":
            lines: list[str] = []
            _text(data, lines)
            response.out("".join(lines))
        else:
            response.out(json.dumps(data, indent=4, ensure_ascii=False) + "\n")
        return response


# ------------------------------------------------------------------------------ parameters


def _parameters(
    op_model: Any, words: list[str], request: Request, options: _Options
) -> tuple[dict[str, Any], dict[str, Any]]:
    shape = op_model.input_shape
    members = dict(shape.members) if shape is not None else {}
    by_option = {"--" + xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    paging: dict[str, Any] = {}
    unknown: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        option, eq, inline = word.partition("=")
        if not option.startswith("--"):
            unknown.append(word)
            i += 1
            continue
        values: list[str] = [inline] if eq else []
        j = i + 1
        while not eq and j < len(words) and not words[j].startswith("--"):
            values.append(words[j])
            j += 1
        i = j if not eq else i + 1
        if option == "--cli-input-json":
            document = json.loads(_file_value(_one(option, values), request, binary=False))
            params.update(document)
            continue
        if option in _PAGING:
            key = {"--max-items": "MaxItems", "--starting-token": "StartingToken"}.get(option)
            if key:
                paging[key] = (
                    int(_one(option, values)) if key == "MaxItems" else _one(option, values)
                )
            else:
                paging["PageSize"] = int(_one(option, values))
            continue
        name = by_option.get(option)
        negated = None
        if name is None and option.startswith("--no-"):
            negated = by_option.get("--" + option[5:])
        if negated is not None and members[negated].type_name == "boolean":
            params[negated] = False
            continue
        if name is None:
            unknown.append(option)
            unknown.extend(values)
            continue
        member = members[name]
        if member.type_name == "boolean" and not values:
            params[name] = True
            continue
        params[name] = _value(member, values, option, request, options)
    if unknown:
        raise _Usage(f"Unknown options: {', '.join(unknown)}")
    missing = [
        "--" + xform_name(name, "-")
        for name in (shape.required_members if shape is not None else [])
        if name not in params
    ]
    if missing:
        raise _Usage(f"the following arguments are required: {', '.join(missing)}")
    return params, paging


def _one(option: str, values: list[str]) -> str:
    if len(values) != 1:
        raise _Usage(f"argument {option}: expected one argument")
    return values[0]


def _value(shape: Any, values: list[str], option: str, request: Request, options: _Options) -> Any:
    kind = shape.type_name
    if kind == "list":
        if len(values) == 1 and values[0].lstrip().startswith("["):
            return _coerce(
                shape, json.loads(_file_value(values[0], request, binary=False)), options
            )
        if not values:
            raise _Usage(f"argument {option}: expected at least one argument")
        member = shape.member
        if member.type_name in ("structure", "map"):
            return [_value(member, [v], option, request, options) for v in values]
        return [_coerce(member, _file_value(v, request, binary=False), options) for v in values]
    text_or_bytes = _file_value(_one(option, values), request, binary=kind == "blob")
    if kind == "blob":
        if isinstance(text_or_bytes, bytes):
            return text_or_bytes
        if options.binary_raw:
            return text_or_bytes.encode()
        try:
            return base64.b64decode(text_or_bytes, validate=True)
        except binascii.Error:
            raise _Usage(
                f"argument {option}: Invalid base64: {text_or_bytes!r} (blobs are base64 with "
                "cli_binary_format base64, the v2 default; use fileb:// for a file)"
            ) from None
    text = str(text_or_bytes)
    if kind in ("structure", "map"):
        if text.lstrip().startswith("{"):
            return _coerce(shape, json.loads(text), options)
        return _coerce(shape, _shorthand(text, option), options)
    return _coerce(shape, text, options)


def _file_value(value: str, request: Request, binary: bool) -> str | bytes:
    """``file://path`` (text) and ``fileb://path`` (bytes), relative to the command's
    directory; any other value as is."""
    for prefix, as_bytes in (("fileb://", True), ("file://", False)):
        if value.startswith(prefix):
            path = Path(request.cwd) / value[len(prefix) :]
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise _Usage(
                    f"Error parsing parameter: Unable to load paramfile {value}: {exc}"
                ) from None
            return data if as_bytes and binary else data.decode("utf-8")
    return value


def _coerce(shape: Any, value: Any, options: _Options) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        return {
            k: _coerce(shape.members[k], v, options) if k in shape.members else v
            for k, v in value.items()
        }
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [_coerce(shape.member, v, options) for v in items]
    if kind == "map":
        if not isinstance(value, dict):
            return value
        return {str(k): _coerce(shape.value, v, options) for k, v in value.items()}
    if isinstance(value, str):
        if kind in ("integer", "long"):
            try:
                return int(value)
            except ValueError:
                raise _Usage(f"invalid literal for int() with base 10: {value!r}") from None
        if kind in ("float", "double"):
            return float(value)
        if kind == "boolean":
            return value.lower() == "true"
        if kind == "blob" and not options.binary_raw:
            return base64.b64decode(value)
    return value


def _shorthand(text: str, option: str) -> dict[str, Any]:
    """The CLI's shorthand syntax: ``k=v,k2=[a,b],k3={x=y}``; a bare word after a comma
    continues the previous key's value as a list (``Key=k,Values=a,b``)."""
    position = 0

    def value() -> Any:
        nonlocal position
        if position < len(text) and text[position] == "[":
            position += 1
            items: list[Any] = []
            while position < len(text) and text[position] != "]":
                items.append(value())
                if position < len(text) and text[position] == ",":
                    position += 1
            position += 1
            return items
        if position < len(text) and text[position] == "{":
            position += 1
            found = pairs("}")
            position += 1
            return found
        if position < len(text) and text[position] in "\"'":
            quote = text[position]
            end = text.index(quote, position + 1)
            word = text[position + 1 : end]
            position = end + 1
            return word
        start = position
        while position < len(text) and text[position] not in ",]}":
            position += 1
        return text[start:position].strip()

    def pairs(closing: str) -> dict[str, Any]:
        nonlocal position
        found: dict[str, Any] = {}
        last: str | None = None
        while position < len(text) and text[position] != closing:
            equals = text.find("=", position)
            comma = text.find(",", position)
            if last is not None and (equals == -1 or (comma != -1 and comma < equals)):
                more = value()
                current = found[last]
                found[last] = (current if isinstance(current, list) else [current]) + [more]
            else:
                if equals == -1:
                    raise _Usage(
                        f"Error parsing parameter '{option}': Expected: '=', received: "
                        f"'{text[position:]}' for input: {text}"
                    )
                key = text[position:equals].strip()
                position = equals + 1
                found[key] = value()
                last = key
            if position < len(text) and text[position] == ",":
                position += 1
        return found

    return pairs("\0")


def _input_tokens(client: Any, method: str) -> set[str]:
    """The parameters a paginated operation's caller sets to page by hand (its input
    token and limit key): given one, the CLI makes the one call asked for."""
    if not client.can_paginate(method):
        return set()
    config = client.get_paginator(method)._pagination_cfg  # noqa: SLF001 - botocore's model
    tokens = config.get("input_token", [])
    tokens = [tokens] if isinstance(tokens, str) else list(tokens)
    limit = config.get("limit_key")
    return set(tokens) | ({limit} if limit else set())


# ------------------------------------------------------------------------------ output


def _plain(value: Any) -> Any:
    """The answer as JSON values: timestamps in ISO 8601 (the v2 default,
    ``cli_timestamp_format`` iso8601), blobs base64."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "read"):
        return base64.b64encode(value.read()).decode()
    return value


def _text(
    value: Any, lines: list[str], identifier: str | None = None, keys: list[str] | None = None
) -> None:
    """The CLI's ``--output text``: a dict's scalars on one tab-separated line (sorted by
    key, prefixed by its key in upper case when nested), its lists and dicts after it; a
    list of dicts as one line each with the keys all of them have; a list of scalars on
    one line (or one line each, prefixed, when nested)."""
    if isinstance(value, dict):
        scalars: list[str] = []
        nested: list[tuple[str, Any]] = []
        if keys is None:
            for key, item in sorted(value.items()):
                if isinstance(item, dict | list):
                    nested.append((key, item))
                else:
                    scalars.append(_scalar(item))
        else:
            scalars = [_scalar(value.get(key, "")) for key in keys]
            nested = [(k, value[k]) for k in sorted(set(value) - set(keys))]
        if scalars:
            if identifier is not None:
                scalars.insert(0, identifier.upper())
            lines.append("\t".join(scalars) + "\n")
        for key, item in nested:
            _text(item, lines, key)
    elif isinstance(value, list):
        if not value:
            return
        if any(isinstance(item, dict) for item in value):
            common = sorted(
                {
                    key
                    for item in value
                    if isinstance(item, dict)
                    for key, v in item.items()
                    if not isinstance(v, dict | list)
                }
            )
            for item in value:
                _text(item, lines, identifier, common if isinstance(item, dict) else None)
        elif any(isinstance(item, list) for item in value):
            scalars_only = [item for item in value if not isinstance(item, list | dict)]
            if scalars_only:
                _scalar_list(scalars_only, lines, identifier)
            for item in value:
                if isinstance(item, list | dict):
                    _text(item, lines, identifier)
        else:
            _scalar_list(value, lines, identifier)
    else:
        lines.append(_scalar(value) + "\n")


def _scalar_list(values: list[Any], lines: list[str], identifier: str | None) -> None:
    if identifier is not None:
        lines.extend(f"{identifier.upper()}\t{_scalar(v)}\n" for v in values)
    else:
        lines.append("\t".join(_scalar(v) for v in values) + "\n")


def _scalar(value: Any) -> str:
    return str(value)


def _error_text(exc: ClientError, operation: str) -> str:
    error = exc.response.get("Error", {})
    return (
        f"An error occurred ({error.get('Code')}) when calling the {operation} operation: "
        f"{error.get('Message')}"
    )
