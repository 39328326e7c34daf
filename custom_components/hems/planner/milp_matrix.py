"""MILP building blocks: the column/row store, linear expressions, clamped minima.

``clamped_min`` models y = max(0, min(terms)) when a selector is on, else 0.

Every derived column registers a *fill*: a function that, given the values of
the decision columns (and of the columns filled before it), writes its own
value; run in creation order they turn a plan into a point of the model.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

TOL = 1e-12
INF = float("inf")

type Fill = Callable[[list[float]], None]


@dataclass(frozen=True, slots=True)
class Expr:
    """A linear expression: sum of coef x column, plus a constant."""

    terms: tuple[tuple[int, float], ...] = ()
    const: float = 0.0

    def __add__(self, other: Expr) -> Expr:
        """Return self + other."""
        return Expr(self.terms + other.terms, self.const + other.const)

    def __sub__(self, other: Expr) -> Expr:
        """Return self - other."""
        return self + other.scaled(-1.0)

    def scaled(self, k: float) -> Expr:
        """Return k x self."""
        return Expr(tuple((c, k * v) for c, v in self.terms), k * self.const)

    def value(self, values: Sequence[float]) -> float:
        """Evaluate at ``values`` (one per column)."""
        return self.const + sum(v * values[c] for c, v in self.terms)


def var(col: int, coef: float = 1.0) -> Expr:
    """Return the expression coef x column."""
    return Expr(((col, coef),))


def const(value: float) -> Expr:
    """Return a constant expression."""
    return Expr((), value)


def total(exprs: Sequence[Expr]) -> Expr:
    """Return the sum of ``exprs``."""
    out = Expr()
    for e in exprs:
        out += e
    return out


@dataclass(frozen=True, slots=True)
class Bounded:
    """An expression with bounds valid at every point of the model."""

    expr: Expr
    lo: float
    hi: float
    implied: bool = False  # y <= it holds already (by a column's bounds)

    @property
    def fixed(self) -> bool:
        """Whether it is a constant."""
        return not self.expr.terms


def constant(value: float) -> Bounded:
    """Return a constant term."""
    return Bounded(const(value), value, value)


@dataclass
class Matrix:
    """Columns and rows collected before handing them to HiGHS in one go."""

    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)

    def col(
        self, cost: float, lower: float, upper: float, *, binary: bool = False
    ) -> int:
        """Add a column; return its index."""
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.binary.append(binary)
        return len(self.cost) - 1

    def row(
        self, terms: Sequence[tuple[int, float]], lower: float, upper: float
    ) -> None:
        """Add the row lower <= sum coef x column <= upper."""
        for col, coef in terms:
            self.index.append(col)
            self.value.append(coef)
        self.starts.append(len(self.index))
        self.row_lower.append(lower)
        self.row_upper.append(upper)

    def constrain(self, expr: Expr, lower: float = -INF, upper: float = INF) -> None:
        """Add the row lower <= expr <= upper (repeated columns merged)."""
        merged: dict[int, float] = {}
        for col, coef in expr.terms:
            merged[col] = merged.get(col, 0.0) + coef
        terms = [(c, v) for c, v in merged.items() if v != 0.0]
        self.row(terms, lower - expr.const, upper - expr.const)


def _undominated(terms: Sequence[Bounded]) -> list[Bounded]:
    """Drop every term never below another (the first of equal constants stays)."""
    return [
        t
        for j, t in enumerate(terms)
        if not any(
            o.hi < t.lo or (o.hi == t.lo and k < j)
            for k, o in enumerate(terms)
            if k != j
        )
    ]


def clamped_min(matrix: Matrix, active: Expr, terms: Sequence[Bounded]) -> int:
    """Return a column y = max(0, min(terms)) if ``active`` (0 or 1) is 1, else 0.

    -1 if y is always 0.  One selector per way the value can be decided: a
    term that can be the minimum (y >= term), or a term that can be <= 0
    (then y = 0 and the term is <= 0); they sum to ``active`` (the last one is
    ``active`` minus the others, no column).  Rows: y <= top x (active - the
    zero selectors); y <= term when active and no zero selector; y >= the
    selected term.  Each row holds at every other point by the terms' bounds.
    """
    live = _undominated(terms)
    top = min(t.hi for t in live)
    if top <= TOL:
        return -1
    y = matrix.col(0.0, 0.0, top)
    zero = [t for t in live if t.lo < 0]
    bind = [
        t
        for t in live
        if len(live) == 1 or t.lo <= min(o.hi for o in live if o is not t)
    ]
    count = len(zero) + len(bind)
    cols = [matrix.col(0.0, 0.0, 1.0, binary=True) for _ in range(count - 1)]
    picks = [var(c) for c in cols]
    picks.append(active - total(picks))
    if cols:
        matrix.constrain(total(picks[:-1]) - active, upper=0.0)
    zeros = total(picks[: len(zero)])
    on = active - zeros
    if on.terms:  # else y <= top is its bound
        matrix.constrain(var(y) - on.scaled(top), upper=0.0)
    for t, z in zip(zero, picks, strict=False):
        matrix.constrain(t.expr + z.scaled(t.hi), upper=t.hi)
    off = const(1.0) - active + zeros  # 0 exactly when y must be <= every term
    for t in live:
        if not (t.fixed or t.implied):
            matrix.constrain(var(y) - t.expr - off.scaled(top - t.lo), upper=0.0)
    for t, g in zip(bind, picks[len(zero) :], strict=True):
        matrix.constrain(var(y) - t.expr - g.scaled(t.hi), lower=-t.hi)

    matrix.fills.append(_Pick(active, y, live, zero, bind, cols).fill)
    return y


@dataclass(frozen=True, slots=True)
class _Pick:
    """The fill of a :func:`clamped_min` column and its selectors."""

    active: Expr
    y: int
    live: list[Bounded]
    zero: list[Bounded]
    bind: list[Bounded]
    cols: list[int]

    def fill(self, values: list[float]) -> None:
        """Set y and the selector that decides it."""
        for c in self.cols:
            values[c] = 0.0
        if self.active.value(values) < 0.5:  # noqa: PLR2004
            values[self.y] = 0.0
            return
        least = min(t.expr.value(values) for t in self.live)
        values[self.y] = max(0.0, least)
        if self.zero and least < 0:
            at = [t.expr.value(values) for t in self.zero]
            pick = min(range(len(at)), key=at.__getitem__)
        else:
            at = [t.expr.value(values) for t in self.bind]
            pick = len(self.zero) + min(range(len(at)), key=at.__getitem__)
        if pick < len(self.cols):
            values[self.cols[pick]] = 1.0
