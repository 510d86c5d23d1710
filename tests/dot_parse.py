"""A small parser for the DOT that ``archspec diagram`` writes: nodes, edges, clusters, attributes.

It reads the subset the ``graphviz`` package emits (``digraph``, ``subgraph``, node and
edge statements, ``graph``/``node``/``edge`` defaults, ``key=value`` statements), with
quoted strings unescaped as Graphviz reads them (``\\"`` is a quote, ``\\\\`` a backslash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(r'\s*(?:("(?:\\.|[^"\\])*")|(->|--|[{}\[\]=;,])|([^\s{}\[\]=;,"]+))', re.S)


@dataclass
class Cluster:
    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    """Nodes declared directly in this cluster."""
    children: list[Cluster] = field(default_factory=list)

    def all_nodes(self) -> list[str]:
        return self.nodes + [n for c in self.children for n in c.all_nodes()]


@dataclass
class Dot:
    name: str
    attrs: dict[str, str]
    nodes: dict[str, dict[str, str]]
    edges: list[tuple[str, str, dict[str, str]]]
    root: Cluster
    clusters: dict[str, Cluster]
    parent: dict[str, str]
    """Node -> the innermost cluster that declares it ('' for the top level)."""
    same_rank: list[list[str]] = field(default_factory=list)
    """The nodes of each ``{rank=same; a; b;}`` group."""

    def label(self, node: str) -> list[str]:
        return self.nodes[node].get("label", node).split("\n")

    def edges_into(self, node: str) -> list[tuple[str, str, dict[str, str]]]:
        return [e for e in self.edges if e[1] == node]


def _tokens(text: str) -> list[str | tuple[str]]:
    out: list[str | tuple[str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot tokenize DOT at {pos}: {text[pos : pos + 40]!r}")
        quoted, punct, bare = match.groups()
        if quoted is not None:
            out.append(_unquote(quoted))
        elif punct is not None:
            out.append((punct,))
        else:
            out.append(bare)
        pos = match.end()
    return out


def _unquote(token: str) -> str:
    body = token[1:-1]
    result, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            result.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            result.append(ch)
            i += 1
    return "".join(result)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.nodes: dict[str, dict[str, str]] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.clusters: dict[str, Cluster] = {}
        self.parent: dict[str, str] = {}
        self.same_rank: list[list[str]] = []

    def peek(self) -> str | tuple[str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str | tuple[str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, punct: str) -> None:
        tok = self.take()
        assert tok == (punct,), f"expected {punct!r}, got {tok!r} at token {self.i}"

    def id(self) -> str:
        tok = self.take()
        assert isinstance(tok, str), f"expected an id, got {tok!r}"
        return tok

    def attr_list(self) -> dict[str, str]:
        attrs: dict[str, str] = {}
        while self.peek() == ("[",):
            self.take()
            while self.peek() != ("]",):
                key = self.id()
                self.expect("=")
                attrs[key] = self.id()
                if self.peek() in ((",",), (";",)):
                    self.take()
            self.take()
        return attrs

    def parse(self) -> Dot:
        kind = self.id()
        if kind == "strict":
            kind = self.id()
        assert kind == "digraph", kind
        name = self.id() if self.peek() != ("{",) else ""
        root = Cluster("")
        graph_attrs: dict[str, str] = {}
        self.expect("{")
        self.body(root, graph_attrs)
        assert self.peek() is None, "trailing tokens after the graph"
        return Dot(name, graph_attrs, self.nodes, self.edges, root, self.clusters, self.parent, self.same_rank)

    def body(self, cluster: Cluster, attrs: dict[str, str]) -> None:
        while True:
            tok = self.peek()
            if tok == ("}",):
                self.take()
                return
            if tok == (";",):
                self.take()
                continue
            if tok == ("{",):  # an anonymous group: only ``{rank=same; "a"; "b";}`` is written
                self.take()
                self.same_rank.append(self.rank_group())
                continue
            if tok == "subgraph":
                self.take()
                sub = Cluster(self.id())
                self.expect("{")
                self.body(sub, sub.attrs)
                cluster.children.append(sub)
                self.clusters[sub.name] = sub
                continue
            if tok in ("graph", "node", "edge") and self.toks[self.i + 1] == ("[",):
                self.take()
                defaults = self.attr_list()
                if tok == "graph":
                    attrs.update(defaults)
                continue
            name = self.id()
            if self.peek() == ("=",):
                self.take()
                attrs[name] = self.id()
            elif self.peek() == ("->",):
                self.take()
                target = self.id()
                attrs = self.attr_list()  # ``dir=back`` is drawn reversed: the data flows target -> name
                self.edges.append((target, name, attrs) if attrs.get("dir") == "back" else (name, target, attrs))
            else:
                assert name not in self.nodes, f"node {name!r} declared twice"
                self.nodes[name] = self.attr_list()
                cluster.nodes.append(name)
                self.parent[name] = cluster.name

    def rank_group(self) -> list[str]:
        assert self.take() == "rank" and self.take() == ("=",) and self.take() == "same"
        names: list[str] = []
        while (tok := self.take()) != ("}",):
            if tok != (";",):
                assert isinstance(tok, str) and tok in self.nodes, f"rank=same names an undeclared node {tok!r}"
                names.append(tok)
        return names


def parse_dot(text: str) -> Dot:
    """Parse DOT text written by archspec (raises AssertionError/ValueError on anything else)."""
    return _Parser(text).parse()
