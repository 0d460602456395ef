"""Mutation operators: find the mutation points of one source file and render each mutant.

A mutant is a *text* edit: the source segment of one AST node (``ast.get_source_segment``
coordinates) is replaced by the unparsed mutated node, in parentheses for expressions. The rest of
the file keeps its formatting, so the report can show the one changed line, and line numbers stay
put. Skipped: docstrings, annotations, f-string internals, ``if TYPE_CHECKING:`` blocks and any
line carrying ``# pragma: no mutate``.

Operators (the ``operator`` name in reports and in ``equivalent.txt``):

- ``compare``: ``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``is``/``is not``, ``in``/``not in``
- ``boolop``: ``and``/``or``
- ``not``: ``not x`` -> ``x``
- ``constant``: int ``+1``/``-1``, ``True``/``False``, a non-empty string emptied
- ``return-none``: ``return x`` -> ``return None``
- ``delete``: a simple statement replaced by ``pass``
- ``loop-jump``: ``break``/``continue`` swapped
- ``index``: a subscript index or slice bound ``+1``/``-1``
- ``augassign``: ``+=``/``-=``, ``|=``/``&=``, ``*=``/``//=``; and ``x op= y`` -> ``x = y``
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
    ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_AUG_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr,
    ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
}
_SIMPLE_STMTS = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Return, ast.Assert,
                 ast.Delete)

OPERATORS = ("compare", "boolop", "not", "constant", "return-none", "delete", "loop-jump", "index",
             "augassign")


@dataclass(frozen=True)
class Mutant:
    """One mutant of one file: replace ``source[start:end]`` by ``replacement``."""

    file: str          # path relative to the repository root, with forward slashes
    line: int          # 1-based line of the mutated node
    operator: str
    start: int         # character offsets into the file's text
    end: int
    replacement: str
    original_line: str
    mutated_line: str
    occurrence: int = 0  # how many earlier mutants of this file have the same operator and lines

    @property
    def id(self) -> str:
        """Stable across runs (and across edits elsewhere in the file: the line number is not part of it)."""
        key = f"{self.file}\0{self.operator}\0{self.original_line.strip()}\0{self.mutated_line.strip()}"
        if self.occurrence:
            key += f"\0{self.occurrence}"
        return hashlib.sha1(key.encode()).hexdigest()[:12]

    def apply(self, text: str) -> str:
        return text[: self.start] + self.replacement + text[self.end :]


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


class _Finder(ast.NodeVisitor):
    """Collects (node, operator, mutated node or replacement text) triples."""

    def __init__(self) -> None:
        self.points: list[tuple[ast.AST, str, ast.AST | str, bool]] = []  # node, op, new, parenthesize
        self._docstrings: set[int] = set()

    def _add(self, node: ast.AST, op: str, new: ast.AST | str, paren: bool = True) -> None:
        self.points.append((node, op, new, paren))

    # --- structure: skip what must not be mutated
    def _mark_docstring(self, body: list[ast.stmt]) -> None:
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            self._docstrings.add(id(body[0]))

    def visit_Module(self, node: ast.Module) -> None:
        self._mark_docstring(node.body)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._mark_docstring(node.body)
        for stmt in node.body:
            self.visit(stmt)  # skip bases/decorators/keywords

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._mark_docstring(node.body)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for stmt in node.body:
            self.visit(stmt)  # annotations and decorators are not visited

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._delete(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return  # positions inside f-strings are unreliable before Python 3.12

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return

    # --- statements
    def _delete(self, node: ast.stmt) -> None:
        if id(node) not in self._docstrings:
            self._add(node, "delete", "pass", False)

    def visit_Expr(self, node: ast.Expr) -> None:
        if id(node) in self._docstrings:
            return
        self._delete(node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return
        self._delete(node)
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self._delete(node)
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._delete(node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self._delete(node)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self._add(node, "return-none", "return None", False)
        self._delete(node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._delete(node)
        swap = _AUG_SWAP.get(type(node.op))
        if swap is not None:
            new = copy.deepcopy(node)
            new.op = swap()
            self._add(node, "augassign", new, False)
        self._add(node, "augassign", ast.Assign(targets=[copy.deepcopy(node.target)], value=node.value,
                                                lineno=node.lineno), False)
        self.generic_visit(node)

    def visit_Break(self, node: ast.Break) -> None:
        self._add(node, "loop-jump", "continue", False)

    def visit_Continue(self, node: ast.Continue) -> None:
        self._add(node, "loop-jump", "break", False)

    # --- expressions
    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            swap = _CMP_SWAP.get(type(op))
            if swap is not None:
                new = copy.deepcopy(node)
                new.ops[i] = swap()
                self._add(node, "compare", new)
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self._add(node, "boolop", new)
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self._add(node, "not", node.operand)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        v = node.value
        if isinstance(v, bool):
            self._add(node, "constant", ast.Constant(not v), False)
        elif isinstance(v, int):
            self._add(node, "constant", ast.Constant(v + 1), v + 1 < 0)
            self._add(node, "constant", ast.Constant(v - 1), v - 1 < 0)
        elif isinstance(v, str) and v:
            self._add(node, "constant", ast.Constant(""), False)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        sl = node.slice
        bounds = [sl.lower, sl.upper] if isinstance(sl, ast.Slice) else [sl]
        for b in bounds:
            if b is None or isinstance(b, (ast.Tuple, ast.Slice)):
                continue
            if isinstance(b, ast.Constant) and not isinstance(b.value, int):
                continue  # a dict key such as d["name"]: the constant operator covers it
            for op in (ast.Add(), ast.Sub()):
                self._add(b, "index", ast.BinOp(left=copy.deepcopy(b), op=op, right=ast.Constant(1)))
        self.generic_visit(node)


def find_mutants(text: str, file: str) -> list[Mutant]:
    """Every mutant of ``text`` (the content of ``file``), in source order."""
    tree = ast.parse(text)
    finder = _Finder()
    finder.visit(tree)
    offsets = _line_offsets(text)
    lines = text.splitlines()
    out: list[Mutant] = []
    seen: set[tuple[int, int, str]] = set()
    for node, op, new, paren in finder.points:
        lineno = getattr(node, "lineno", None)
        end_lineno = getattr(node, "end_lineno", None)
        if lineno is None or end_lineno is None:
            continue
        if "pragma: no mutate" in lines[lineno - 1]:
            continue
        start = offsets[lineno - 1] + _char_col(lines[lineno - 1], node.col_offset)  # type: ignore[attr-defined]
        end = offsets[end_lineno - 1] + _char_col(lines[end_lineno - 1], node.end_col_offset)  # type: ignore[attr-defined]
        rendered = new if isinstance(new, str) else ast.unparse(new)
        if paren:
            rendered = f"({rendered})"
        if text[start:end] == rendered or (start, end, rendered) in seen:
            continue
        seen.add((start, end, rendered))
        mutated = text[:start] + rendered + text[end:]
        line_start = offsets[lineno - 1]
        line_end = mutated.find("\n", line_start)
        out.append(Mutant(file=file, line=lineno, operator=op, start=start, end=end, replacement=rendered,
                          original_line=lines[lineno - 1],
                          mutated_line=mutated[line_start: line_end if line_end >= 0 else len(mutated)]))
    out.sort(key=lambda m: (m.start, m.operator, m.replacement))
    seen_keys: dict[tuple[str, str, str], int] = {}
    for n, m in enumerate(out):
        k = (m.operator, m.original_line.strip(), m.mutated_line.strip())
        if k in seen_keys:
            out[n] = dataclasses.replace(m, occurrence=seen_keys[k])
        seen_keys[k] = seen_keys.get(k, 0) + 1
    return out


def _char_col(line: str, byte_col: int) -> int:
    """AST columns are UTF-8 byte offsets; convert to a character offset."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def iter_valid(mutants: list[Mutant], text: str) -> Iterator[Mutant]:
    """The mutants whose text still compiles (a rendering that does not parse is dropped)."""
    for m in mutants:
        try:
            compile(m.apply(text), m.file, "exec", dont_inherit=True)
        except SyntaxError:
            continue
        yield m
