"""Accept plainly valid data without building Pydantic validators; Pydantic judges the rest.

Pydantic builds a model's validator on first use by generating its core schema in Python:
about 4 ms per layer class, most of ``archspec validate``'s time for a few specs. This
module compiles a small checker from each model's field annotations instead (a few
microseconds per class) that answers, for one input, :data:`ACCEPT` with the model
instance Pydantic would make, :data:`REJECT` when Pydantic certainly refuses it, or
:data:`UNSURE`. Callers use the instance when there is one and otherwise ask Pydantic,
which stays the one authority on errors: every message, position and placeholder of an
invalid spec is Pydantic's, as before, and only valid data takes the quick path.

The checker knows the types the spec language uses (exact ``int``, ``float``, ``bool``,
``str``, ``None``, ``Literal``, ``list``, ``dict``, unions, nested models, the length,
bound and pattern constraints, and the few validator functions archspec defines);
anything else compiles to UNSURE, so a new kind of annotation costs speed, never
correctness. ``tests/test_quick_validation.py`` checks with hypothesis, over every registered
layer type and the spec models, that an accepted input is one Pydantic accepts with an
equal instance (same values, same types, same fields set) and a rejected one is one it refuses.
"""

from __future__ import annotations

import math
import operator
import re
import sys
import types
import typing
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import annotated_types
from pydantic import AllowInfNan, BaseModel, Strict, StringConstraints
from pydantic.fields import FieldInfo
from pydantic.functional_validators import AfterValidator, BeforeValidator

UNSURE: Any = object()
"""Ask Pydantic."""
REJECT: Any = object()
"""Pydantic certainly refuses this input (a union member that does not apply, for instance)."""

Context = dict[str, Any] | None
Check = Callable[[Any, Context], Any]
"""A compiled checker: the validated value, :data:`REJECT` or :data:`UNSURE`."""

_SCALARS = (int, float, bool, str, type(None), list, dict)
"""The Python types YAML data is made of (the loader builds nothing else)."""

_special: dict[Any, Callable[[], Check]] = {}
"""Checkers for annotations this module cannot read from their parts (the spec's node union)."""
_after: dict[Callable[..., Any], Callable[[Any, Context], bool]] = {}
"""Known ``AfterValidator`` functions: whether the (already typed) value passes them."""
_before: dict[Callable[..., Any], Callable[[Any], bool]] = {}
"""Known ``BeforeValidator`` functions: whether the raw value passes them unchanged."""
_checkers: dict[type[BaseModel], Check] = {}


def register_special(annotation: Any, make: Callable[[], Check]) -> None:
    """Check values of ``annotation`` (compared by identity) with ``make()``'s checker."""
    _special[id(annotation)] = make


def register_after(function: Callable[..., Any], passes: Callable[[Any, Context], bool]) -> None:
    """``AfterValidator(function)`` lets a value through exactly when ``passes(value, context)``."""
    _after[function] = passes


def register_before(function: Callable[..., Any], passes: Callable[[Any], bool]) -> None:
    """``BeforeValidator(function)`` returns the value unchanged exactly when ``passes(value)``, else raises."""
    _before[function] = passes


M = TypeVar("M", bound=BaseModel)


def validate(cls: type[M], data: Any, context: Context = None) -> M | None:
    """``cls.model_validate(data, context=context)`` when the quick checker is sure of it; None: ask Pydantic."""
    result = model_checker(cls)(data, context)
    return None if result is UNSURE or result is REJECT else result


def model_validate(cls: type[M], data: Any, context: Context = None) -> M:
    """``cls.model_validate(data, context=context)``, without building Pydantic's validator when the quick
    checker is sure of the input; Pydantic judges (and reports) everything else."""
    found = validate(cls, data, context)
    return cls.model_validate(data, context=context) if found is None else found


def model_checker(cls: type[BaseModel]) -> Check:
    """The compiled checker of a model class (compiled once)."""
    found = _checkers.get(cls)
    if found is None:
        _checkers[cls] = _unsure  # a model that contains itself: unsure while compiling
        found = _checkers[cls] = _compile_model(cls)
    return found


def _unsure(value: Any, context: Context) -> Any:
    return UNSURE


_CONFIG_KEYS = {"extra", "frozen", "defer_build", "title", "json_schema_extra"}
"""``model_config`` keys that do not change what validation accepts or makes."""


def _compile_model(cls: type[BaseModel]) -> Check:
    """A model's checker; a custom validator, ``model_post_init`` or unusual configuration makes it UNSURE
    (private attributes are fine: ``model_construct`` initialises them as validation does)."""
    config = cls.model_config
    decorators = cls.__pydantic_decorators__
    after = [d.cls_var_name for d in decorators.model_validators.values() if d.info.mode == "after"]
    if (
        not set(config) <= _CONFIG_KEYS
        or decorators.field_validators
        or decorators.validators
        or decorators.root_validators
        or len(after) != len(decorators.model_validators)
        or decorators.computed_fields
        or cls.__pydantic_root_model__
        or getattr(cls.model_post_init, "__name__", None) not in ("model_post_init", "init_private_attributes")
    ):
        return _unsure
    fields: dict[str, tuple[str, Check]] = {}
    required: set[str] = set()
    for name, info in cls.model_fields.items():
        if info.validation_alias is not None and info.validation_alias != info.alias:
            return _unsure
        key = info.alias or name
        fields[key] = (name, _compile_field(cls, info))
        if info.is_required():
            required.add(key)
    forbid = config.get("extra") == "forbid"
    allow = config.get("extra") == "allow"
    construct = _constructor(cls, allow)

    def check(value: Any, context: Context) -> Any:
        if type(value) is not dict:
            return REJECT if type(value) in _SCALARS else UNSURE
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        unsure = False
        for key, item in value.items():
            field = fields.get(key) if type(key) is str else None
            if field is None:
                if type(key) is not str:
                    return UNSURE
                if forbid:
                    return REJECT
                if not allow:
                    continue  # ignored, as Pydantic ignores it
                extra[key] = item
                continue
            checked = field[1](item, context)
            if checked is REJECT:
                return REJECT
            if checked is UNSURE:
                unsure = True
            values[field[0]] = checked
        if not required <= value.keys():
            return REJECT
        if unsure:
            return UNSURE
        instance = construct(values, extra)
        for name in after:
            try:
                instance = getattr(instance, name)()
            except Exception:  # Pydantic reports the validator's error
                return REJECT
        return instance

    return check


_IMMUTABLE = frozenset({int, float, bool, str, bytes, type(None)})
"""Defaults Pydantic's ``get_default`` hands out as they are (it copies any other)."""


def _constructor(cls: type[M], allow: bool) -> Callable[[dict[str, Any], dict[str, Any]], M]:
    """``cls.model_construct({*values, *extra}, **values, **extra)`` for fields given by name, with the
    per-field work (aliases, which defaults need a copy or a factory) done once per class, not per node."""
    plan: list[tuple[str, bool, Any, FieldInfo]] = []  # name, required, constant default, field
    for name, info in cls.__pydantic_fields__.items():
        constant = info.default_factory is None and type(info.default) in _IMMUTABLE
        plan.append((name, info.is_required(), info.default if constant else _UNSET, info))
    post_init = cls.__pydantic_post_init__
    private = cls.__private_attributes__
    setattr_ = object.__setattr__

    def construct(values: dict[str, Any], extra: dict[str, Any]) -> M:
        instance = cls.__new__(cls)
        data: dict[str, Any] = {}
        for name, required, default, info in plan:
            if name in values:
                data[name] = values[name]
            elif not required:
                data[name] = (
                    default
                    if default is not _UNSET
                    else info.get_default(call_default_factory=True, validated_data=data)
                )
        setattr_(instance, "__dict__", data)
        setattr_(instance, "__pydantic_fields_set__", {*values, *extra})
        setattr_(instance, "__pydantic_extra__", extra if allow else None)
        setattr_(instance, "__pydantic_private__", None)
        if post_init:
            instance.model_post_init(None)
            if instance.__pydantic_private__ is not None:
                for key, value in extra.items():
                    if key in private:
                        instance.__pydantic_private__[key] = value
        return instance

    return construct


_UNSET: Any = object()


def _compile_field(cls: type[BaseModel], info: FieldInfo) -> Check:
    annotation = info.annotation
    if isinstance(annotation, typing.ForwardRef | str):
        namespace = vars(sys.modules[cls.__module__])
        try:
            annotation = eval(getattr(annotation, "__forward_arg__", annotation), namespace)
        except Exception:
            return _unsure
    if info.discriminator is not None:
        return _unsure
    return _compile(annotation, list(info.metadata))


def _flatten(metadata: list[Any]) -> list[Any]:
    """Metadata with grouped constraints (``StringConstraints``, a nested ``Field``) spread out.

    Exact type tests, not ``isinstance``: ``GroupedMetadata`` is a runtime protocol, slow to test."""
    flat: list[Any] = []
    for item in metadata:
        kind = type(item)
        if kind is FieldInfo:
            if item.discriminator is not None:
                return [_Unsupported()]
            flat += _flatten(list(item.metadata))
        elif kind is StringConstraints or kind is annotated_types.Interval:
            flat += [c for c in item if c is not None]
        else:
            flat.append(item)
    return flat


class _Unsupported:
    """Marks metadata this module does not model."""


def _compile(annotation: Any, metadata: list[Any]) -> Check:
    """The checker of ``Annotated[annotation, *metadata]``; one per annotation object without metadata
    (``Expr`` and ``PositiveInt`` are shared by most fields of most layers)."""
    if metadata:
        return _compile_new(annotation, metadata)
    found = _compiled.get(id(annotation))
    if found is None or found[0] is not annotation:
        found = _compiled[id(annotation)] = (annotation, _compile_new(annotation, []))
    return found[1]


_compiled: dict[int, tuple[Any, Check]] = {}
"""Checkers by ``id()`` of their annotation, which each entry holds so the id is not reused."""


def _compile_new(annotation: Any, metadata: list[Any]) -> Check:
    special = _special.get(id(annotation))
    if special is not None:
        return special() if not metadata else _unsure
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *more = typing.get_args(annotation)
        return _compile(inner, [*more, *metadata])
    metadata = _flatten(metadata)
    strict = False
    bounds: list[Any] = []
    lengths: list[Any] = []
    pattern: re.Pattern[str] | None = None
    finite = False
    union_mode = "smart"
    before: list[Callable[[Any], bool]] = []
    after: list[Callable[[Any, Context], bool]] = []
    for item in metadata:
        if isinstance(item, Strict):
            strict = item.strict
        elif isinstance(item, annotated_types.Ge | annotated_types.Gt | annotated_types.Le | annotated_types.Lt):
            bounds.append(item)
        elif isinstance(item, annotated_types.MinLen | annotated_types.MaxLen):
            lengths.append(item)
        elif isinstance(item, AfterValidator) and item.func in _after:
            after.append(_after[item.func])
        elif isinstance(item, BeforeValidator) and item.func in _before:
            before.append(_before[item.func])
        elif type(item).__name__ == "_PydanticGeneralMetadata":
            settings = {k: v for k, v in vars(item).items() if v is not None}
            if "pattern" in settings:
                pattern = re.compile(settings.pop("pattern"))
            if settings.pop("allow_inf_nan", True) is False:
                finite = True
            union_mode = settings.pop("union_mode", union_mode)
            if settings.pop("strict", None):
                strict = True
            if settings:
                return _unsure
        elif isinstance(item, AllowInfNan):
            finite = finite or not item.allow_inf_nan
        elif type(item).__name__ == "PlainSerializer":
            continue  # serialisation only
        else:
            return _unsure
    check = _compile_type(annotation, origin, strict, bounds, lengths, pattern, finite, union_mode)
    if check is _unsure or not (before or after):
        return check
    return _validated(check, before, after)


def _validated(check: Check, before: list[Callable[[Any], bool]], after: list[Callable[[Any, Context], bool]]) -> Check:
    def run(value: Any, context: Context) -> Any:
        if not all(passes(value) for passes in before):
            return REJECT
        result = check(value, context)
        if result is REJECT or result is UNSURE:
            return result
        return result if all(passes(result, context) for passes in after) else REJECT

    return run


def _compile_type(
    annotation: Any,
    origin: Any,
    strict: bool,
    bounds: list[Any],
    lengths: list[Any],
    pattern: re.Pattern[str] | None,
    finite: bool,
    union_mode: str,
) -> Check:
    if annotation is Any and not (bounds or lengths or pattern or finite):
        return lambda value, context: value
    if origin is typing.Union or origin is types.UnionType:
        if bounds or lengths or pattern or finite:
            return _optional(annotation, strict, bounds, lengths, pattern, finite)
        members = [_compile(member, [Strict()] if strict else []) for member in typing.get_args(annotation)]
        return _left_to_right(members) if union_mode == "left_to_right" else _smart(members)
    if origin is typing.Literal:
        return _literal(typing.get_args(annotation)) if not (bounds or lengths or pattern or finite) else _unsure
    if annotation is type(None) or annotation is None:
        return lambda value, context: None if value is None else REJECT if type(value) in _SCALARS else UNSURE
    if annotation in (int, float, bool, str):
        return _scalar(annotation, strict, bounds, lengths, pattern, finite)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return _list(_compile(item, [Strict()] if strict else []), lengths) if not (bounds or pattern) else _unsure
    if origin is dict:
        key, item = typing.get_args(annotation) or (Any, Any)
        if bounds or pattern:
            return _unsure
        return _dict(_compile(key, [Strict()] if strict else []), _compile(item, [Strict()] if strict else []), lengths)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if bounds or lengths or pattern or finite:
            return _unsure
        return lambda value, context: model_checker(annotation)(value, context)
    return _unsure


def _optional(
    annotation: Any, strict: bool, bounds: list[Any], lengths: list[Any], pattern: re.Pattern[str] | None, finite: bool
) -> Check:
    """``X | None`` with constraints: Pydantic applies them to ``X`` (a nullable schema)."""
    members = [m for m in typing.get_args(annotation) if m is not type(None)]
    if len(members) != 1:
        return _unsure
    inner = members[0]
    check = _compile_type(inner, typing.get_origin(inner), strict, bounds, lengths, pattern, finite, "smart")
    return lambda value, context: None if value is None else check(value, context)


def _smart(members: list[Check]) -> Check:
    """Pydantic's smart union: the first member that takes the value as it is (an ``int`` for an
    ``int``) wins at once; otherwise the one member that takes it, or several that make the same value."""

    def check(value: Any, context: Context) -> Any:
        found: list[Any] = []
        for member in members:
            result = member(value, context)
            if result is UNSURE:
                return UNSURE
            if result is REJECT:
                continue
            if result is value and type(value) in _EXACT:
                return result
            found.append(result)
        if not found:
            return REJECT
        first = found[0]
        return first if all(_same(first, other) for other in found[1:]) else UNSURE

    return check


_EXACT = (int, float, bool, str, type(None))
"""Types whose values a member that returns them unchanged took exactly (Pydantic's ``Exactness::Exact``)."""


def _left_to_right(members: list[Check]) -> Check:
    """The first member that takes the value; a member before it must certainly refuse it."""

    def check(value: Any, context: Context) -> Any:
        for member in members:
            result = member(value, context)
            if result is not REJECT:
                return result
        return REJECT

    return check


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (``1``, ``1.0`` and ``True`` differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, BaseModel):
        return a == b and a.model_fields_set == b.model_fields_set
    return bool(a == b)


def _literal(allowed: tuple[Any, ...]) -> Check:
    exact = {(type(v), v) for v in allowed}
    only_str = all(type(v) is str for v in allowed)

    def check(value: Any, context: Context) -> Any:
        if type(value) in _EXACT and (type(value), value) in exact:
            return value
        if type(value) is str and only_str:
            return REJECT
        return UNSURE

    return check


def _scalar(
    kind: type,
    strict: bool,
    bounds: list[Any],
    lengths: list[Any],
    pattern: re.Pattern[str] | None,
    finite: bool,
) -> Check:
    if ((lengths or pattern) and kind is not str) or ((bounds or finite) and kind not in (int, float)):
        return _unsure
    tests: list[Callable[[Any], bool | None]] = []
    for bound in bounds:  # v >= ge is ge <= v
        if isinstance(bound, annotated_types.Ge):
            tests.append(partial(operator.le, bound.ge))
        elif isinstance(bound, annotated_types.Gt):
            tests.append(partial(operator.lt, bound.gt))
        elif isinstance(bound, annotated_types.Le):
            tests.append(partial(operator.ge, bound.le))
        else:
            tests.append(partial(operator.gt, bound.lt))
    tests += _length_tests(lengths)
    if pattern is not None:
        tests.append(partial(_matches, pattern.search))
    if finite:
        tests.append(math.isfinite)

    def check(value: Any, context: Context) -> Any:
        if type(value) is not kind:
            if kind is float and type(value) is int:
                try:
                    value = float(value)  # what Pydantic makes of an int, strict or not
                except OverflowError:
                    return UNSURE
            elif type(value) in (_STRICT_REFUSES if strict else _LAX_REFUSES[kind]):
                return REJECT
            else:
                return UNSURE
        for test in tests:
            passed = test(value)
            if passed is not True:
                return REJECT if passed is False else UNSURE
        return value

    return check


def _matches(search: Callable[[str], Any], value: str) -> bool | None:
    """A pattern constraint: None (unsure) for text with a newline, where Pydantic's regex engine
    and Python's differ (Rust's ``$`` is the very end; Python's also matches before a final newline)."""
    if "\n" in value:
        return None
    return search(value) is not None


_STRICT_REFUSES = _SCALARS
_LAX_REFUSES = {
    str: (int, float, bool, type(None), list, dict),
    int: (type(None), list, dict),
    float: (type(None), list, dict),
    bool: (type(None), list, dict),
}
"""The YAML types each scalar type refuses in lax mode (Pydantic converts ``"3"`` to an int, never a list)."""


def _length_tests(lengths: list[Any]) -> list[Callable[[Any], bool]]:
    return [
        _longer(limit.min_length) if isinstance(limit, annotated_types.MinLen) else _shorter(limit.max_length)
        for limit in lengths
    ]


def _longer(n: int) -> Callable[[Any], bool]:
    return lambda value: len(value) >= n


def _shorter(n: int) -> Callable[[Any], bool]:
    return lambda value: len(value) <= n


def _list(item: Check, lengths: list[Any]) -> Check:
    tests = _length_tests(lengths)

    def check(value: Any, context: Context) -> Any:
        if type(value) is not list:
            return REJECT if type(value) in _SCALARS else UNSURE
        out = []
        unsure = False
        for element in value:
            result = item(element, context)
            if result is REJECT:
                return REJECT
            unsure = unsure or result is UNSURE
            out.append(result)
        if not all(test(value) for test in tests):
            return REJECT
        return UNSURE if unsure else out

    return check


def _dict(key: Check, item: Check, lengths: list[Any]) -> Check:
    tests = _length_tests(lengths)

    def check(value: Any, context: Context) -> Any:
        if type(value) is not dict:
            return REJECT if type(value) in _SCALARS else UNSURE
        out = {}
        unsure = False
        for k, v in value.items():
            checked_key, checked = key(k, context), item(v, context)
            if checked_key is REJECT or checked is REJECT:
                return REJECT
            unsure = unsure or checked_key is UNSURE or checked is UNSURE
            out[checked_key] = checked
        if not all(test(value) for test in tests):
            return REJECT
        return UNSURE if unsure else out

    return check
