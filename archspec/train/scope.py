"""What the trainer trains: classifiers of one image or token-id input, and next-token models.

* ``--task classify`` (the default): one float input (an image, ``[channels, *size]``, or any
  float tensor with ``--data fake``) or one integer input of token ids with a declared
  ``range`` (``{shape: [L], dtype: int64, range: [0, V]}``), and one ``[num_classes]`` output;
* ``--task lm``: one integer input ``[L]`` with a declared ``range`` and one ``[L, V]`` output
  (logits over a vocabulary of ``V`` >= the range's end at every position).

Checked before any data is loaded or torch allocates, so a model with several inputs or
outputs, a mask input or a token input without a range gets one sentence saying so (exit 2)
instead of a traceback from the data loader. No torch import.
"""

from __future__ import annotations

from archspec.backends.values import io_line
from archspec.compiler.ir import INPUT, CompiledSpec
from archspec.errors import UsageError

SCOPE = (
    "archspec train supports classifiers of one image input (float, [channels, *size]) or one token-id input "
    "(integer, with a declared range), and next-token models (--task lm: token ids [length] -> [length, vocabulary])"
)
OWN_LOOP = "build, export or codegen it instead; train it with your own loop on the module archspec.build returns"
TOKEN_INPUT = "input: {shape: [LENGTH], dtype: int64, range: [0, VOCAB]}"


def check_trainable(compiled: CompiledSpec, command: str = "train", task: str = "classify") -> None:
    """UsageError unless ``compiled`` is a model that ``task`` can train (see the module docstring)."""
    found = _problem(compiled, task)
    if found is None:
        return
    problem, path, hint = found
    message = f"archspec {command} supports {SCOPE.partition(' supports ')[2]}: {problem} ({io_line(compiled)})"
    raise UsageError([compiled.source.diagnostic("not-trainable", message, path, hint=hint)])


def check_sparse_gradients(compiled: CompiledSpec, optimizer: str, weight_decay: float) -> None:
    """UsageError if a layer with ``sparse: true`` (sparse gradients) meets an optimiser that refuses
    them: torch's Adam and AdamW take none, its SGD none with weight decay."""
    node = next((n for n in compiled.nodes if getattr(n.layer, "sparse", False) is True), None)
    if node is None or (optimizer == "sgd" and not weight_decay):
        return
    why = "torch's SGD cannot apply weight decay to them" if optimizer == "sgd" else f"torch's {optimizer} refuses them"
    message = f"node '{node.path}' ({node.type}) has sparse: true, so its gradients are sparse, and {why}"
    hint = "train with --optimizer sgd --weight-decay 0, or set sparse: false"
    raise UsageError([compiled.source.diagnostic("sparse-gradients", message, node.source_path, hint=hint)])


def check_classifier(compiled: CompiledSpec) -> None:
    """``--task classify``: the output must be ``[num_classes]`` (checked with the data, after a resumed run's task)."""
    output = list(compiled.output_shape or ())
    if len(output) != 1:
        hint = "end the spec with Flatten (or a global pool) and Linear(out_features: NUM_CLASSES)"
        if next(iter(compiled.inputs.values())).kind == "int":
            hint = (
                "end the spec with a reduction over the sequence (mean, or the last position) and "
                "Linear(out_features: NUM_CLASSES); a model with logits at every position trains with --task lm"
            )
        message = f"archspec train fits classifiers: the model's output must be [num_classes], not {output}"
        raise UsageError(
            [compiled.source.diagnostic("not-a-classifier", message, output_node_path(compiled), hint=hint)]
        )


def output_node_path(compiled: CompiledSpec) -> tuple[str | int, ...]:
    """Where the spec says what the model outputs: its last (or ``output:``) top-level node."""
    root = compiled.root
    return root.child(root.output).source_path if root.children and root.output != INPUT else ("layers",)


def _problem(compiled: CompiledSpec, task: str) -> tuple[str, tuple[str | int, ...], str] | None:
    """What keeps the trainer from this spec, the spec key it is about, and the fix."""
    inputs = list(compiled.inputs.values())
    input_key = "inputs" if getattr(compiled.spec, "inputs", None) else "input"
    if len(inputs) != 1:
        return f"this spec takes {len(inputs)} inputs", ("inputs",), OWN_LOOP
    if compiled.root.results is not None:
        return f"it returns {'a dict' if compiled.root.result_names else 'a tuple'} of outputs", ("output",), OWN_LOOP
    value = inputs[0]
    if value.kind == "bool":
        return f"its input is {value.dtype} (a mask), not an image or token ids", (input_key,), OWN_LOOP
    if not value.shape:
        return "its input is a scalar per sample, not an image or a sequence", (input_key,), OWN_LOOP
    if value.kind == "float":
        if task == "lm":
            return (
                f"--task lm trains on token ids, but its input is {value.dtype}",
                (input_key,),
                f"give the spec an integer input ({TOKEN_INPUT}), or train it with --task classify",
            )
        return None
    if value.low is None or value.high is None:
        return (
            f"its {value.dtype} input declares no id range, so the token ids cannot be checked",
            (input_key,),
            f"declare the range of the ids: {TOKEN_INPUT}",
        )
    if task == "lm":
        return _lm_problem(compiled, input_key)
    return None


def _lm_problem(compiled: CompiledSpec, input_key: str) -> tuple[str, tuple[str | int, ...], str] | None:
    """``--task lm``: ids ``[L]`` in, logits ``[L, V]`` out, with ``V`` covering every id."""
    value = next(iter(compiled.inputs.values()))
    if len(value.shape) != 1:
        return (
            f"--task lm takes a sequence of token ids [length], not {list(value.shape)}",
            (input_key,),
            f"give the spec a 1-d token input: {TOKEN_INPUT}",
        )
    length, high = value.shape[0], int(value.high or 0)
    output = compiled.output_shape or ()
    if len(output) != 2 or output[0] != length or output[1] < high:
        return (
            f"--task lm needs logits [length, vocabulary] = [{length}, {high} or more] (one row per position, "
            f"one logit per token id below the input's range end {high}), but the model outputs {list(output)}",
            output_node_path(compiled),
            f"end the spec with Linear(out_features: {high}) applied to every position (input [{length}, dim])",
        )
    return None
