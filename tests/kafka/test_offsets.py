"""Offset planning: checkpoint JSON, startingOffsets specs, maxOffsetsPerTrigger shares, splits."""

from __future__ import annotations

import pytest

from fink_like.errors import ConfigError
from fink_like.kafka import offsets as off


def test_json_round_trip_matches_spark_shape():
    flat = {("b", 1): 7, ("a", 0): 3, ("b", 0): 5}
    assert off.to_json(flat) == {"a": {"0": 3}, "b": {"0": 5, "1": 7}}
    assert off.from_json(off.to_json(flat)) == flat


def test_resolve_keywords_and_json():
    bounds = {("t", 0): (2, 10), ("t", 1): (0, 4)}
    assert off.resolve("earliest", bounds, "earliest") == {("t", 0): 2, ("t", 1): 0}
    assert off.resolve("latest", bounds, "earliest") == {("t", 0): 10, ("t", 1): 4}
    spec = off.parse_spec('{"t": {"0": -1}}', "startingOffsets")
    # -1 is latest; the partition left out gets the default.
    assert off.resolve(spec, bounds, "earliest") == {("t", 0): 10, ("t", 1): 0}
    spec = off.parse_spec('{"t": {"0": 5, "1": -2}}', "startingOffsets")
    assert off.resolve(spec, bounds, "latest") == {("t", 0): 5, ("t", 1): 0}


@pytest.mark.parametrize("spec", ["soon", '{"t": 3}', '{"t": {"0": -7}}', "[1, 2]"])
def test_bad_specs_name_the_option(spec):
    with pytest.raises(ConfigError, match="startingOffsets"):
        off.parse_spec(spec, "startingOffsets")


def test_spread_is_proportional_and_exact():
    start = {("t", 0): 0, ("t", 1): 10, ("u", 0): 5}
    latest = {("t", 0): 70, ("t", 1): 30, ("u", 0): 15}   # backlogs 70, 20, 10
    end = off.spread(start, latest, 10)
    assert end == {("t", 0): 7, ("t", 1): 12, ("u", 0): 6}
    end = off.spread(start, latest, 11)                  # shares 7.7, 2.2, 1.1
    assert sum(end[tp] - start[tp] for tp in end) == 11
    assert end == {("t", 0): 8, ("t", 1): 12, ("u", 0): 6}
    assert off.spread(start, latest, 1000) == latest
    assert off.spread(start, latest, None) == latest


def test_split_limits_range_sizes_and_balances_them():
    assert off.split([("t", 0, 5, 12), ("t", 1, 0, 3)], 3) == [
        ("t", 0, 5, 8), ("t", 0, 8, 11), ("t", 0, 11, 12), ("t", 1, 0, 3)]
    assert off.split([("t", 0, 0, 2500)], 2000) == [("t", 0, 0, 1250), ("t", 0, 1250, 2500)]
    assert off.split([("t", 0, 4, 4)], 10) == []


def test_split_gives_every_core_a_piece_of_a_small_batch():
    from fink_like.kafka.offsets import split

    pieces = split([("ztf", 0, 100, 700), ("lsst", 0, 0, 10)], max_records=1000, min_pieces=2)
    assert sum(e - s for _t, _p, s, e in pieces) == 610
    assert len([p for p in pieces if p[0] == "ztf"]) >= 2
    assert max(e - s for _t, _p, s, e in pieces) <= 305
