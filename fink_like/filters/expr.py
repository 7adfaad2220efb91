"""A small SQL-like boolean language over alert columns, compiled to ``pyarrow.compute``.

Grammar (keywords are case-insensitive; full description in ``docs/filters.md``)::

    expr      := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | predicate
    predicate := sum [cmp sum | "is" ["not"] "null" | ["not"] "in" "(" literal ("," literal)* ")"]
    cmp       := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    sum       := product (("+" | "-") product)*
    product   := unary (("*" | "/") unary)*
    unary     := "-" unary | atom
    atom      := number | 'string' | true | false | null | name | "name" | func "(" args ")" | "(" expr ")"

The text is tokenised and parsed by hand (no ``eval``, no Python ``ast``). Every error
is a :class:`~fink_like.errors.ConfigError` naming the position and the offending token.

Examples
--------
>>> import pyarrow as pa
>>> t = pa.table({"snia_prob": [0.9, 0.2, None], "ndethist": [3, 4, 30]})
>>> compile_filter("snia_prob > 0.8 and ndethist < 20", t.schema).mask(t).to_pylist()
[True, False, False]
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pyarrow as pa

from fink_like.errors import ConfigError
from fink_like.filters import nodes as n

KEYWORDS = {"and", "or", "not", "is", "null", "in", "true", "false"}
COMPARISONS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}
FUNCTIONS = {"abs": 1, "coalesce": None, "array_length": 1, "len": 1, "bit_and": 2}

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
      | (?P<str>'(?:[^']|'')*')
      | (?P<qname>"[^"]+")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<>|<=|>=|[=<>+\-*/(),])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str   # num, str, name, qname, op, kw, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; an unexpected character is a ConfigError with its position."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ConfigError(f"filter {text!r}: unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup
        word = match.group()
        if kind == "name" and word.lower() in KEYWORDS:
            kind, word = "kw", word.lower()
        if kind != "ws":
            tokens.append(Token(kind, word, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class CompiledFilter:
    """A parsed, type-checked filter. ``mask(table)`` gives one boolean per row."""

    def __init__(self, text: str, root: n.Node):
        self.text, self.root = text, root
        self.columns = frozenset(root.columns())

    def mask(self, table: pa.Table, evaluation: n.Evaluation | None = None) -> pa.BooleanArray:
        """Rows selected by the filter (null conditions count as false).

        ``evaluation`` shares computed sub-expressions with other filters on the same batch.
        """
        missing = sorted(self.columns - set(table.column_names))
        if missing:
            raise ConfigError(f"filter {self.text!r}: the batch has no column(s) {', '.join(missing)}")
        ev = evaluation if evaluation is not None else n.Evaluation(table)
        return n.to_mask(ev.value(self.root), table.num_rows)

    evaluate = mask  # the name the jobs' quality cuts use

    def __repr__(self) -> str:
        return f"CompiledFilter({self.text!r})"


def compile_filter(text: str, schema: pa.Schema) -> CompiledFilter:
    """Parse and type-check ``text`` against ``schema``.

    Raises
    ------
    ConfigError
        On a syntax error, an unknown column (with close matches), an unknown function
        or a type mismatch; the message gives the position and the offending token.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("filter expression is empty")
    parser = _Parser(text, schema)
    try:
        root = parser.parse()
    except RecursionError:
        raise ConfigError(f"filter expression is nested too deeply ({len(text)} characters)") from None
    if root.kind not in ("bool", "null"):
        raise ConfigError(f"filter {text!r} is not a condition (it gives a {root.kind} value)")
    return CompiledFilter(text, root)


class _Parser:
    def __init__(self, text: str, schema: pa.Schema):
        self.text, self.schema = text, schema
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, tok: Token | None = None) -> ConfigError:
        tok = tok or self.tok
        shown = "end of expression" if tok.kind == "end" else repr(tok.text)
        return ConfigError(f"filter {self.text!r}: {message} at position {tok.pos} ({shown})")

    def accept(self, *texts: str) -> Token | None:
        if self.tok.kind in ("op", "kw") and self.tok.text in texts:
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def expect(self, text: str) -> Token:
        tok = self.accept(text)
        if tok is None:
            raise self.error(f"expected {text!r}")
        return tok

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> n.Node:
        node = self.or_expr()
        if self.tok.kind != "end":
            raise self.error("unexpected token")
        return node

    def or_expr(self) -> n.Node:
        return self._logical("or", self.and_expr)

    def and_expr(self) -> n.Node:
        return self._logical("and", self.not_expr)

    def _logical(self, op, sub) -> n.Node:
        start = self.tok
        operands = [sub()]
        while (tok := self.accept(op)) is not None:
            operands.append(sub())
            start = tok
        if len(operands) == 1:
            return operands[0]
        for operand in operands:
            self._want(operand, ("bool", "null"), f"'{op}' needs conditions on both sides", start)
        return n.Logical(op, operands)

    def not_expr(self) -> n.Node:
        tok = self.accept("not")
        if tok is None:
            return self.predicate()
        operand = self.not_expr()
        self._want(operand, ("bool", "null"), "'not' needs a condition", tok)
        return n.Not(operand)

    def predicate(self) -> n.Node:
        left = self.sum()
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARISONS:
            self.i += 1
            right = self.sum()
            self._check_comparable(left, right, tok)
            return n.Compare(tok.text, left, right)
        if self.accept("is"):
            negated = self.accept("not") is not None
            self.expect("null")
            return n.IsNull(left, negated)
        negated = self.accept("not") is not None
        if negated or tok.text == "in":
            in_tok = self.expect("in")
            return n.InList(left, self.literal_list(left, in_tok), negated)
        return left

    def literal_list(self, left: n.Node, tok: Token) -> list:
        self.expect("(")
        values = []
        while True:
            lit = self.unary()
            if not isinstance(lit, n.Literal) or lit.kind == "null":
                raise self.error("'in (...)' takes literal values only", tok)
            self._check_comparable(left, lit, tok)
            values.append(float(lit.value) if left.kind == n.NUMERIC else lit.value)
            if not self.accept(","):
                break
        self.expect(")")
        return values

    def sum(self) -> n.Node:
        return self._arith(("+", "-"), self.product)

    def product(self) -> n.Node:
        return self._arith(("*", "/"), self.unary)

    def _arith(self, ops, sub) -> n.Node:
        node = sub()
        while (tok := self.accept(*ops)) is not None:
            right = sub()
            for side in (node, right):
                self._want(side, (n.NUMERIC, "null"), f"'{tok.text}' needs numbers", tok)
            node = n.Arith(tok.text, node, right)
        return node

    def unary(self) -> n.Node:
        tok = self.accept("-")
        if tok is None:
            return self.atom()
        operand = self.unary()
        self._want(operand, (n.NUMERIC,), "'-' needs a number", tok)
        if isinstance(operand, n.Literal):
            return n.Literal(-operand.value, n.NUMERIC)
        return n.Negate(operand)

    def atom(self) -> n.Node:
        tok = self.tok
        self.i += 1
        if tok.kind == "num":
            return n.Literal(float(tok.text) if re.search(r"[.eE]", tok.text) else int(tok.text), n.NUMERIC)
        if tok.kind == "str":
            return n.Literal(tok.text[1:-1].replace("''", "'"), "str")
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return n.Literal(tok.text == "true", "bool")
        if tok.kind == "kw" and tok.text == "null":
            return n.Literal(None, "null")
        if tok.kind == "name" and self.tok.text == "(":
            return self.call(tok)
        if tok.kind in ("name", "qname"):
            return self.column(tok)
        if tok.kind == "op" and tok.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        self.i -= 1
        raise self.error("expected a value, a column or '('")

    def column(self, tok: Token) -> n.Node:
        name = tok.text.strip('"')
        if name not in self.schema.names:
            close = difflib.get_close_matches(name, self.schema.names, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"filter {self.text!r}: unknown column {name!r} at position {tok.pos}{hint}"
            )
        return n.Column(name, self.schema.field(name).type)

    def call(self, tok: Token) -> n.Node:
        name = tok.text.lower()
        if name not in FUNCTIONS:
            raise self.error(f"unknown function (known: {', '.join(sorted(FUNCTIONS))})", tok)
        self.expect("(")
        args = [self.or_expr()]
        while self.accept(","):
            args.append(self.or_expr())
        self.expect(")")
        arity = FUNCTIONS[name]
        if arity is not None and len(args) != arity:
            raise self.error(f"{name}() takes {arity} argument(s), not {len(args)}", tok)
        if name == "abs":
            self._want(args[0], (n.NUMERIC,), "abs() needs a number", tok)
            return n.Call(name, args, n.NUMERIC)
        if name in ("array_length", "len"):
            self._want(args[0], ("list",), f"{name}() needs a list column", tok)
            return n.Call(name, args, n.NUMERIC)
        if name == "bit_and":  # e.g. bit_and(flags, 4) = 0: Rubin quality bit 2 not set
            for arg in args:
                self._want(arg, (n.NUMERIC,), "bit_and() needs integers", tok)
            return n.Call(name, args, n.NUMERIC)
        kinds = {a.kind for a in args} - {"null"}
        if len(kinds) > 1:
            raise self.error(f"coalesce() arguments mix {', '.join(sorted(kinds))}", tok)
        return n.Call(name, args, kinds.pop() if kinds else "null")

    # -- type checks ---------------------------------------------------------------------
    def _want(self, node: n.Node, kinds, message: str, tok: Token) -> None:
        if node.kind not in kinds:
            raise self.error(f"{message}, but {node.key} is {node.kind}", tok)

    def _check_comparable(self, left: n.Node, right: n.Node, tok: Token) -> None:
        kinds = {left.kind, right.kind} - {"null"}
        if "other" in kinds or "list" in kinds:
            raise self.error("lists and binary/time columns cannot be compared", tok)
        if len(kinds) > 1:
            raise self.error(f"cannot compare {left.key} ({left.kind}) with {right.key} ({right.kind})", tok)
        if kinds == {"bool"} and tok.text not in ("=", "==", "!=", "<>", "in"):
            raise self.error("booleans can only be tested with = or !=", tok)
