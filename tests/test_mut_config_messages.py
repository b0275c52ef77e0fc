"""What a user reads when bluegreen.toml is wrong: the exact first line, every problem's
line, the hint, and where the file was looked for. Messages are pinned whole, so a
changed word, a lost hint or a wrong plural is a failing test, not a silent drift."""

from __future__ import annotations

import errno
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from configs import config_error
from pydantic import ValidationError

from bluegreen import config
from bluegreen.errors import ConfigError

# --- the summary line, the problem lines and the hint ------------------------------------

CONFIG_HINT = "fix the keys above; `bluegreen init` writes a commented example of every key"


def test_one_problem_is_one_invalid_setting_with_the_hint() -> None:
    error = config_error({"app": {"port": 0}}, "repo/bluegreen.toml")
    assert error.message == (
        "repo/bluegreen.toml: 1 invalid setting:\n  app.port: 0 must be a TCP port from 1 to 65535"
    )
    assert error.hint == CONFIG_HINT
    assert str(error) == f"{error.message}\n  hint: {CONFIG_HINT}"


def test_two_problems_are_settings_one_line_each_in_the_order_of_the_file() -> None:
    error = config_error({"app": {"port": "80"}, "task": {"desired_count": 0}})
    assert error.message == (
        "bluegreen.toml: 2 invalid settings:\n"
        "  app.port: '80' must be a whole number\n"
        "  task.desired_count: 0 must be at least 1 (a blue/green service needs a running task)"
    )
    assert error.problems == [
        ("app.port", "'80' must be a whole number"),
        (
            "task.desired_count",
            "0 must be at least 1 (a blue/green service needs a running task)",
        ),
    ]


def test_a_check_is_counted_from_one_in_the_text_and_from_zero_in_the_key() -> None:
    error = config_error({"verify": {"checks": [{"path": "/"}, {"status": 600}]}})
    assert error.message == (
        "bluegreen.toml: 1 invalid setting:\n"
        "  verify.checks.1.status (check 2): 600 must be an HTTP status code from 100 to 599"
    )
    assert error.problems == [
        ("verify.checks.1.status", "600 must be an HTTP status code from 100 to 599")
    ]


# --- each kind of pydantic error in words a TOML author knows ---------------------------------


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        # strict models: a quoted number, a float, a 1 for a switch are wrong types
        ({"app": {"port": 80.5}}, "app.port", "80.5 must be a whole number"),
        (
            {"deployment": {"auto_rollback": 1}},
            "deployment.auto_rollback",
            "1 must be true or false",
        ),
        (
            {"deployment": {"reroute": "later"}},
            "deployment.reroute",
            "'later' must be one of 'auto' or 'manual'",
        ),
        ({"project": {"name": 5}}, "project.name", "5 must be a string in quotes"),
        # a section written as a value, and a table (not an inline one) that is not one
        ({"project": "shop"}, "project", "'shop' must be a table ([section])"),
        ({"rehearse": {"hooks": 5}}, "rehearse.hooks", "5 must be a table ([section])"),
        # an item of a list of tables is an inline table
        (
            {"verify": {"checks": ["/health"]}},
            "verify.checks.0",
            "'/health' must be an inline table in braces, such as { path = \"/\" }",
        ),
        (
            {"verify": {"checks": "/health"}},
            "verify.checks",
            "'/health' must be a list in brackets, such as [{ path = \"/\", status = 200 }]",
        ),
        (
            {"builds": {"branches": "feature/*"}},
            "builds.branches",
            "'feature/*' must be a list in brackets, such as [\"feature/*\"]",
        ),
    ],
)
def test_each_error_kind_reads_as_toml(data: dict[str, Any], key: str, message: str) -> None:
    assert config_error(data).problems == [(key, message)]


def test_a_list_item_is_found_by_its_index_even_when_another_item_spells_that_index() -> None:
    # ["1", 2]: the bad item is index 1, and the list also holds the string "1".
    assert config_error({"listeners": {"test_cidrs": ["1", 2]}}).problems == [
        ("listeners.test_cidrs.1", "2 must be a string in quotes")
    ]


def test_a_value_of_80_characters_is_shown_whole_and_a_longer_one_cut_at_60() -> None:
    lowercase = "must be lowercase letters, digits and single hyphens"
    # repr adds the two quotes: 78 letters show as 80 characters, 79 as 81.
    (problem,) = config_error({"project": {"name": "A" * 78}}).problems
    assert problem[1].startswith(f"'{'A' * 78}' {lowercase}")
    (problem,) = config_error({"project": {"name": "A" * 79}}).problems
    assert problem[1].startswith(f"'{'A' * 59}… {lowercase}")


def test_a_missing_key_and_a_problem_of_the_whole_file_have_their_own_words() -> None:
    # Every key of bluegreen.toml has a default and from_dict gets a mapping, so these
    # come from the models' own errors: a required field (ContainerConfig's name and
    # directory) and a document that is not a table at all.
    with pytest.raises(ValidationError) as missing:
        config.ContainerConfig.model_validate({"directory": "web"})
    (err,) = missing.value.errors()
    # bluegreen's own words are "(missing)" for the absent value; the rest is pydantic's
    # message for a required field, passed on as it is.
    assert err["type"] == "missing"
    assert config._describe(err, {"directory": "web"}) == ("name", f"(missing) {err['msg']}")
    with pytest.raises(ValidationError) as whole:
        config.Config.model_validate(5)
    (err,) = whole.value.errors()
    assert config._describe(err, {}) == ("(file)", "{} must be a table ([section])")


def test_the_models_own_errors_carry_the_cross_field_message() -> None:
    # Code that validates a Config directly (not through from_dict) reads the same words.
    with pytest.raises(ValidationError, match="'webapp' equals app.name; containers need"):
        config.Config.model_validate({"router": {"name": "webapp"}})


def test_a_paragraph_separator_is_a_control_character_too() -> None:
    # U+2029 (category Zp) breaks a line in YAML (YAML 1.2, 5.4 line break characters
    # are only LF/CR, but 1.1 parsers and editors break at it) as U+2028 (Zl) does.
    (problem,) = config_error({"app": {"greeting": "a\u2029b"}}).problems
    assert problem[0] == "app.greeting"
    assert problem[1].startswith("'a\\u2029b' contains U+2029 (paragraph separator): remove it;")
    assert config.control_characters("a\u2028\u2029\t") == [
        "U+0009 (tab)",
        "U+2028 (line separator)",
        "U+2029 (paragraph separator)",
    ]
    # Zs (a no-break space) and Cf (a zero-width joiner) are not controls.
    assert config.control_characters("a\u00a0b\u200dc") == []


# --- parse, load, find ------------------------------------------------------------------


def test_malformed_toml_is_one_problem_of_the_file_with_the_hint() -> None:
    # The parser's own words (CPython's tomllib) are passed on, not pinned here: only that
    # they end with where the error is, which the hint sends the user to.
    with pytest.raises(tomllib.TOMLDecodeError) as parser:
        tomllib.loads("[project\n")
    reason = str(parser.value)
    assert reason.endswith(" (at line 1, column 9)")
    with pytest.raises(ConfigError) as info:
        config.parse("[project\n", "repo/bluegreen.toml")
    error = info.value
    assert error.message == f"repo/bluegreen.toml: not valid TOML: {reason}"
    assert error.hint == (
        "fix the syntax at the line and column shown (strings need quotes, tables are "
        "written [section])"
    )
    assert error.problems == [("(file)", reason)]
    assert error.exit_code == 2


def test_load_says_which_file_is_missing_and_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.message == f"{path}: no such file"
    assert info.value.hint == "run `bluegreen init DIR` to create one, or pass --config PATH"


def test_load_of_a_directory_gives_the_os_reason_not_the_errno(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path)
    assert info.value.message == f"{tmp_path}: cannot read it: {os.strerror(errno.EISDIR)}"
    assert info.value.hint == (
        "point --config (or the repository path) at a readable bluegreen.toml file"
    )


def test_load_names_the_file_in_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "bluegreen.toml"
    path.write_text('[project]\nname = "網走"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(str(path))
    assert info.value.message.startswith(f"{path}: 1 invalid setting:\n  project.name: '網走' ")


def test_find_looks_in_the_parents(tmp_path: Path) -> None:
    (tmp_path / "bluegreen.toml").write_text("", encoding="utf-8")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert config.find(deep) == tmp_path / "bluegreen.toml"


def test_find_says_where_it_looked_and_how_to_go_on(tmp_path: Path) -> None:
    here = tmp_path / "app"
    here.mkdir()
    with pytest.raises(ConfigError) as info:
        config.find(here)
    assert info.value.message == f"no bluegreen.toml in {here} or its parents"
    assert info.value.hint == (
        "run the command inside an application repository, pass --config PATH, or create "
        "one with `bluegreen init DIR`"
    )
    assert info.value.exit_code == 2


def test_find_refuses_a_directory_named_like_the_config(tmp_path: Path) -> None:
    (tmp_path / "bluegreen.toml").mkdir()
    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigError) as info:
        config.find(tmp_path / "sub")
    assert info.value.message == f"{tmp_path / 'bluegreen.toml'} is not a file"
    assert info.value.hint == "replace it with the config file, or pass --config PATH"


# --- scaffold (what `bluegreen init` writes) --------------------------------------------------


def test_scaffold_adds_the_check_and_keeps_the_rest_of_verify() -> None:
    cfg = config.scaffold({"verify": {"interval_seconds": 2}})
    assert cfg.verify.interval_seconds == 2
    assert [c.model_dump() for c in cfg.verify.checks] == [
        {
            "path": "/",
            "method": "GET",
            "status": 200,
            "body": "",
            "body_pattern": r"\S",
            "count": 3,
            "max_latency_ms": 2000,
        }
    ]
    # checks the caller sets (even none) are kept
    assert config.scaffold({"verify": {"checks": []}}).verify.checks == []


def test_scaffold_names_its_source_in_errors() -> None:
    with pytest.raises(ConfigError) as info:
        config.scaffold({"app": {"port": 0}}, source="init")
    assert info.value.message.startswith("init: 1 invalid setting:\n")
