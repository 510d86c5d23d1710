"""The metadata archspec stores beside weights (exports, checkpoints), as models that write and read it.

A file read back is untrusted data even when ``torch.load(weights_only=True)`` accepts it:
its ``spec`` entry is validated by the same model that wrote it, so a wrong type, a
non-finite number, a recursive structure or an oversized value is a UsageError naming the
file and the field, never an internal error or a hang. The stored parameters are literal
values (the resolved ``compiled.params``); they are passed to the compiler as overrides,
never spliced into spec text, and a string that looks like an expression is refused.
"""

from __future__ import annotations

import hashlib
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError, model_validator

from archspec.errors import Diagnostic, UsageError
from archspec.frontend.expressions import EXPRESSION

MAX_TEXT = 16 * 1024 * 1024
"""The spec text: the loader's limit on spec files (:data:`archspec.frontend.source.MAX_BYTES`)."""
MAX_PARAM_VALUES = 100_000
"""Scalars in all stored parameters together (a spec's params are a few numbers and short lists)."""
MAX_PARAM_DEPTH = 8
MAX_STRING = 10_000


def literal_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a spec binds them: names to scalars, or lists and mappings of them (nested); bounded.

    Walks iteratively with a depth limit, so a recursive list ends as an error, not a RecursionError.
    """
    count = 0
    stack: list[tuple[str, Any, int]] = [(str(name), value, 0) for name, value in params.items()]
    while stack:
        where, value, depth = stack.pop()
        count += 1
        if count > MAX_PARAM_VALUES:
            raise ValueError(f"more than {MAX_PARAM_VALUES:,} values")
        if isinstance(value, list | dict):
            if depth >= MAX_PARAM_DEPTH:
                raise ValueError(f"'{where}' nests deeper than {MAX_PARAM_DEPTH} levels (or is recursive)")
            if isinstance(value, dict) and not all(isinstance(key, str) for key in value):
                raise ValueError(f"'{where}' is a mapping with keys that are not strings")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((f"{where}[{key!r}]", item, depth + 1) for key, item in items)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"'{where}' is {value}, not a finite number")
        elif isinstance(value, str):
            if len(value) > MAX_STRING:
                raise ValueError(f"'{where}' is a string of {len(value):,} characters")
            if EXPRESSION.search(value):  # what the compiler would evaluate or interpolate
                raise ValueError(f"'{where}' holds an expression ('${{...}}'); stored parameters are literal values")
        elif not (value is None or isinstance(value, bool | int | float)):
            raise ValueError(f"'{where}' is a {type(value).__name__}; parameters are numbers, strings, lists, mappings")
    return params


class SpecRecord(BaseModel):
    """The ``spec`` entry of an export or checkpoint: the spec text and the parameters it was bound with."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[StrictStr, Field(max_length=100)]
    file: Annotated[StrictStr, Field(max_length=4096)] | None = None
    text: Annotated[StrictStr, Field(max_length=MAX_TEXT)]
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    params: Annotated[dict[StrictStr, Any], Field(max_length=10_000), AfterValidator(literal_params)]

    @model_validator(mode="after")
    def _text_matches_hash(self) -> SpecRecord:
        if text_hash(self.text) != self.sha256:
            raise ValueError("the spec text does not match its sha256: the file was altered or damaged")
        return self

    @classmethod
    def of(cls, compiled: Any) -> SpecRecord:
        """The record of a compiled spec; a parameter value that could not be read back is refused now."""
        text = compiled.source.text
        try:
            return cls(
                name=compiled.name,
                file=compiled.source.file,
                text=text,
                sha256=text_hash(text),
                params=plain(compiled.params),
            )
        except ValidationError as exc:
            field, reason, _ = describe_error(exc)
            message = f"cannot store the spec's parameters ({field}: {reason})"
            raise UsageError([Diagnostic("params", message, compiled.source.file)]) from None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """Only what ``torch.load(weights_only=True)`` reads: dicts, lists, str, int, float, bool, None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):  # bool first: it is an int
        if isinstance(value, kind):
            return kind(value)
    if value is None:
        return None
    raise TypeError(f"cannot store {type(value).__name__} in an export")


def short(value: Any) -> str:
    """A stored value for a message: short, whatever the file holds."""
    text = repr(value) if isinstance(value, int | float | str | None) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def validated(model: type[BaseModel], value: Any, file: str, *, what: str, code: str, entry: str = "") -> Any:
    """``model`` validating ``value`` (the file's ``entry``, or the whole file) read from ``file``.

    A ValidationError becomes a UsageError naming the file and the field.
    """
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise UsageError([_diagnostic(exc, file, what, code, entry)]) from None
    except RecursionError:
        message = f"'{file}' holds a damaged {what}: its metadata nests too deeply (a recursive structure?)"
        raise UsageError([Diagnostic(code, message, file)]) from None


def _diagnostic(exc: ValidationError, file: str, what: str, code: str, entry: str) -> Diagnostic:
    field, reason, count = describe_error(exc)
    field = ".".join(part for part in (entry, "" if field == "(top level)" else field) if part) or field
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return Diagnostic(
        code,
        f"'{file}' holds a damaged {what}: field '{field}': {reason}{more}",
        file,
        hint="use a file written by archspec (export --format pt, or a training run's last.pt / best.pt)",
    )


def describe_error(exc: ValidationError) -> tuple[str, str, int]:
    """``(field path, reason, number of errors)`` of the most specific error.

    In a union every member reports; the deepest location is the member the value was meant for.
    """
    errors = exc.errors(include_url=False, include_input=False)
    paths = [[part for part in error["loc"] if not _is_tag(part)] for error in errors]
    best = max(range(len(errors)), key=lambda i: len(paths[i]))
    field = ".".join(str(part) for part in paths[best]) or "(top level)"
    reason = errors[best]["msg"].removeprefix("Value error, ")
    return field, reason, len({tuple(p) for p in paths})


def _is_tag(part: Any) -> bool:
    """Pydantic's union member names in ``loc`` (``function-after[...]``, ``literal['a']``), not keys."""
    return isinstance(part, str) and (
        "[" in part
        or "-" in part
        or part[:1].isupper()  # a model's or TypedDict's name
        or part in {"str", "int", "float", "bool", "list", "dict", "tuple", "none"}
    )
