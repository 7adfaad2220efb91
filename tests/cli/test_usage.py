"""A command or command group called without what it needs prints its own help and exits 2."""

import pytest

from fink_like.cli import main


@pytest.mark.parametrize("argv, usage", [
    ([], "usage: fink-like [-h]"),
    (["al"], "usage: fink-like al [-h]"),
    (["modules"], "usage: fink-like modules [-h]"),
])
def test_missing_action_prints_that_help(argv, usage, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().out.startswith(usage)
