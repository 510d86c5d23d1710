"""The committed JSON Schema is current, standard draft 2020-12, and agrees with the Pydantic models.

Standard tools read it with one error per mistake: Python's jsonschema, check-jsonschema,
ajv in strict mode and the YAML language server (the last two where node and npm are installed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis_profiles import examples
from jsonschema import Draft202012Validator, validators
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from spec_mutations import mutated_specs

from archspec.frontend import schema as schema_module
from archspec.frontend.models import Spec, node_kind
from archspec.frontend.schema import StandardJsonSchema, schema_text, schema_validator, spec_schema
from archspec.layers.base import Layer, LayerResult, PositiveInt, Shape
from archspec.layers.registry import register

ROOT = Path(__file__).parent.parent
SCHEMA_FILES = [ROOT / "schemas" / "archspec.schema.json", ROOT / "archspec" / "frontend" / "archspec.schema.json"]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
LENET = ROOT / "specs" / "lenet5.yaml"
AJV_STRICT = ("--spec=draft2020", "--strict=true")
"""ajv's draft 2020-12 mode, every strict check an error (unknown keywords, types, required, tuples)."""


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILES[1].read_text() == schema_text(), "run `make schema` to regenerate it"


def test_the_schema_is_committed_once() -> None:
    """``schemas/`` (where specs and editors point) is a link to the copy the package ships."""
    assert SCHEMA_FILES[0].is_symlink() and not SCHEMA_FILES[1].is_symlink()
    assert SCHEMA_FILES[0].resolve() == SCHEMA_FILES[1].resolve()


def test_spec_schema_is_the_packaged_copy_when_no_plugin_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path / "archspec.schema.json"
    packaged.write_text(json.dumps({**json.loads(SCHEMA_FILES[1].read_text()), "title": "from the package"}))
    monkeypatch.setattr(schema_module, "PACKAGED_SCHEMA", packaged)
    schema_module._schema.cache_clear()
    try:
        assert spec_schema()["title"] == "from the package"
    finally:
        schema_module._schema.cache_clear()


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(spec_schema())
    assert spec_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_layer_has_its_own_argument_schema() -> None:
    from archspec.layers.registry import layer_types

    definitions = spec_schema()["$defs"]
    for name, cls in layer_types().items():
        schema = definitions[cls.__name__]
        assert schema["properties"]["type"]["const"] == name
        assert schema["additionalProperties"] is False


def test_the_layer_type_selects_its_branch_with_if_then() -> None:
    from archspec.layers.registry import layer_types

    layer = spec_schema()["$defs"]["Layer"]["else"]  # "then": a type that is an expression
    assert layer["properties"]["type"]["enum"] == sorted(layer_types())
    selected = {branch["if"]["properties"]["type"]["const"]: branch["then"]["$ref"] for branch in layer["allOf"]}
    assert selected == {name: f"#/$defs/{cls.__name__}" for name, cls in layer_types().items()}


def test_only_standard_keywords() -> None:
    """No OpenAPI ``discriminator`` (strict validators refuse it), no ``oneOf`` (it multiplies errors)."""
    text = schema_text()
    assert '"discriminator"' not in text
    assert '"oneOf"' not in text


def pydantic_valid(data: Any) -> bool:
    try:
        Spec.model_validate(data)
    except ValidationError:
        return False
    return True


def schema_valid(data: Any) -> bool:
    """The JSON Schema as archspec runs it (draft 2020-12; integers are exact, so 64.0 is not one)."""
    return schema_validator().is_valid(data)


_REMEMBERING: dict[int, tuple[Any, Any]] = {}


def remembering_validator() -> Any:
    """``schema_validator()`` that remembers which (``allOf``, instance) pairs passed, and skips them when met again.

    The agreement test's specs are the shipped ones with one to three edits, so nearly every layer it
    checks is one it checked before: jsonschema's ``allOf`` of ~150 ``if``/``then`` branches per layer was
    90% of its time. Exact, not sampled: the schema has no ``$dynamicRef`` and no ``unevaluated*``, so
    whether an instance passes a subschema depends on those two alone, and only passes are remembered
    (a failure is evaluated again, with its errors). Instances are told apart by their JSON text with
    sorted keys (``1``, ``1.0`` and ``true`` stay apart); one that has no JSON text is never remembered.
    """
    base = schema_validator()
    if id(base) not in _REMEMBERING:  # one per schema: a test that registers a layer gets a new one
        all_of = type(base).VALIDATORS["allOf"]
        passed: set[tuple[int, str]] = set()

        def remembered_all_of(validator: Any, subschemas: Any, instance: Any, schema: Any) -> Any:
            try:
                key = (id(subschemas), json.dumps(instance, sort_keys=True, allow_nan=False))
            except (TypeError, ValueError):
                yield from all_of(validator, subschemas, instance, schema)
                return
            if key in passed:
                return
            for error in all_of(validator, subschemas, instance, schema):
                yield error
                return  # is_valid stops at the first error; this instance did not pass
            passed.add(key)

        remembering = validators.extend(type(base), validators={"allOf": remembered_all_of})(base.schema)
        _REMEMBERING[id(base)] = (base, remembering)
    return _REMEMBERING[id(base)][1]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_both_accept_shipped_specs(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert pydantic_valid(data) and schema_valid(data)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_json_schema_and_pydantic_agree(data: Any) -> None:
    assert pydantic_valid(data) == remembering_validator().is_valid(data), json.dumps(data)[:2000]


@pytest.mark.parametrize(
    "train", [{"lr": 0}, {"lr": -1}, {"weight_decay": -0.5}, {"normalize": {"mean": [0.5], "std": [0]}}]
)
def test_bounded_numbers_are_enforced_by_the_json_schema_too(train: dict[str, Any]) -> None:
    data = {**yaml.safe_load(SPECS[0].read_text()), "train": train}
    assert not pydantic_valid(data)
    assert not schema_valid(data)


def test_an_integral_float_is_not_an_integer() -> None:
    data = yaml.safe_load(SPECS[0].read_text())
    data["layers"][0]["layers"][0]["out_channels"] = 64.0
    assert not pydantic_valid(data)
    assert not schema_valid(data)


class Cat(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["dog"]
    good: bool = True


def test_any_tagged_union_of_the_models_becomes_if_then() -> None:
    """Generic: a discriminated union anywhere (a future one too) is standard and gives one error per mistake."""
    pet = TypeAdapter(Annotated[Cat | Dog, Field(discriminator="kind")])
    schema = pet.json_schema(schema_generator=StandardJsonSchema)
    assert "discriminator" not in json.dumps(schema) and "oneOf" not in json.dumps(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"kind": "dog", "good": False})
    assert [e.message for e in validator.iter_errors({"kind": "dog", "lives": 3})] == [
        "Additional properties are not allowed ('lives' was unexpected)"
    ]
    assert [e.message for e in validator.iter_errors({"kind": "cow"})] == ["'cow' is not one of ['cat', 'dog']"]


def lenet_with(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = yaml.safe_load(LENET.read_text())
    edit(data)
    return data


def first_conv(data: dict[str, Any]) -> dict[str, Any]:
    conv: dict[str, Any] = data["layers"][0]["layers"][0]
    assert conv["type"] == "Conv2d"
    return conv


def misspell_kernel_size(data: dict[str, Any]) -> None:
    conv = first_conv(data)
    conv["kernal_size"] = conv.pop("kernel_size")


def schema_errors(data: Any) -> list[tuple[list[Any], str]]:
    return [(list(error.absolute_path), error.message) for error in schema_validator().iter_errors(data)]


def test_a_misspelt_argument_is_named_as_the_one_unexpected_property() -> None:
    errors = schema_errors(lenet_with(misspell_kernel_size))
    assert errors == [
        (["layers", 0, "layers", 0], "Additional properties are not allowed ('kernal_size' was unexpected)"),
        (["layers", 0, "layers", 0], "'kernel_size' is a required property"),
    ]


def test_a_misspelt_optional_argument_is_one_error() -> None:
    data = lenet_with(lambda data: first_conv(data).update(paddng=first_conv(data).pop("padding")))
    assert schema_errors(data) == [
        (["layers", 0, "layers", 0], "Additional properties are not allowed ('paddng' was unexpected)")
    ]


@pytest.mark.parametrize(
    ("node", "path", "message"),
    [
        ({"type": "Flaten"}, ["type"], "'Flaten' is not one of ['AdaptiveAvgPool1d', "),
        ({"type": 3}, ["type"], "3 is not one of ['AdaptiveAvgPool1d', "),
        ({"id": "flatten"}, [], "'type' is a required property"),
        (5, [], "5 is not of type 'object'"),
        ({"layers": [{"type": "ReLU"}], "type": "ReLU"}, [], "Additional properties are not allowed ('type' was"),
    ],
    ids=["unknown-type", "int-type", "no-type", "not-a-mapping", "group-with-type"],
)
def test_a_bad_node_is_one_error(node: Any, path: list[Any], message: str) -> None:
    errors = schema_errors(lenet_with(lambda data: data["layers"].__setitem__(1, node)))
    assert len(errors) == 1, errors
    assert errors[0][0] == ["layers", 1, *path]
    assert errors[0][1].startswith(message)


@pytest.mark.parametrize(
    ("node", "kind", "valid"),
    [
        ({"use": "B", "layers": [{"type": "ReLU"}], "type": "ReLU"}, "use", True),  # extra keys: block parameters
        ({"use": "B", "type": "Conv2d"}, "use", True),
        ({"layers": [{"type": "ReLU"}], "type": "ReLU"}, "group", False),
        ({"layers": [{"type": "ReLU"}], "inline": True}, "group", True),
        ({"type": "ReLU", "inline": True}, "layer", False),
        ({"type": "ReLU"}, "layer", True),
    ],
)
def test_node_kinds_are_selected_as_pydantic_selects_them(node: dict[str, Any], kind: str, valid: bool) -> None:
    """``use`` wins over ``layers``, which wins over a layer: the order of ``models.node_kind``."""
    assert node_kind(node) == kind
    data = lenet_with(lambda data: data["layers"].__setitem__(1, node))
    data["blocks"] = {"B": {"layers": [{"type": "ReLU"}]}}
    assert pydantic_valid(data) == schema_valid(data) == valid


@pytest.mark.usefixtures("scratch_registry")
def test_a_layer_registered_later_is_in_the_schema_even_named_like_a_generated_definition() -> None:
    @register
    class Node(Layer):
        """Keeps the shape (a test layer whose class name the schema also wants for the node union)."""

        family = "activation"
        type: Literal["TestSquash"]
        power: PositiveInt = 2

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult(inputs[0])

    schema = spec_schema()
    layer = schema["$defs"]["Layer"]["else"]
    assert "TestSquash" in layer["properties"]["type"]["enum"]
    assert {"$ref": "#/$defs/Node"} in [branch["then"] for branch in layer["allOf"]]
    assert schema["$defs"]["Node"]["properties"]["type"]["const"] == "TestSquash"
    assert schema["properties"]["layers"]["items"] == {"$ref": "#/$defs/Node_"}
    good = lenet_with(lambda data: data["layers"].insert(1, {"type": "TestSquash", "power": 3}))
    assert schema_errors(good) == []
    bad = lenet_with(lambda data: data["layers"].insert(1, {"type": "TestSquash", "powr": 3}))
    assert schema_errors(bad) == [(["layers", 1], "Additional properties are not allowed ('powr' was unexpected)")]


def run_tool(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=60)


def test_check_jsonschema_names_the_one_unexpected_property(tmp_path: Path) -> None:
    spec = tmp_path / "typo.yaml"
    spec.write_text(yaml.safe_dump(lenet_with(misspell_kernel_size), sort_keys=False))
    result = run_tool(sys.executable, "-m", "check_jsonschema", "--schemafile", SCHEMA_FILES[0], spec, LENET)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line.strip() for line in result.stdout.splitlines() if "::$" in line]
    assert errors == [
        f"{spec}::$.layers[0].layers[0]: Additional properties are not allowed ('kernal_size' was unexpected)",
        f"{spec}::$.layers[0].layers[0]: 'kernel_size' is a required property",
    ], result.stdout
    assert "other errors" not in result.stdout


def node_modules() -> Path:
    """The npm packages ``make setup`` installs under the venv (ajv-cli, the YAML language server)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the JavaScript schema tools cannot run here")
    modules = Path(sys.prefix) / "node" / "node_modules"
    for package in ("ajv-cli", "yaml-language-server", "vscode-languageserver-textdocument"):
        if not (modules / package).is_dir():
            pytest.fail(f"{package} is not installed in {modules.parent}: run `make setup`")
    return modules


def ajv_command() -> Path:
    return node_modules() / ".bin" / "ajv"


def as_json(data: Any, path: Path) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_ajv_strict_accepts_every_shipped_spec_and_names_the_one_unexpected_property(tmp_path: Path) -> None:
    """One ajv run (compiling the schema is most of its time): the shipped specs, then a typo."""
    specs = [as_json(yaml.safe_load(spec.read_text()), tmp_path / f"{spec.stem}.json") for spec in SPECS]
    typo = as_json(lenet_with(misspell_kernel_size), tmp_path / "typo.json")
    data = [arg for spec in [*specs, typo] for arg in ("-d", spec)]
    result = run_tool(
        ajv_command(), "validate", *AJV_STRICT, "--all-errors", "--errors=json", "-s", SCHEMA_FILES[0], *data
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "strict mode" not in result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{spec} valid" for spec in specs]
    assert result.stderr.startswith(f"{typo} invalid\n"), result.stderr
    errors = json.loads(result.stderr[result.stderr.index("[") :])
    unexpected = [
        (e["instancePath"], e["params"]["additionalProperty"]) for e in errors if e["keyword"] == "additionalProperties"
    ]
    assert unexpected == [("/layers/0/layers/0", "kernal_size")]
    assert {e["instancePath"] for e in errors} <= {"/layers/0/layers/0", "/layers/0"}  # the node and its `if` parents


def test_the_yaml_language_server_shows_the_one_unexpected_property(tmp_path: Path) -> None:
    """What an editor shows, the schema found through the spec's own ``# yaml-language-server`` line."""
    modules = node_modules()
    typo = tmp_path / "typo.yaml"
    modeline = LENET.read_text().splitlines()[0].replace("../schemas", str(ROOT / "schemas"))
    typo.write_text(modeline + "\n" + yaml.safe_dump(lenet_with(misspell_kernel_size), sort_keys=False))
    result = subprocess.run(
        ["node", ROOT / "tests" / "yaml_language_server.js", typo, LENET],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(modules)},
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found[str(LENET)] == []
    assert [diagnostic["message"] for diagnostic in found[str(typo)]] == [
        'Missing property "kernel_size".',
        "Property kernal_size is not allowed.",
    ]


def test_a_layer_type_from_an_expression_is_checked_as_a_deferred_layer() -> None:
    deferred = lenet_with(lambda data: data["layers"].insert(1, {"type": "${act}", "inplace": True}))
    assert pydantic_valid(deferred) and schema_errors(deferred) == []
    bad_id = lenet_with(lambda data: data["layers"].insert(1, {"type": "${act}", "id": [1]}))
    assert not pydantic_valid(bad_id) and schema_errors(bad_id)
