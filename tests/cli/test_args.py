"""The shared argument types (fink_like/cli/args.py): properties over any text, and the cases
of issue 12 through ``main(argv)``: one line, exit 2, no traceback."""

from __future__ import annotations

import argparse
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fink_like.cli import args, build_parser, main
from fink_like.errors import UsageError

# Text that looks like numbers half of the time, anything the other half.
numberish = st.one_of(
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e400", " 5 ", "0x10", "1_000", "٣", "", "-0"]),
)

PARSERS = {
    args.positive_float: lambda v: isinstance(v, float) and math.isfinite(v) and v > 0,
    args.non_negative_float: lambda v: isinstance(v, float) and math.isfinite(v) and v >= 0,
    args.finite_float: lambda v: isinstance(v, float) and math.isfinite(v),
    args.positive_int: lambda v: isinstance(v, int) and v >= 1,
    args.non_negative_int: lambda v: isinstance(v, int) and v >= 0,
    args.port: lambda v: isinstance(v, int) and 1 <= v <= 65535,
    args.rates: lambda v: bool(v) and all(math.isfinite(r) and r > 0 for r in v),
}


@pytest.mark.parametrize("parse", list(PARSERS), ids=lambda f: f.__name__)
@settings(max_examples=300, deadline=None)
@given(text=numberish)
def test_numbers_are_valid_or_rejected_with_a_message(parse, text):
    """Whatever the text: a value that satisfies the type's invariant, or ArgumentTypeError."""
    try:
        value = parse(text)
    except argparse.ArgumentTypeError as exc:
        assert str(exc) and len(str(exc)) < 200  # bounded echo, even of huge input
        return
    assert PARSERS[parse](value), (text, value)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_json_object_and_dates_never_raise_anything_else(text):
    for parse in (args.json_object, args.date):
        try:
            parse(text)
        except argparse.ArgumentTypeError:
            pass


@settings(max_examples=150, deadline=None)
@given(value=numberish, flag=st.sampled_from([
    ["serve", "--port"], ["simulate", "--rate"], ["simulate", "--count"], ["consume", "-t", "x", "--idle-timeout"],
    ["consume", "-t", "x", "--max"], ["run", "--timeout"], ["bench", "--rates"], ["query", "latest", "--limit"],
    ["al", "candidates", "--n"], ["modules", "validate", "x", "--per-folder"],
]))
def test_command_lines_parse_or_fail_as_usage_errors(value, flag):
    """Every numeric option of every command goes through the shared types."""
    parser = build_parser()
    try:
        parser.parse_args([*flag, value])
    except UsageError as exc:
        assert "\n" not in str(exc)


def test_output_file_checks(tmp_path):
    target = tmp_path / "out.csv"
    assert args.output_file(str(target)) == str(target) and not target.exists()  # checked, not left
    for bad, why in [(str(tmp_path), "is a folder"), (str(tmp_path / "no" / "x.csv"), "does not exist"),
                     ("/proc/version", "cannot write")]:
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            args.output_file(bad)


def test_output_folder_checks(tmp_path):
    assert args.output_folder(str(tmp_path / "a" / "b")) == str(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and not any((tmp_path / "a" / "b").iterdir())
    (tmp_path / "f").write_text("x")
    with pytest.raises(argparse.ArgumentTypeError, match="is a file"):
        args.output_folder(str(tmp_path / "f"))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot write"):
        args.output_folder("/proc/nope")


@pytest.mark.parametrize("argv, message", [
    (["--config", "conf/", "config", "check"], "is a directory"),
    (["--config", "/bin/sh", "config", "check"], "not text"),
    (["serve", "--port", "99999"], "between 1 and 65535"),
    (["serve", "--port", "-1"], "between 1 and 65535"),
    (["simulate", "--rate", "nan"], "not a finite number"),
    (["consume", "--topic", "t", "--idle-timeout", "-3"], "at least 0"),
    (["consume", "--topic", "t", "--save", "/proc/nope"], "cannot write in folder"),
    (["query", "cone", "0", "0", "-5"], "must be positive"),
    (["schema", "export", "/proc/nope", "--local"], "cannot write in folder"),
    (["simulate", "--seed", "-1"], "at least 0"),
    (["bench", "--duration", "0"], "must be positive"),
])
def test_issue_cases_are_one_line_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_help_of_every_command_has_a_description_and_one_metavar_style(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert command.description, name
        for action in command._actions:
            if action.option_strings and action.nargs != 0 and action.metavar is not None:
                assert str(action.metavar).replace(",", "").replace(".", "").replace("_", "").isupper(), \
                    (name, action.option_strings, action.metavar)
    assert "is skipped and reported" in " ".join(sub.choices["simulate"].format_help().split())
