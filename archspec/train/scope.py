"""What the trainer trains for now: image classifiers with one float image input and one output.

Checked before any data is loaded or torch allocates, so a token model or a model with several
inputs or outputs gets one sentence saying so (exit 2) instead of a traceback from the data loader.
No torch import.
"""

from __future__ import annotations

from archspec.backends.values import io_line
from archspec.compiler.ir import CompiledSpec
from archspec.errors import UsageError

SCOPE = "archspec train supports image classifiers with one image input (float, [channels, *size]) for now"


def check_trainable(compiled: CompiledSpec, command: str = "train") -> None:
    """UsageError unless the spec has one float input of rank 1 or more and one plain output."""
    found = _problem(compiled)
    if found is None:
        return
    problem, key = found
    if key != "output":
        key = "inputs" if getattr(compiled.spec, "inputs", None) else "input"
    message = f"archspec {command} supports {SCOPE.partition(' supports ')[2]}: {problem} ({io_line(compiled)})"
    hint = "build, export or codegen it instead; train it with your own loop on the module archspec.build returns"
    raise UsageError([compiled.source.diagnostic("not-trainable", message, (key,), hint=hint)])


def _problem(compiled: CompiledSpec) -> tuple[str, str] | None:
    """What keeps the trainer from this spec, and the spec key it is about."""
    inputs = list(compiled.inputs.values())
    if len(inputs) != 1:
        return f"this spec takes {len(inputs)} inputs", "inputs"
    if inputs[0].kind != "float":
        return f"its input is {inputs[0].dtype}, not an image", "input"
    if not inputs[0].shape:
        return "its input is a scalar per sample, not an image", "input"
    if compiled.root.results is not None:
        return f"it returns {'a dict' if compiled.root.result_names else 'a tuple'} of outputs", "output"
    return None
