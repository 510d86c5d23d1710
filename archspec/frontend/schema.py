"""JSON Schema (draft 2020-12) generated from the Pydantic models, never written by hand.

``archspec/frontend/archspec.schema.json`` is this output, committed once and shipped inside the
package; ``schemas/archspec.schema.json`` is a link to it, where editors and tools look
(``# yaml-language-server: $schema=...``, check-jsonschema, ajv). A test fails when it is stale.
Plug-in layers change the schema, so with plug-ins registered it is generated.

Pydantic writes a tagged union as ``oneOf`` plus OpenAPI's ``discriminator``, a keyword
standard validators ignore (ajv in strict mode refuses it). Under ``oneOf`` a typo in one
layer fails all ~70 branches, and tools report every failure. Here each tagged union
becomes one ``if``/``then`` per tag instead, so only the branch the tag names applies and
a misspelt argument gets one error: the unexpected property, named.
"""

from __future__ import annotations

import json
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import core_schema

from archspec.frontend import models
from archspec.layers.registry import only_builtin_layers, registry_version

SCHEMA_ID = "https://archspec.dev/schemas/archspec.schema.json"
PACKAGED_SCHEMA = Path(__file__).with_name("archspec.schema.json")

DEF_NAME = "x-archspec-def"
"""Marks a generated subschema to be moved into ``$defs`` under this name (then removed)."""
_READ_LAST = {"if": 1, "then": 2, "else": 3}


def spec_schema() -> dict[str, Any]:
    """The full JSON Schema of a spec document, for the layers registered now."""
    return _schema(registry_version())


@cache
def _schema(version: int) -> dict[str, Any]:
    if only_builtin_layers():
        try:
            packaged: dict[str, Any] = json.loads(PACKAGED_SCHEMA.read_text(encoding="utf-8"))
            return packaged
        except (OSError, ValueError):
            pass  # a partial install: generating it is slower but just as right
    return generated_schema()


def generated_schema() -> dict[str, Any]:
    """The schema generated afresh from the models (what ``archspec schema`` prints)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **models.Spec.model_json_schema(schema_generator=StandardJsonSchema),
    }


def schema_text() -> str:
    return json.dumps(generated_schema(), indent=2, sort_keys=False) + "\n"


class StandardJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, with tagged unions as standard ``if``/``then`` instead of ``discriminator``."""

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        discriminator = schema["discriminator"]
        if isinstance(discriminator, list) and len(discriminator) == 1 and isinstance(discriminator[0], str):
            discriminator = discriminator[0]
        if not isinstance(discriminator, str) and discriminator is not models.node_kind:
            return super().tagged_union_schema(schema)
        branches = [(_json_value(tag), self.generate_inner(choice)) for tag, choice in schema["choices"].items()]
        if isinstance(discriminator, str):
            return by_tag(discriminator, branches)
        return by_node_kind(dict(branches))

    def generate(self, schema: core_schema.CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        definitions: dict[str, Any] = generated.pop("$defs", {})
        hoist = _Hoist(definitions)
        for name in list(definitions):
            definitions[name] = hoist(definitions[name])
        hoisted = hoist(generated)
        return {"$defs": dict(sorted(definitions.items())), **hoisted}


def by_tag(name: str, branches: list[tuple[Any, JsonSchemaValue]]) -> JsonSchemaValue:
    """Objects whose ``name`` property picks the branch: one enum error for an unknown tag, one branch applied."""
    return {
        "type": "object",
        "required": [name],
        "properties": {name: {"enum": sorted((tag for tag, _ in branches), key=str)}},
        "allOf": [
            {"if": {"type": "object", "properties": {name: {"const": tag}}, "required": [name]}, "then": branch}
            for tag, branch in branches
        ],
    }


def _json_value(tag: Any) -> Any:
    return tag.value if isinstance(tag, Enum) else tag


def by_node_kind(branches: dict[str, JsonSchemaValue]) -> JsonSchemaValue:
    """A node: ``use`` makes a block use, else ``layers`` a group, else a layer (``models.node_kind``).

    Only the conditions name ``type: object``: a node that is not a mapping then falls through
    to the layer branch and gets one error, not one per level.
    """
    selected: JsonSchemaValue = {**branches[models.DEFAULT_NODE_KIND], DEF_NAME: "Layer"}
    for key, kind in reversed(models.NODE_KEYS):
        condition = {"type": "object", "properties": {key: True}, "required": [key]}
        selected = {"if": condition, "then": branches[kind], "else": selected}
    return {
        DEF_NAME: "Node",
        "description": "a layer {type: ...}, a group {layers: [...]} or a block use {use: ...}",
        **selected,
    }


class _Hoist:
    """Moves every subschema marked with ``DEF_NAME`` into ``definitions``, leaving a ``$ref`` to it.

    A model may already own the name (a plug-in layer class called ``Node``): the marked
    schema then takes the name with ``_`` appended until it is free.
    """

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.names: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        items = sorted(value.items(), key=lambda item: _READ_LAST.get(item[0], 0))  # if, then, else: reading order
        hoisted = {key: self(item) for key, item in items if key != DEF_NAME}
        if DEF_NAME not in value:
            return hoisted
        name = self.names.get(value[DEF_NAME])
        if name is None:
            name = value[DEF_NAME]
            while name in self.definitions:
                name += "_"
            self.names[value[DEF_NAME]] = name
            self.definitions[name] = hoisted
        elif self.definitions[name] != hoisted:
            raise AssertionError(f"two different schemas marked {value[DEF_NAME]!r}")
        return {"$ref": f"#/$defs/{name}"}


def schema_validator() -> Any:
    """A standard draft 2020-12 validator of the current schema (for tests: ``validate`` runs Pydantic).

    Integers are exact, as Pydantic's ``StrictInt``: YAML's ``64.0`` is a float, an integer only
    to JSON Schema's number model.
    """
    return _validator(registry_version())


@cache
def _validator(version: int) -> Any:
    from jsonschema import Draft202012Validator, validators

    types = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_exact_integer)
    return validators.extend(Draft202012Validator, type_checker=types)(spec_schema())


def _is_exact_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)
