"""Typed expression nodes of the filter language, evaluated with ``pyarrow.compute``.

Each node has a ``key`` (its canonical text) and a ``kind`` (``num``, ``str``, ``bool``,
``list``, ``null`` or ``other``). Evaluation goes through an :class:`Evaluation`, which
memoises every node by key: two filters that share ``snia_prob > 0.8`` compute it once
per batch. Nulls follow SQL: comparisons and arithmetic with null give null, ``and``/``or``
are Kleene, and a null condition does not select the row.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import ConfigError

NUMERIC = "num"

_CMP = {
    "=": pc.equal, "==": pc.equal, "!=": pc.not_equal, "<>": pc.not_equal,
    "<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
}
_ARITH = {"+": pc.add, "-": pc.subtract, "*": pc.multiply}


def kind_of(dtype: pa.DataType) -> str:
    """The language's kind for an Arrow type."""
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return NUMERIC
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "str"
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return "list"
    if pa.types.is_null(dtype):
        return "null"
    return "other"


class Evaluation:
    """One batch being filtered, with a cache of every sub-expression already computed."""

    def __init__(self, table: pa.Table):
        self.table = table
        self.cache: dict[str, object] = {}

    def value(self, node: "Node"):
        """The value of ``node`` on this batch (array, chunked array or scalar), memoised."""
        try:
            return self.cache[node.key]
        except KeyError:
            result = self.cache[node.key] = node.compute(self)
            return result


class Node:
    """Base node: subclasses set ``key`` and ``kind`` and implement ``compute``."""

    key: str
    kind: str

    def compute(self, ev: Evaluation):  # pragma: no cover - abstract
        raise NotImplementedError

    def columns(self) -> set[str]:
        """Column names this node reads."""
        out: set[str] = set()
        for child in getattr(self, "children", ()):
            out |= child.columns()
        return out


class Column(Node):
    def __init__(self, name: str, dtype: pa.DataType):
        self.name, self.dtype = name, dtype
        self.key, self.kind = f'"{name}"', kind_of(dtype)

    def compute(self, ev):
        return ev.table.column(self.name)

    def columns(self):
        return {self.name}


class Literal(Node):
    def __init__(self, value, kind: str):
        self.value, self.kind = value, kind
        self.key = "NULL" if value is None else repr(value)

    def compute(self, ev):
        if self.kind == "null":
            return pa.scalar(None, pa.null())
        return pa.scalar(self.value)


class Compare(Node):
    def __init__(self, op: str, left: Node, right: Node):
        self.op, self.children = op, (left, right)
        self.key, self.kind = f"({left.key} {op} {right.key})", "bool"

    def compute(self, ev):
        left, right = (ev.value(c) for c in self.children)
        if any(c.kind == "null" for c in self.children):
            return pa.scalar(None, pa.bool_())
        return _CMP[self.op](left, right)


class Arith(Node):
    def __init__(self, op: str, left: Node, right: Node):
        self.op, self.children = op, (left, right)
        self.key, self.kind = f"({left.key} {op} {right.key})", NUMERIC

    def compute(self, ev):
        left, right = (ev.value(c) for c in self.children)
        if any(c.kind == "null" for c in self.children):
            return pa.scalar(None, pa.float64())
        if self.op == "/":  # true division, as in SQL on doubles: x/0 gives inf, not an error
            return pc.divide(pc.cast(left, pa.float64()), pc.cast(right, pa.float64()))
        return _ARITH[self.op](left, right)


class Negate(Node):
    def __init__(self, operand: Node):
        self.children = (operand,)
        self.key, self.kind = f"(-{operand.key})", NUMERIC

    def compute(self, ev):
        return pc.negate(ev.value(self.children[0]))


class Logical(Node):
    def __init__(self, op: str, operands: list[Node]):
        self.op, self.children = op, tuple(operands)
        self.key = "(" + f" {op} ".join(c.key for c in operands) + ")"
        self.kind = "bool"

    def compute(self, ev):
        func = pc.and_kleene if self.op == "and" else pc.or_kleene
        values = [ev.value(c) for c in self.children]
        result = values[0]
        for value in values[1:]:
            result = func(result, value)
        return result


class Not(Node):
    def __init__(self, operand: Node):
        self.children = (operand,)
        self.key, self.kind = f"(not {operand.key})", "bool"

    def compute(self, ev):
        return pc.invert(ev.value(self.children[0]))


class IsNull(Node):
    def __init__(self, operand: Node, negated: bool):
        self.children, self.negated = (operand,), negated
        self.key = f"({operand.key} is {'not ' if negated else ''}null)"
        self.kind = "bool"

    def compute(self, ev):
        value = ev.value(self.children[0])
        if isinstance(value, pa.Scalar):
            return pa.scalar(value.is_valid == self.negated)
        result = pc.is_null(value, nan_is_null=False)
        return pc.invert(result) if self.negated else result


class InList(Node):
    def __init__(self, operand: Node, values: list, negated: bool):
        self.children, self.values, self.negated = (operand,), values, negated
        self.key = f"({operand.key} {'not ' if negated else ''}in {tuple(values)!r})"
        self.kind = "bool"

    def compute(self, ev):
        value = ev.value(self.children[0])
        if self.children[0].kind == NUMERIC:
            value = pc.cast(value, pa.float64())
        found = pc.is_in(value, value_set=pa.array(self.values))
        if self.negated:
            found = pc.invert(found)
        # SQL: ``null in (...)`` is null, so neither ``in`` nor ``not in`` selects it.
        return pc.if_else(pc.is_null(value), pa.scalar(None, pa.bool_()), found)


class Call(Node):
    def __init__(self, name: str, args: list[Node], kind: str):
        self.name, self.children = name, tuple(args)
        self.key = f"{name}(" + ", ".join(a.key for a in args) + ")"
        self.kind = kind

    def compute(self, ev):
        values = [ev.value(a) for a in self.children]
        if self.name == "abs":
            return pc.abs(values[0])
        if self.name in ("array_length", "len"):
            return pc.list_value_length(values[0])
        if self.name == "bit_and":
            return pc.bit_wise_and(*(pc.cast(v, pa.int64()) for v in values))
        if self.name == "coalesce":
            if self.kind == NUMERIC:
                values = [pc.cast(v, pa.float64()) for v in values]
            return pc.coalesce(*values)
        raise ConfigError(f"unknown function {self.name}()")  # compile_filter checks names first


def to_mask(value, num_rows: int) -> pa.BooleanArray:
    """A condition's value as a boolean array of ``num_rows``, null counted as false."""
    if isinstance(value, pa.Scalar):
        return pa.array([bool(value.as_py())] * num_rows, type=pa.bool_())
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks() if value.num_chunks else pa.array([], pa.bool_())
    return pc.fill_null(value, False)
