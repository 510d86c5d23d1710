"""The quick checker (archspec/frontend/quick.py) agrees with Pydantic.

Whatever it accepts, Pydantic accepts with an equal instance (same values, same Python
types, same fields set); whatever it rejects, Pydantic rejects. Inputs are drawn per
registered layer type from its own fields (their literals, bounds and edge values), and as
shipped specs with random edits for the spec models. The shipped specs themselves must take
the quick path all the way: valid specs never pay for building a Pydantic validator.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from pydantic import BaseModel, ValidationError
from spec_mutations import mutated_specs

from archspec.frontend import models, quick
from archspec.layers.registry import layer_types

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

SCALARS = [
    None, True, False, 0, 1, 2, 3, -1, 7, 2**31 - 1, 2**31, -(2**31), 2**70,
    0.0, 0.5, 1.0, 2.0, -0.25, 1e-5, 1e300, float("nan"), float("inf"),
    "", "x", "same", "valid", "zeros", "${x}", "${x}\n", "${", "a b", "conv1", "block1-0", "nearest",
]  # fmt: skip


def literals(annotation: Any) -> list[Any]:
    """Every ``Literal`` value inside an annotation (the choices a field offers)."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, typing.ForwardRef):
        return []
    return [v for arg in typing.get_args(annotation) for v in literals(arg)]


@functools.cache
def values(choices: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """Scalars, the field's literals, and small lists and mappings of them."""
    likely = st.sampled_from([*choices, 1, 2, 3, 0.5, True, "${x}"])  # mostly valid: the accepting paths
    likely = likely | st.lists(likely, min_size=1, max_size=3)
    scalar = st.sampled_from(SCALARS + list(choices)) | st.integers(-3, 300) | st.floats(-2, 2)
    inner = scalar | st.lists(scalar, max_size=4)
    anything = inner | st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=2)
    return st.one_of(likely, likely, likely, anything)


KEYS = ["count", "as", "x", "query", "key"]


@st.composite
def layer_inputs(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any]]:
    types = layer_types()
    name = draw(st.sampled_from(sorted(types)))
    cls = types[name]
    fields = list(cls.model_fields)
    required = [f for f, info in cls.model_fields.items() if info.is_required()]
    data: dict[str, Any] = {"type": name}
    for field in [*required, *draw(st.lists(st.sampled_from(fields), max_size=3, unique=True))]:
        if field != "type" and field not in data:
            info = cls.model_fields[field]
            default = () if info.default is None or isinstance(info.default, list) else (info.default,)
            data[field] = draw(values((*literals(info.annotation), *default)))
    if draw(st.integers(0, 9)) == 0:
        data[draw(st.sampled_from(["kernal_size", "foo", "as"]))] = 1
    if draw(st.integers(0, 9)) == 0:
        data.pop(draw(st.sampled_from(list(data))))
    return cls, data


def same(a: Any, b: Any) -> bool:
    """Equal, with the same Python types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, BaseModel):
        return (
            same(a.__dict__, b.__dict__)
            and a.model_fields_set == b.model_fields_set
            and same(a.__pydantic_extra__, b.__pydantic_extra__)
            and same(a.__pydantic_private__, b.__pydantic_private__)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    return bool(a == b)


def agree(cls: type[BaseModel], data: Any, context: dict[str, Any] | None) -> str:
    """The quick checker's answer, after checking it against Pydantic's."""
    answer = quick.model_checker(cls)(data, context)
    try:
        expected = cls.model_validate(data, context=context)
    except ValidationError:
        assert answer is quick.REJECT or answer is quick.UNSURE, f"accepted what Pydantic refuses: {data!r}"
        return "reject" if answer is quick.REJECT else "unsure"
    assert answer is not quick.REJECT, f"rejected what Pydantic accepts: {data!r}"
    if answer is quick.UNSURE:
        return "unsure"
    assert same(answer, expected), f"{data!r}: quick made {answer!r}, Pydantic {expected!r}"
    return "accept"


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer_inputs(), st.sampled_from([None, {"resolved": True}]))
def test_layers_agree_with_pydantic(case: tuple[type[BaseModel], dict[str, Any]], context: Any) -> None:
    cls, data = case
    agree(cls, data, context)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_spec_models_agree_with_pydantic(data: Any) -> None:
    """Spec, its inputs, params, blocks, groups, block uses, deferred layers, repeats, train settings."""
    agree(models.Spec, data, None)


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (models.ParamDecl, {"default": 3}),
        (models.ParamDecl, {"choices": [1, 2]}),  # neither default nor type: the model validator refuses
        (models.ParamDecl, {"default": "1_0", "choices": ["1_0", "1_1"], "doc": "version"}),
        (models.InputSpec, {"channels": 3, "size": [32, 32]}),
        (models.InputSpec, {"channels": 3, "shape": [3, 32, 32]}),
        (models.InputSpec, {"shape": [128], "dtype": "int64", "range": [0, 10]}),
        (models.InputSpec, {"shape": [128], "dtype": "int64", "range": [10, 0]}),
        (models.BlockUse, {"use": "B", "channels": "${c}", "inline": True}),
        (models.DeferredLayer, {"type": "${act}", "inplace": True}),
        (models.TrainConfig, {"epochs": 2, "lr": 0.1, "normalize": "none"}),
        (models.TrainConfig, {"resize": 32}),
        (models.Spec, {"archspec": True, "name": "x", "input": {"channels": 1}, "layers": [{"type": "ReLU"}]}),
        (models.Spec, {"archspec": 1, "name": "x\n", "input": {"channels": 1}, "layers": [{"type": "ReLU"}]}),
    ],
)
def test_edge_cases_agree(cls: type[BaseModel], data: Any) -> None:
    agree(cls, data, None)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_shipped_specs_take_the_quick_path(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert agree(models.Spec, data, {models.PLACEHOLDERS: {}}) == "accept"


def test_validating_the_shipped_specs_builds_no_pydantic_validator() -> None:
    """Building a layer's validator costs milliseconds: a valid spec must not need one (issue 9's budget)."""
    script = (
        "import json, sys\n"
        "from archspec.cli import main\n"
        "from archspec.frontend import models\n"
        "from archspec.layers.registry import layer_types\n"
        "code = main(['validate', '-q', *sys.argv[1:]])\n"
        "built = [n for n, c in layer_types().items() if c.__pydantic_complete__]\n"
        "built += [c.__name__ for c in (models.Spec, models.Group, models.BlockUse) if c.__pydantic_complete__]\n"
        "print(json.dumps([code, built]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, SPECS)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    code, built = json.loads(result.stdout.strip().splitlines()[-1])
    assert code == 0 and built == [], result.stderr
