"""The committed JSON Schema is current, valid draft 2020-12, and agrees with the Pydantic models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from spec_mutations import mutated_specs

from archspec.spec import schema as schema_module
from archspec.spec.models import Spec
from archspec.spec.schema import schema_text, schema_validator, spec_schema

ROOT = Path(__file__).parent.parent
SCHEMA_FILES = [ROOT / "schemas" / "archspec.schema.json", ROOT / "archspec" / "spec" / "archspec.schema.json"]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_schema_is_current(path: Path) -> None:
    assert path.read_text() == schema_text(), f"run `make schema` to regenerate {path.relative_to(ROOT)}"


def test_validation_loads_the_packaged_schema_when_no_plugin_registered(
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


def pydantic_valid(data: Any) -> bool:
    try:
        Spec.model_validate(data)
    except ValidationError:
        return False
    return True


def schema_valid(data: Any) -> bool:
    """The JSON Schema as archspec runs it (draft 2020-12; integers are exact, so 64.0 is not one)."""
    return schema_validator().is_valid(data)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_both_accept_shipped_specs(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert pydantic_valid(data) and schema_valid(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_json_schema_and_pydantic_agree(data: Any) -> None:
    assert pydantic_valid(data) == schema_valid(data), json.dumps(data)[:2000]


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
