"""The safe expression evaluator: what it computes, and what it refuses."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archspec.frontend.budget import Budget
from archspec.frontend.expressions import ExpressionError, evaluate, names_in, substitute


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("width * 2", 128),
        ("width // 3 + 1", 22),
        ("2 if i == 0 else 1", 2),
        ("[64, 128, 256][i + 1]", 128),
        ("stride != 1 or width != 64", False),
        ("min(width, 32) + max(1, 2)", 34),
        ("len(stages)", 3),
        ("stages[2][1]", 6),
        ("-width", -64),
        ("not flag", False),
        ("1 < width <= 64", True),
        ("'conv' + 'x'", "convx"),
        ("width / 2", 32.0),
        ("2 ** 10", 1024),
        ("range(3)", [0, 1, 2]),
    ],
)
def test_evaluates(text: str, expected: object) -> None:
    scope = {"width": 64, "i": 0, "stride": 1, "stages": [[1, 2], [3, 4], [5, 6]], "flag": True}
    assert evaluate(text, scope) == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "width.__class__",
        "open('x')",
        "[x for x in range(3) for y in range(10 ** 4)]",
        "width.real",
        "str(width)",
        "min(a=1)",
        "lambda: 1",
        "10 ** 10 ** 10",
        "2 ** 100000",
        "[0] * 10 ** 9",
        "range(10 ** 9)",
        "undefined + 1",
        "1 / 0",
        "[1, 2][5]",
        "'a' * 10 ** 8",
        "(" * 500 + "1" + ")" * 500,
        "x" * 2000,
        "width[1:2]",
        "",
    ],
)
def test_refuses(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, {"width": 64})


def test_substitute_keeps_types_and_interpolates() -> None:
    scope = {"w": 32, "i": 2}
    assert substitute("${w * 2}", scope) == 64
    assert substitute("conv${i}", scope) == "conv2"
    assert substitute(["${w}", 3, "a${i}b${w}"], scope) == [32, 3, "a2b32"]
    assert substitute(7, scope) == 7
    assert substitute("plain", scope) == "plain"


def test_unknown_name_suggests() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("widht * 2", {"width": 1})
    assert info.value.hint == "did you mean 'width'?"


@given(st.integers(-(2**60), 2**60), st.integers(-(2**60), 2**60))
def test_integer_arithmetic_matches_python(a: int, b: int) -> None:
    scope = {"a": a, "b": b}
    assert evaluate("a + b * 2 - a", scope) == a + b * 2 - a
    if b:
        assert evaluate("a // b", scope) == a // b
        assert evaluate("a % b", scope) == a % b


@given(st.text(max_size=40))
def test_never_raises_anything_but_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(text, {"x": 3})


MAPPINGS = {"stem": {"channels": 32, "kernel": [7, 7]}, "widths": [64, 128, 256], "i": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stem.channels", 32),
        ("stem['channels'] * 2", 64),
        ("stem.kernel[0]", 7),
        ("len(stem)", 2),
        ("'channels' in stem", True),
        ("{'a': i}['a']", 1),
        ("[c * 2 for c in widths]", [128, 256, 512]),
        ("[i for i in range(4) if i % 2]", [1, 3]),  # the comprehension's i hides the parameter i
        ("[a * b for a in range(1, 3) for b in range(a, 3)]", [1, 2, 4]),
        ("[k for k in stem]", ["channels", "kernel"]),
        ("[[x, y] for x, y in [[1, 2], [3, 4]]]", [[1, 2], [3, 4]]),
        ("widths[1:]", [128, 256]),
        ("i", 1),
    ],
)
def test_mappings_and_comprehensions(text: str, expected: object) -> None:
    assert evaluate(text, MAPPINGS) == expected


def test_substitute_recurses_into_mappings() -> None:
    assert substitute({"c": "${w}", "k": ["${w // 2}", "x${w}"]}, {"w": 8}) == {"c": 8, "k": [4, "x8"]}


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("stem.chanels", "the mapping has no key 'chanels'", "did you mean 'channels'?"),
        ("widths.size", "'.size' reads a key of a mapping, but this is a list", "attribute syntax"),
        ("stem[0]", "mapping keys are strings", "m['key']"),
        ("widths['a']", "cannot index a list with a string", "with an integer"),
        ("[x for x in 3]", "cannot loop over a number", "range(...)"),
        ("open('f')", "'open' is not a function expressions can call", "min, max"),
    ],
)
def test_mapping_and_comprehension_errors_say_the_fix(text: str, message: str, hint: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(text, MAPPINGS)
    assert message in str(info.value)
    assert hint in (info.value.hint or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("round(1, -10 ** 70)", "round()'s digits must be an integer within"),
        ("'%2147483648d' % 1", "string formatting with '%' is not supported"),
        ("(-1) ** 0.5", "complex number"),
        ("1j", "complex numbers"),
        ("1e308 * 10", "not a finite number (inf)"),
        ("1e999", "not a finite number (inf)"),
        ("2.0 ** 10000", "too large for a float"),
        ("10 ** 78", "more than 256 bits"),
        ("[[0] * 100] * 101", "builds more than 10,000 elements"),
        ("[[x] * 100 for x in range(101)]", "more than 10,000 elements"),
        ("[0 for x in range(10000) for y in range(10000) if 0]", "more than 100,000 steps"),
        ("big == big", "more than 10,000 elements"),
        ("range(10 ** 9)", "range() of 1,000,000,000 items"),
        ("min(" * 101 + "1" + ")" * 101, "nests deeper than 100 levels"),
        ("-" * 150 + "1", "nests deeper than 100 levels"),
        ("deep == deep", "nested deeper than 64 levels"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, got 3"),
        ("int('9' * 200)", "int() of a string of more than 100 characters"),
    ],
)
def test_bounded_work(text: str, message: str) -> None:
    deep: list[object] = []
    for _ in range(100):
        deep = [deep]
    scope = {"big": [[[0] * 50] * 50] * 5, "deep": deep}
    with pytest.raises(ExpressionError) as info:
        evaluate(text, scope)
    assert message in str(info.value)


def test_sizes_compound_through_parameters_but_stay_bounded() -> None:
    """Each parameter stays under the limit; the one that would pass it is refused."""
    scope: dict[str, object] = {"x": 0}
    scope["a"] = evaluate("[x] * 100", scope)
    scope["b"] = evaluate("[a] * 60", scope)  # 6,000 elements
    with pytest.raises(ExpressionError, match="builds more than 10,000 elements"):
        evaluate("[b] * 2", scope)
    with pytest.raises(ExpressionError, match="becomes 18,121 characters; the limit is 10,000"):
        substitute("v${b}", scope)  # 6,000 elements written as "0, 0, ..."
    with pytest.raises(ExpressionError, match="cannot be written into text"):
        substitute("v${c}", {"c": [0] * 20_000})  # a parameter read from YAML


def test_a_bigger_budget_allows_more() -> None:
    budget = Budget(max_value_size=20_000, max_expression_steps=400_000)
    assert len(evaluate("range(15000)", {}, budget=budget)) == 15_000
    with pytest.raises(ExpressionError):
        evaluate("range(15000)", {})


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("conv${i + 1}", {"i"}),
        ("${[c * k for c in widths if c > low]}", {"widths", "low", "k"}),
        ("${stem.channels + min(a, b)}", {"stem", "a", "b"}),
        (["${a}", {"x": "${b}"}, 3, "plain"], {"a", "b"}),
        ("${x for}", set()),
        ("${[i for i in range(n)]}", {"n"}),
        ("${True and None}", set()),
    ],
)
def test_names_in(value: object, names: set[str]) -> None:
    assert names_in(value) == names
