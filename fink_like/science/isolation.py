"""Find the rows a science module cannot score, so that one bad alert fails alone.

Modules are vectorised: one exception fails the whole batch. When that happens the
runner calls :func:`isolate`, which bisects the batch and runs the module again on
each half that failed, until every failing part is a single row or a budget of rows is
spent. The rows of the halves that succeed keep their outputs; the failing rows get the
error that their smallest failing part raised. Modules are stateless and deterministic
(the :class:`~fink_like.science.base.ScienceModule` contract), so a row scores the same
in any part of the batch.

The budget bounds the cost: isolating one bad row among ``n`` re-runs about ``2 n``
rows; a module that fails on every row stops after ``budget`` rows (the default, ``4 n``,
is four more passes over the batch) and its remaining parts share their error.

Examples
--------
>>> import pyarrow as pa
>>> def inverse(part):
...     values = part["x"].to_pylist()
...     return {"inv": pa.array([1.0 / v for v in values])}
>>> out, errors = isolate(inverse, pa.table({"x": [1.0, 0.0, 4.0]}), {"inv": pa.float64()})
>>> out["inv"].to_pylist(), errors
([1.0, None, 0.25], [None, 'ZeroDivisionError: float division by zero', None])
"""

from __future__ import annotations

from typing import Callable

import pyarrow as pa

BUDGET_PASSES = 4
"""Rows re-run at most, as a multiple of the batch's rows."""


def describe(exc: BaseException) -> str:
    """How an exception is recorded in the provenance: ``Type: message``."""
    return f"{type(exc).__name__}: {exc}"


def isolate(run: Callable[[pa.Table], dict], table: pa.Table, declared: dict[str, pa.DataType],
            first_error: str | None = None, passes: int = BUDGET_PASSES):
    """Outputs for the rows that ``run`` scores and an error message for the others.

    Parameters
    ----------
    run
        ``run(part) -> {column: pyarrow.Array}`` for a slice of ``table``; raises on failure.
    table
        The batch that failed as a whole (``first_error``) or that has not run yet.
    declared
        Output columns and types (failed rows get nulls of these types).
    first_error
        The whole batch's error when it already failed; else the batch is run first.
    passes
        Budget in multiples of ``table.num_rows`` rows re-run.

    Returns
    -------
    outputs : dict of str to pyarrow.Array
        One value per row of ``table``; null on failed rows.
    errors : list of (str or None)
        Per row: None when scored, else the error message.
    """
    n = table.num_rows
    if first_error is None:
        try:
            return run(table), [None] * n
        except Exception as exc:  # isolation: any failure of module code is data
            first_error = describe(exc)
    done: list[tuple[int, int, dict | None, str | None]] = []
    failing, budget = [(0, n, first_error)], passes * n
    while failing:
        lo, hi, error = failing.pop()
        if hi - lo == 1 or budget <= 0:
            done.append((lo, hi, None, error))
            continue
        mid = (lo + hi) // 2
        for a, b in ((lo, mid), (mid, hi)):
            budget -= b - a
            try:
                done.append((a, b, run(table.slice(a, b - a)), None))
            except Exception as exc:
                failing.append((a, b, describe(exc)))
    done.sort(key=lambda part: part[0])
    outputs = {column: pa.concat_arrays([
        part[2][column] if part[2] is not None else pa.nulls(part[1] - part[0], dtype) for part in done
    ]) for column, dtype in declared.items()}
    errors = [error for lo, hi, _, error in done for _ in range(hi - lo)]
    return outputs, errors
