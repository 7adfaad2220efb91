"""Cell encoding: the scalar fast path writes exactly the bytes of the JSON encoder."""

import json
import math
import random

from fink_like.archive import codec

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def test_scalars_encode_as_the_json_encoder_does():
    rng = random.Random(7)
    values = [0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, math.nan, math.inf, -math.inf,
              True, False, 0, -5, 2**70, "", "é\"\\\n\u2028\x00x", [1.0, None, math.nan], {"a": [1, "b"]}]
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(2000)]
    for value in values:
        assert codec.encode_value(value) == _JSON(value).encode(), value


def test_a_column_keeps_nulls_absent():
    assert codec.encode_column([1.5, None, "x", True]) == [b"1.5", None, b'"x"', b"true"]
