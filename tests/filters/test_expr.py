"""The expression language: semantics checked against plain pandas, errors at compile time."""

import numpy as np
import pyarrow as pa
import pytest

from fink_like.errors import ConfigError
from fink_like.filters.expr import compile_filter, tokenize


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    n = 500
    prob = rng.random(n)
    prob[rng.random(n) < 0.1] = np.nan  # becomes null below
    return pa.table({
        "snia_prob": pa.array(prob, from_pandas=True),
        "ndethist": pa.array(rng.integers(1, 40, n), pa.int32()),
        "mag": rng.normal(19, 1.5, n),
        "band": pa.array(rng.choice(["g", "r", "i"], n)),
        "survey": pa.array(rng.choice(["ztf", "lsst"], n)),
        "xm_vsx_name": pa.array([None if x > 0.2 else f"V{i}" for i, x in enumerate(rng.random(n))]),
        "lc_mag": pa.array([list(range(int(k))) for k in rng.integers(0, 6, n)], pa.list_(pa.float64())),
        "isdiffpos": pa.array(rng.random(n) > 0.3),
    })


CASES = [
    ("snia_prob > 0.8 and ndethist < 20", lambda d: (d.snia_prob > 0.8) & (d.ndethist < 20)),
    ("snia_prob >= 0.5 or mag < 17", lambda d: (d.snia_prob >= 0.5) | (d.mag < 17)),
    ("not (snia_prob > 0.5)", lambda d: d.snia_prob <= 0.5),  # SQL: null stays unselected
    ("band in ('g', 'r') and survey <> 'lsst'", lambda d: d.band.isin(["g", "r"]) & (d.survey != "lsst")),
    ("band not in ('g')", lambda d: d.band != "g"),
    ("xm_vsx_name is null and ndethist = 1", lambda d: d.xm_vsx_name.isna() & (d.ndethist == 1)),
    ("xm_vsx_name is not null", lambda d: d.xm_vsx_name.notna()),
    ("snia_prob is null", lambda d: d.snia_prob.isna()),
    ("mag - 2 * 1.5 / 3 + 1 > 19", lambda d: d.mag - 1 + 1 > 19),
    ("-mag < -20", lambda d: d.mag > 20),
    ("abs(mag - 19) < 0.5", lambda d: (d.mag - 19).abs() < 0.5),
    ("coalesce(snia_prob, 1) = 1", lambda d: d.snia_prob.isna() | (d.snia_prob == 1)),
    ("array_length(lc_mag) >= 3 and len(lc_mag) != 4", lambda d: d.lc_mag.map(len).between(3, 99) & (d.lc_mag.map(len) != 4)),
    ("isdiffpos = true and ndethist == 2", lambda d: d.isdiffpos & (d.ndethist == 2)),
    ("isdiffpos", lambda d: d.isdiffpos),
    ("NOT isdiffpos AND \"ndethist\" <= 3", lambda d: ~d.isdiffpos & (d.ndethist <= 3)),
    ("ndethist in (1, 2, 3) or snia_prob > 1e-1 and mag > 21", lambda d: d.ndethist.isin([1, 2, 3]) | ((d.snia_prob > 0.1) & (d.mag > 21))),
    ("mag / 0 > 1", lambda d: d.mag > 0),  # true division: x/0 is +inf for x > 0
    ("snia_prob = null", lambda d: d.mag != d.mag),  # never true, like SQL
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0] for c in CASES])
def test_matches_pandas(table, text, expected):
    df = table.to_pandas()
    want = expected(df).fillna(False).astype(bool).to_numpy()
    got = compile_filter(text, table.schema).mask(table).to_numpy(zero_copy_only=False)
    assert got.dtype == bool
    assert np.array_equal(got, want), text
    assert 0 <= want.sum() <= len(df)


@pytest.mark.parametrize("text, fragments", [
    ("snia_prb > 0.5", ["unknown column 'snia_prb'", "position 0", "snia_prob"]),
    ("snia_prob > 0.5 and ndethits < 3", ["unknown column 'ndethits'", "position 20", "ndethist"]),
    ("snia_prob >", ["position 11", "end of expression"]),
    ("snia_prob > 0.5 )", ["unexpected token", "position 16", "')'"]),
    ("(snia_prob > 0.5", ["expected ')'", "position 16"]),
    ("snia_prob > 0.5 && mag < 3", ["unexpected character '&'", "position 16"]),
    ("band > 3", ["cannot compare", "position 5"]),
    ("mag + band > 3", ["'+' needs numbers", "position 4"]),
    ("mag and snia_prob > 1", ["'and' needs conditions", "position 4"]),
    ("sqrt(mag) > 1", ["unknown function", "'sqrt'"]),
    ("abs(mag, 2) > 1", ["takes 1 argument"]),
    ("mag + 1", ["not a condition"]),
    ("len(mag) > 1", ["needs a list column"]),
    ("band in (1, 2)", ["cannot compare"]),
    ("'it''s' = band", []),
    ("", ["empty"]),
])
def test_errors_name_position_and_token(table, text, fragments):
    if not fragments:  # valid: quoted quote in a string literal
        assert compile_filter(text, table.schema).mask(table).to_pylist() == [False] * table.num_rows
        return
    with pytest.raises(ConfigError) as info:
        compile_filter(text, table.schema)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_tokenizer_positions():
    toks = tokenize("a>=1.5e2 AND b <> 'x'")
    assert [(t.kind, t.text, t.pos) for t in toks] == [
        ("name", "a", 0), ("op", ">=", 1), ("num", "1.5e2", 3), ("kw", "and", 9),
        ("name", "b", 13), ("op", "<>", 15), ("str", "'x'", 18), ("end", "", 21)]


def test_shared_subexpressions_are_computed_once(table):
    from fink_like.filters.nodes import Evaluation

    a = compile_filter("snia_prob > 0.5 and mag < 20", table.schema)
    b = compile_filter("mag < 20 and ndethist > 3", table.schema)
    ev = Evaluation(table)
    a.mask(table, ev)
    before = set(ev.cache)
    b.mask(table, ev)
    assert '("mag" < 20)' in before
    # b only adds its own comparison and its conjunction
    assert set(ev.cache) - before == {'("ndethist" > 3)', '(("mag" < 20) and ("ndethist" > 3))', '"ndethist"', '3'}


def test_missing_column_at_evaluation(table):
    f = compile_filter("mag < 20", table.schema)
    with pytest.raises(ConfigError, match="no column"):
        f.mask(table.drop_columns(["mag"]))
