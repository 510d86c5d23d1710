"""JSON Schema (draft 2020-12) generated from the Pydantic models, never written by hand.

``schemas/archspec.schema.json`` is this output, committed so editors can use it
(``# yaml-language-server: $schema=...``). The same file ships inside the package
(``archspec/spec/archspec.schema.json``) so that ``validate`` loads it instead of
regenerating it on every run; tests fail when either copy is stale. Plug-in layers
change the schema, so with plug-ins registered it is generated.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from archspec.layers.registry import only_builtin_layers, registry_version
from archspec.spec import models

SCHEMA_ID = "https://archspec.dev/schemas/archspec.schema.json"
PACKAGED_SCHEMA = Path(__file__).with_name("archspec.schema.json")


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
        **models.Spec.model_json_schema(),
    }


def schema_text() -> str:
    return json.dumps(generated_schema(), indent=2, sort_keys=False) + "\n"


@cache
def _validator(version: int) -> Any:
    from jsonschema import Draft202012Validator, validators

    schema = spec_schema()
    keywords = _Keywords(schema.get("$defs", {}))
    # YAML's 64.0 is a float: an "integer" only to JSON Schema's number model, never to Pydantic's StrictInt
    types = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_exact_integer)
    checker = validators.extend(
        Draft202012Validator, {"oneOf": keywords.one_of, "properties": keywords.properties}, type_checker=types
    )
    return checker(schema)


def _is_exact_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


class _Keywords:
    """Two exact shortcuts for ``oneOf`` and ``properties`` so validation is linear and cheap.

    * A ``oneOf`` with Pydantic's ``discriminator`` mapping: every branch pins the tag with
      ``const``, so only the mapped branch can match; validating just that branch gives the
      same answer as trying all ~70 layer schemas. Other ``oneOf`` branches whose ``required``
      keys are absent from the instance cannot match and are skipped.
    * ``properties``: each property is checked against its own subschema independently, so a
      (subschema, scalar value) pair that validated once validates again; it is remembered.
    """

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.valid: set[tuple[int, type, Any]] = set()

    def one_of(self, validator: Any, one_of: list[Any], instance: Any, schema: dict[str, Any]) -> Any:
        from jsonschema import ValidationError
        from jsonschema._keywords import oneOf

        if not isinstance(instance, dict):
            yield from oneOf(validator, one_of, instance, schema)
            return
        discriminator = schema.get("discriminator")
        if discriminator:
            tag = instance.get(discriminator["propertyName"])
            ref = discriminator.get("mapping", {}).get(tag) if isinstance(tag, str) else None
            if ref is None:
                yield ValidationError(f"{tag!r} is not a known '{discriminator['propertyName']}'")
                return
            yield from validator.descend(instance, {"$ref": ref})
            return
        possible = [branch for branch in one_of if self._may_match(branch, instance)]
        yield from oneOf(validator, possible or one_of, instance, {**schema, "oneOf": possible or one_of})

    def _may_match(self, branch: dict[str, Any], instance: dict[str, Any]) -> bool:
        ref = branch.get("$ref", "")
        target = self.definitions.get(ref.removeprefix("#/$defs/"), branch) if ref.startswith("#/$defs/") else branch
        return all(key in instance for key in target.get("required", ()))

    def properties(self, validator: Any, properties: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Any:
        if not isinstance(instance, dict):
            return
        for name, subschema in properties.items():
            if name not in instance:
                continue
            value = instance[name]
            key = (id(subschema), type(value), value) if isinstance(value, int | float | str | bool | None) else None
            if key is not None and key in self.valid:
                continue
            errors = list(validator.descend(value, subschema, path=name, schema_path=name))
            if key is not None and not errors:
                self.valid.add(key)
            yield from errors


def schema_validator() -> Any:
    """A cached jsonschema validator for the current registry."""
    return _validator(registry_version())
