"""Recurrent layers: RNN, LSTM and GRU, with torch's arguments, state_dict and outputs.

Per sample the input is a sequence ``(L, input_size)``; ``input_size`` is inferred from its last
dim when omitted. archspec's tensors put the batch first, so the module is always built with
``batch_first=True``: a spec never writes ``batch_first`` (``true`` is accepted and changes
nothing; ``false`` is refused, since archspec's shapes cannot express a batch in dim 1).

torch returns ``output, h_n`` (``output, (h_n, c_n)`` for an LSTM). The node has one output
per tensor, read as ``id.0``, ``id.1``, ``id.2`` (torch's ``nn.RNN`` shape docs; ``D`` is 2 when
bidirectional, ``H_out`` is ``proj_size`` or else ``hidden_size``):

* ``id.0``: the output sequence, ``(L, D * H_out)``;
* ``id.1``: the final hidden state of every layer and direction, ``(D * num_layers, H_out)``;
* ``id.2`` (LSTM): the final cell state, ``(D * num_layers, hidden_size)``.

Initial states are optional inputs by role, in the same batch-first layout as ``id.1`` and
``id.2`` (so an encoder's final states start a decoder): ``inputs: {input: x, h_0: enc.1}``
(``h_0`` and ``c_0`` together for an LSTM: torch's ``hx=(h_0, c_0)``); the generated forward
passes them as ``h_0.transpose(0, 1).contiguous()``. Without them torch starts from zeros.

torch puts the batch at dim 1 of ``h_n`` and ``c_n`` whatever ``batch_first`` says; archspec
reads them batch-first (``h_n.transpose(0, 1)``), so every value a node sees has the batch at dim 0.

Counts. Parameters: per layer and direction ``G * H * (in + H_out)`` weights, ``2 * G * H``
biases and ``H_out * H`` projection weights, ``G`` being the gates (1 for RNN, 3 for GRU, 4
for LSTM) and ``in`` the layer's input size (``input_size``, then ``D * H_out``). Mult-adds in
torchinfo's convention (``LayerInfo.calculate_macs``: recurrent weights count once per batch
element and time step of the output): ``L * params``. FLOPs are those ``FlopCounterMode`` counts
on torch's native CPU implementation (``aten/src/ATen/native/RNN.cpp``), which projects the
whole input sequence at once and then runs one matrix product per step: per layer and direction
``2 * L * G * H * (in + H_out)``, plus ``2 * L * H * H_out`` with a projection; biases and the
gate nonlinearities count nothing. That is FlopCounterMode's count for RNN and GRU on CPU. A
float32 LSTM without projection runs as one fused oneDNN kernel (``mkldnn_rnn_layer``) that
FlopCounterMode does not see (it counts 0); the figure above is what it counts on the same
module with oneDNN off (``torch.backends.mkldnn.flags(enabled=False)``), in float64, or with a
projection.
"""

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field

from archspec.errors import LayerError
from archspec.layers.base import (
    CALL_MODULE,
    DEFAULT_DTYPE,
    Arg,
    Expr,
    Layer,
    LayerResult,
    NonNegativeInt,
    Op,
    PositiveInt,
    Receptive,
    Saved,
    Saving,
    Shape,
    StateEntries,
    StateEntry,
    StrictBool,
    TensorType,
    bounded_number,
    check_inferred,
    expect_rank,
)
from archspec.layers.registry import module_class, register_class

if TYPE_CHECKING:
    DropProbability = float
else:
    DropProbability = bounded_number(
        "dropout on the outputs of each layer but the last, in [0, 1] (no effect with one layer)", ge=0, le=1
    )


def _batch_first(value: bool) -> bool:
    if not value:
        raise ValueError(
            "archspec's tensors put the batch first, so recurrent layers are always built with "
            "batch_first=True; remove 'batch_first: false' (per-sample shapes are (L, features))"
        )
    return value


class _Recurrent(Layer):
    """What RNN, LSTM and GRU share: ``torch.nn.RNNBase``'s arguments, shapes and counts."""

    family: ClassVar[str] = "recurrent"
    inferred_fields: ClassVar[tuple[str, ...]] = ("input_size",)
    input_roles: ClassVar[tuple[str, ...]] = ("input", "h_0")
    max_inputs: ClassVar[int | None] = 2
    gates: ClassVar[int] = 1
    """How many gate matrices each layer and direction holds (``nn.RNNBase``'s ``gate_size / hidden_size``)."""

    input_size: PositiveInt | Expr | None = Field(default=None, description="inferred from the input when omitted")
    hidden_size: PositiveInt | Expr = Field(description="the size of the hidden state")
    num_layers: PositiveInt | Expr = Field(default=1, description="stacked recurrent layers")
    bias: StrictBool | Expr = Field(default=True, description="the b_ih and b_hh biases")
    batch_first: Annotated[StrictBool, AfterValidator(_batch_first)] | Expr = Field(
        default=True,
        description="always true: archspec builds every recurrent layer batch-first (write nothing, or true)",
    )
    dropout: DropProbability | Expr = 0.0
    bidirectional: StrictBool | Expr = False

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """``H_out``: the size of the hidden state each step emits."""
        return int(getattr(self, "proj_size", 0)) or int(self.hidden_size)

    def inferred(self, inputs: list[Shape]) -> dict[str, Any]:
        return {"input_size": inputs[0][-1]} if inputs[0] else {}

    def torch_kwargs(self, inputs: list[Shape]) -> dict[str, Any]:
        return {**super().torch_kwargs(inputs), "batch_first": True}

    def layer_inputs(self, input_size: int) -> list[int]:
        """Each layer's input size: the sequence's features, then the previous layer's output."""
        return [input_size] + [self.directions * self.output_size] * (int(self.num_layers) - 1)

    def infer(self, inputs: list[Shape]) -> LayerResult:
        shape = inputs[0]
        expect_rank(shape, (2,), "L, input_size")
        self.check_states(inputs)
        length, features = shape
        check_inferred("input_size", self.input_size, features)
        if length == 0:
            raise LayerError(
                "the sequence is empty (L = 0): torch expects a sequence length larger than 0",
                hint="give the sequence at least one step",
            )
        hidden, out, gates = int(self.hidden_size), self.output_size, self.gates * int(self.hidden_size)
        projection = out * hidden if out != hidden else 0  # weight_hr: (proj_size, hidden_size)
        params = flops = 0
        for size in self.layer_inputs(features):
            params += gates * (size + out) + (2 * gates if self.bias else 0) + projection
            flops += 2 * length * (gates * (size + out) + projection)
        params, flops = params * self.directions, flops * self.directions
        states = self.directions * int(self.num_layers)
        parts = ((length, self.directions * out), (states, out), *self.cell_state(states))
        return LayerResult(parts[0], params, length * params, flops=flops, parts=parts)

    def cell_state(self, states: int) -> tuple[Shape, ...]:
        """The shape of ``c_n`` for an LSTM; nothing for RNN and GRU."""
        return ()

    def state_entries(self, inputs: list[Shape]) -> StateEntries:
        """``nn.RNNBase``'s parameters, layer by layer, the reverse direction after the forward one:
        ``weight_ih_l0`` ``(G*H, in)``, ``weight_hh_l0`` ``(G*H, H_out)``, ``bias_ih_l0``, ``bias_hh_l0``
        ``(G*H,)``, ``weight_hr_l0`` ``(H_out, H)`` with a projection; ``_reverse`` names the second direction."""
        hidden, out = int(self.hidden_size), self.output_size
        gates = self.gates * hidden
        entries: StateEntries = {}
        for layer, size in enumerate(self.layer_inputs(inputs[0][-1])):
            for suffix in ("", "_reverse")[: self.directions]:
                tag = f"_l{layer}{suffix}"
                entries[f"weight_ih{tag}"] = StateEntry((gates, size))
                entries[f"weight_hh{tag}"] = StateEntry((gates, out))
                if self.bias:
                    entries[f"bias_ih{tag}"] = entries[f"bias_hh{tag}"] = StateEntry((gates,))
                if out != hidden:
                    entries[f"weight_hr{tag}"] = StateEntry((out, hidden))
        return entries

    def state_roles(self) -> tuple[str, ...]:
        """The roles of the inputs (``input`` first, as a positional list gives them)."""
        return self.roles or self.input_roles[:1]

    def check_states(self, inputs: list[Shape]) -> None:
        """Initial states have the shapes of the final ones (torch's ``check_hidden_size``)."""
        states = self.directions * int(self.num_layers)
        expected = {"h_0": (states, self.output_size), "c_0": (states, int(self.hidden_size))}
        for role, shape in zip(self.state_roles(), inputs, strict=True):
            if role in expected and tuple(shape) != expected[role]:
                raise LayerError(
                    f"{role} has shape {list(shape)}, but this layer's states are {list(expected[role])} "
                    "(directions * num_layers, size) per sample",
                    hint=f"give {role} the shape {list(expected[role])}, as the final state (id.1/id.2) of a "
                    "layer with the same num_layers, directions and sizes",
                )

    def forward_call(self, inputs: list[Shape]) -> Op | None:
        """``module(x)``, or ``module(x, h_0)`` (an LSTM: ``(h_0, c_0)``) with the states batch-second."""
        roles = self.state_roles()
        if len(roles) == 1:
            return None
        states = tuple(
            Op("Tensor.contiguous", (Op("Tensor.transpose", (Arg(roles.index(role)), 0, 1)),))
            for role in self.input_roles[1:]
        )
        return Op(CALL_MODULE, (Arg(0), states[0] if len(states) == 1 else states))

    def part(self, index: int) -> Op | None:
        """``result[0]`` is the output sequence; the final states are read batch-first."""
        return None if index == 0 else Op("Tensor.transpose", (self.state(index), 0, 1))

    def state(self, index: int) -> Op:
        """Where final state ``index`` (1: ``h_n``) lies in torch's result: ``result[1]``."""
        return Op("[]", (Arg(0), (1,)))

    def output_dtype(self, types: list[TensorType]) -> str:
        for role, found in zip(self.state_roles(), types, strict=True):
            if found.dtype != DEFAULT_DTYPE:
                raise LayerError(
                    f"takes {DEFAULT_DTYPE} tensors (archspec builds {DEFAULT_DTYPE} weights, and torch's "
                    f"recurrent layers refuse another dtype), but its {role} is {found.dtype}",
                    hint=f"convert with {{type: to, dtype: {DEFAULT_DTYPE}}} first",
                )
        return DEFAULT_DTYPE

    def receptive(self) -> Receptive:
        return "global"  # each step sees every earlier one (and every later one when bidirectional)

    def saved(self, call: Saving) -> list[Saved]:
        """torch's native CPU recurrence (``aten/src/ATen/native/RNN.cpp``): per layer and direction,
        the input projection keeps the layer's input (a time-major copy of the batch-first input
        for the first layer), and each step keeps the tensors of :meth:`step_saved`; the initial
        states are one zero tensor of ``(layers * directions, batch, size)`` each, and dropout
        between layers keeps its noise and its output (the next layer's input)."""
        steps, features = call.inputs[0].shape
        layers, directions = int(self.num_layers), self.directions
        width = directions * self.output_size
        kept = [Saved("new", 0, steps * features)] * directions  # each direction copies the input
        kept += [Saved("new", 0, layers * directions * size) for size in self.state_sizes()]
        for layer in range(layers):
            kept += self.step_saved(steps) * directions
            if layer < layers - 1:
                dropped = self.dropout > 0
                kept += [Saved("new", 0, steps * width)] * (1 + dropped)  # the layer's output (and noise)
        return kept

    def state_sizes(self) -> tuple[int, ...]:
        """The sizes of the initial states (h_0; an LSTM's c_0 too)."""
        return (self.output_size,)

    def step_saved(self, steps: int) -> list[Saved]:
        """What one layer and direction keeps over ``steps`` steps, beyond its input and initial state."""
        raise NotImplementedError

    def label(self) -> str:
        text = f"{self.hidden_size}"
        if int(self.num_layers) > 1:
            text += f" x{self.num_layers}"
        if self.bidirectional:
            text += " bi"
        return text

    def key_args(self, inputs: list[Shape] | None, output: Shape | None) -> str:
        if not inputs or len(inputs[0]) != 2:
            return self.label()
        return f"{inputs[0][-1]}->{self.label()}"


@register_class("RNN")
def _rnn_class() -> type[Layer]:
    class RNN(_Recurrent):
        """torch.nn.RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh)`` (or ReLU)."""

        type: Literal["RNN"]
        nonlinearity: Literal["tanh", "relu"] = "tanh"

        def step_saved(self, steps: int) -> list[Saved]:
            """``act(linear_hh(h) + x_t)`` keeps its result: each step's hidden state."""
            return [Saved("new", 0, steps * int(self.hidden_size))]

    return RNN


@register_class("LSTM")
def _lstm_class() -> type[Layer]:
    class LSTM(_Recurrent):
        """torch.nn.LSTM: input, forget, cell and output gates; ``proj_size`` projects each hidden state."""

        gates: ClassVar[int] = 4
        input_roles: ClassVar[tuple[str, ...]] = ("input", "h_0", "c_0")
        max_inputs: ClassVar[int | None] = 3

        type: Literal["LSTM"]
        proj_size: NonNegativeInt | Expr = Field(
            default=0, description="project each hidden state to this size (0: no projection); below hidden_size"
        )

        def infer(self, inputs: list[Shape]) -> LayerResult:
            if len(self.state_roles()) == 2:
                given, missing = ("h_0", "c_0") if "h_0" in self.state_roles() else ("c_0", "h_0")
                raise LayerError(
                    f"an LSTM takes its initial states together (torch's hx=(h_0, c_0)): "
                    f"{given} is given, {missing} is not",
                    hint=f"add '{missing}: ...' to the inputs, or leave both out to start from zeros",
                )
            if int(self.proj_size) >= int(self.hidden_size):
                raise LayerError(
                    f"proj_size (={self.proj_size}) must be smaller than hidden_size (={self.hidden_size})",
                    hint=f"use a proj_size below {self.hidden_size}, or 0 for no projection",
                    field="proj_size",
                )
            return super().infer(inputs)

        def export_limit(self, fmt: str) -> str | None:
            """torch's ONNX exporter writes ONNX's ``LSTM`` operator, which has no projection: it drops
            ``weight_hr``."""
            if fmt == "onnx" and int(self.proj_size):
                return "torch's ONNX exporter writes ONNX's LSTM operator, which has no projection (proj_size)"
            return None

        def cell_state(self, states: int) -> tuple[Shape, ...]:
            return ((states, int(self.hidden_size)),)

        def state_sizes(self) -> tuple[int, ...]:
            return (self.output_size, int(self.hidden_size))

        def step_saved(self, steps: int) -> list[Saved]:
            """``LSTMCell``: the gates (4H, the activations' results) and ``tanh(c)`` per step; the cell
            and hidden states of every step but the last, which the next step keeps; with a projection,
            the hidden state before it too."""
            hidden, out = int(self.hidden_size), self.output_size
            per_step = 5 * hidden + (hidden if out != hidden else 0)
            return [Saved("new", 0, steps * per_step), Saved("new", 0, (steps - 1) * (hidden + out))]

        def saved(self, call: Saving) -> list[Saved]:
            """A float32 LSTM without projection on CPU runs as oneDNN's ``mkldnn_rnn_layer`` per layer and
            direction, which keeps its output, final states and a workspace (:func:`onednn_workspace`)."""
            if call.device != "cpu" or call.inputs[0].dtype != "float32" or self.output_size != int(self.hidden_size):
                return super().saved(call)
            steps, features = call.inputs[0].shape
            hidden, layers, directions = int(self.hidden_size), int(self.num_layers), self.directions
            kept = [Saved("new", 0, steps * features), *[Saved("new", 0, layers * directions * hidden)] * 2]
            for layer, size in enumerate(self.layer_inputs(features)):
                space = onednn_workspace(steps, call.batch, size, hidden)
                kept += [
                    Saved("new", 0, steps * hidden + 2 * hidden),
                    Saved("new", 0, space, "uint8", False),
                ] * directions
                if layer < layers - 1:
                    kept += [Saved("new", 0, steps * directions * hidden)] * (1 + (self.dropout > 0))
            return kept

        def state(self, index: int) -> Op:
            """An LSTM returns ``output, (h_n, c_n)``: ``result[1][0]`` and ``result[1][1]``."""
            return Op("[]", (super().state(index), (index - 1,)))

    return LSTM


def onednn_workspace(steps: int, batch: int, features: int, hidden: int) -> int:
    """Bytes of the workspace oneDNN's LSTM keeps for backward, for one layer and direction (float32):
    its gates, hidden states, states and their gradients (``rnn_utils::set_workspace_sizes``), each
    starting on a 4 KiB page (``set_offsets``), with oneDNN's leading dimensions (``get_good_ld``)."""

    def ld(size: int) -> int:
        padded = -(-size // 16) * 16
        return padded + 16 if padded % 256 == 0 else padded

    def page(size: int) -> int:
        return -(-size // 4096) * 4096

    states = 2 * (steps + 1) * batch * 4  # (layers + 1) x (steps + 1) x batch, float32
    parts = [steps * batch * ld(4 * hidden) * 4, steps * batch * hidden * 4]  # gates, hidden states
    parts += [states * ld(max(features, hidden))] * 3 + [states * hidden] * 2  # states, gradients; cell states
    return sum(page(part) for part in parts)


@register_class("GRU")
def _gru_class() -> type[Layer]:
    class GRU(_Recurrent):
        """torch.nn.GRU: reset, update and new gates."""

        gates: ClassVar[int] = 3

        type: Literal["GRU"]

        def step_saved(self, steps: int) -> list[Saved]:
            """``GRUCell``: the hidden gates (3H, the sigmoids' results), a copy of the new gate's hidden
            part before ``mul_``, the new gate (tanh's result), a copy of ``h - n`` before ``mul_``; and
            each step's hidden state but the last, which the next step's ``linear_hh`` keeps."""
            hidden = int(self.hidden_size)
            return [Saved("new", 0, steps * hidden * 6), Saved("new", 0, (steps - 1) * hidden)]

    return GRU


def __getattr__(name: str) -> type[Layer]:
    return module_class(__name__, name)  # the classes made on first use (register_class)
