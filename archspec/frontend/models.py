"""The spec language as Pydantic models; the JSON Schema is generated from these.

A spec is ``archspec: 1``, a name, an ``input`` shape, optional ``params`` and
``blocks``, and ``layers``: a list of nodes. A node is one of

* a layer: ``{type: Conv2d, out_channels: 64, kernel_size: 3}`` (torch's names);
* a group: ``{id: features, layers: [...]}``, an ``nn.Sequential``-like module;
* a block use: ``{use: BasicBlock, channels: 64}``, an instance of a block.

Every node may carry ``id``, ``inputs``, ``repeat`` and ``when``. The layer
slot dispatches on ``type`` through the open registry, so a registered layer is valid
YAML at once.
"""

# Annotations are objects, not strings (no ``from __future__ import annotations``): Pydantic would
# parse and evaluate each string when the classes are made, a third of importing this module.
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
    with_config,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema
from typing_extensions import TypedDict

from archspec.frontend import quick
from archspec.layers.base import (
    DTYPES,
    DType,
    Expr,
    Layer,
    NodeFields,
    Number,
    PositiveInt,
    bounded_number,
)
from archspec.layers.registry import layer_types, registry_version

if TYPE_CHECKING:
    Node = Any  # defined at the bottom: it refers to Group and BlockUse

CLOSED = ConfigDict(extra="forbid", frozen=True, defer_build=True)
"""Unknown keys are errors; validators are built on first use, when ``Node`` is defined."""


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


NOT_A_BOOL = BeforeValidator(_not_a_bool)
"""For ``Literal[1]``: Pydantic takes ``true`` as 1 where JSON Schema's ``const`` does not."""
quick.register_before(_not_a_bool, lambda value: not isinstance(value, bool))

ParamValue = StrictInt | StrictFloat | StrictBool | StrictStr | list[Any] | dict[str, Any] | None
ParamType = Literal["int", "float", "bool", "str", "list", "mapping", "any"]


class ParamDecl(BaseModel):
    """A typed parameter: ``{default: "1_0", choices: ["1_0", "1_1"]}``; ``name: value`` is the short form.

    A mapping is a declaration when all its keys are declaration keys and it has ``default`` or
    ``type``; a parameter whose default is such a mapping writes ``{default: {...}}``.
    """

    model_config = CLOSED

    default: ParamValue = Field(default=None, description="the value when not overridden; null: required")
    type: ParamType | None = Field(default=None, description="default: the type of 'default' (any when null)")
    choices: list[ParamValue] | None = Field(default=None, min_length=1, description="the allowed values")
    minimum: bounded_number() | None = Field(default=None, description="smallest allowed number")  # type: ignore[valid-type]
    maximum: bounded_number() | None = Field(default=None, description="largest allowed number")  # type: ignore[valid-type]
    doc: StrictStr | None = Field(default=None, description="what the parameter means")

    @model_validator(mode="after")
    def _declares_something(self) -> "ParamDecl":
        if not {"default", "type"} & self.model_fields_set:
            raise ValueError("a declaration has 'default' or 'type'")
        return self


Param = Annotated[ParamDecl | ParamValue, Field(union_mode="left_to_right")]


InputName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


def _present(*keys: str) -> dict[str, Any]:
    """JSON Schema: these keys are present (declared in the same subschema, as ajv's strict mode wants)."""
    return {"properties": dict.fromkeys(keys, True), "required": list(keys)}


INPUT_FORMS: dict[str, Any] = {
    "allOf": [
        {
            "if": _present("channels"),
            "then": {"not": _present("shape"), "properties": {"dtype": {"const": "float32"}}},
            "else": {**_present("shape"), "not": _present("size")},
        },
        {
            "if": _present("range"),
            "then": {
                **_present("dtype"),
                "properties": {"dtype": {"enum": [d for d, k in DTYPES.items() if k == "int"]}},
            },
        },
    ]
}
"""The rules of :meth:`InputSpec._one_form` in standard JSON Schema (if/then, no oneOf)."""


class InputSpec(BaseModel):
    """One model input, per sample (batch excluded): an image ``{channels, size}``, or any tensor
    ``{shape, dtype}`` (token ids: ``{shape: [128], dtype: int64, range: [0, 50257]}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, json_schema_extra=INPUT_FORMS)

    # None defaults a spec cannot write ('channels: null' is an error for Pydantic and the schema alike)
    channels: PositiveInt | Expr = Field(  # type: ignore[assignment]
        default=None, description="channels (or features, for vector inputs); the short form for images"
    )
    size: PositiveInt | list[PositiveInt | Expr] | Expr = Field(  # type: ignore[assignment]
        default=None,
        description="with channels: the spatial size [H, W], [L] or [D, H, W]; an int means a square 2-d image",
    )
    shape: Annotated[list[PositiveInt | Expr], Field(max_length=64)] | Expr = Field(  # type: ignore[assignment]
        default=None, description="the per-sample shape, any rank ([] for one number per sample)"
    )
    dtype: DType = Field(default="float32", description="the tensor's dtype: a float type, an integer type or bool")
    range: Annotated[list[StrictInt | Expr], Field(min_length=2, max_length=2)] = Field(
        default=None,  # type: ignore[arg-type]
        description="integer inputs: the values lie in [low, high), like torch.randint (token ids: "
        "[0, '${vocab_size}'])",
    )

    @model_validator(mode="after")
    def _one_form(self) -> "InputSpec":
        if (self.channels is None) == (self.shape is None):
            raise ValueError("an input has either 'channels' (an image) or 'shape' (any tensor)")
        if self.size is not None and self.channels is None:
            raise ValueError("'size' goes with 'channels'; with 'shape', write the whole shape")
        if self.channels is not None and self.dtype != "float32":
            raise ValueError("an image input is float32; write {shape, dtype} for other dtypes")
        if self.range is not None and DTYPES[self.dtype] != "int":
            raise ValueError("'range' is [low, high) with low < high, for integer dtypes")
        if self.range is not None and all(isinstance(v, int) for v in self.range) and self.range[0] >= self.range[1]:
            raise ValueError("'range' is [low, high) with low < high, for integer dtypes")
        return self


class Group(NodeFields):
    """A named list of nodes: a module whose children are the nodes (nn.Sequential for a chain)."""

    layers: "list[Node]" = Field(min_length=1)  # Node is defined at the bottom
    inline: StrictBool | Expr = Field(
        default=False, description="splice the nodes into the enclosing sequence instead of making a module"
    )


class BlockUse(NodeFields):
    """An instance of a block from ``blocks:``; other keys are the block's parameters."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    use: StrictStr = Field(description="name of a block defined under 'blocks:'")
    inline: StrictBool | Expr = Field(
        default=False, description="splice the block's nodes into the enclosing sequence instead of making a module"
    )


class BlockDef(BaseModel):
    """A reusable, parameterised sub-network; ``in_channels``, ``in_shape``, ``in_shapes`` are bound for it."""

    model_config = CLOSED

    params: dict[str, Param] = Field(
        default_factory=dict,
        description="parameters: 'name: default' or a declaration {default, type, choices, minimum, maximum}; "
        "a null default means the parameter is required",
    )
    inputs: list[Annotated[StrictStr, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]] | None = Field(
        default=None,
        min_length=1,
        description="names of the block's inputs, for blocks that take several (a U-Net stage: [x, skip]); "
        "its nodes refer to them by name, and the first is the default input. Default: one input, 'input'",
    )
    layers: "list[Node]" = Field(min_length=1)  # Node is defined at the bottom
    doc: str | None = None


@with_config(ConfigDict(extra="forbid"))
class Normalize(TypedDict):
    """Explicit per-channel normalisation: ``(x - mean) / std`` on pixels scaled to [0, 1]."""

    mean: Annotated[list[Number], Field(min_length=1, max_length=4, description="one value, or one per channel")]
    std: Annotated[
        list[bounded_number(gt=0)],  # type: ignore[valid-type]
        Field(min_length=1, max_length=4, description="one value, or one per channel"),
    ]


def _square(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _ranged(low: int, high: int) -> Any:
    return Annotated[StrictInt, Field(ge=low, le=high)]


def _text(description: str) -> Any:
    return Annotated[StrictStr, Field(max_length=4096, description=description)]


class TrainConfig(BaseModel):
    """The settings of ``archspec train``: a spec's ``train:`` section, the command's flags (generated from these
    fields), a checkpoint's ``settings`` and ``run.json``'s. Built-in defaults < ``train:`` < flags."""

    model_config = CLOSED

    task: Literal["classify", "lm"] = Field(
        "classify", description="classify (one label per sample) or lm (token ids in, the next token at every position)"
    )
    data: _text(  # type: ignore[valid-type]
        "mnist5k (embedded, offline), mnist, fashion-mnist, cifar10, imagefolder:PATH, tokens:FILE (.npz or .pt "
        "token ids), fake[:N]"
    ) = "mnist5k"
    data_root: _text("where torchvision's data sets live") = "data"  # type: ignore[valid-type]
    download: StrictBool = Field(False, description="let torchvision download mnist, fashion-mnist and cifar10")
    epochs: _ranged(1, 1_000_000) = Field(10, description="passes over the training data")  # type: ignore[valid-type]
    batch_size: _ranged(1, 2**31 - 1) = Field(64, description="per process")  # type: ignore[valid-type]
    lr: bounded_number(gt=0) | None = Field(  # type: ignore[valid-type]
        None, description="learning rate; default 0.001 (adam, adamw), 0.01 (sgd)"
    )
    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="adam, adamw or sgd (with momentum 0.9)")
    weight_decay: bounded_number(ge=0) | None = Field(None, description="default 0 (adamw: 0.01)")  # type: ignore[valid-type]
    scheduler: Literal["none", "cosine", "onecycle", "step"] = Field(
        "none", description="learning-rate schedule: cosine and step per epoch, onecycle per batch"
    )
    seed: _ranged(-(2**63), 2**64 - 1) = Field(  # type: ignore[valid-type]
        0, description="initial weights, data order, dropout (what torch.manual_seed accepts)"
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field("auto", description="auto: cuda, else mps, else cpu")
    amp: StrictBool = Field(False, description="mixed precision: float16 on CUDA (with a grad scaler), bfloat16 on CPU")
    workers: _ranged(0, 1024) = Field(  # type: ignore[valid-type]
        0, description="DataLoader worker processes (at most 4 per CPU core)"
    )
    resize: (
        Annotated[
            PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)],
            AfterValidator(_square),
            PlainSerializer(list),
        ]
        | None
    ) = Field(None, description="resize images to [H, W] (an int: square; bilinear, antialiased)")
    channels: Annotated[Literal[1, 3], NOT_A_BOOL] | None = Field(
        None, description="convert images to 1 (greyscale) or 3 (RGB) channels"
    )
    normalize: Literal["dataset", "none"] | Normalize = Field(
        "dataset", description="dataset (its published mean/std), none, or {mean, std}"
    )
    tensorboard: StrictBool = Field(False, description="also write TensorBoard event files (OUT/tensorboard)")


class Spec(BaseModel):
    """A whole archspec document."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        defer_build=True,
        title="archspec spec",
        json_schema_extra={"if": _present("input"), "then": {"not": _present("inputs")}, "else": _present("inputs")},
    )

    archspec: Annotated[Literal[1], NOT_A_BOOL] = Field(description="spec language version")
    name: StrictStr = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", max_length=100)
    description: StrictStr | None = None
    # None defaults that a spec cannot write: 'input: null' is no input, for Pydantic and the schema alike
    input: InputSpec = Field(default=None, description="the model's input (forward(self, x))")  # type: ignore[assignment]
    inputs: Annotated[dict[InputName, InputSpec], Field(min_length=1)] = Field(
        default=None,  # type: ignore[arg-type]
        description="several named inputs, in forward's order (forward(self, tokens, mask)); "
        "nodes read them by name, and the first is the default input",
    )
    params: dict[str, Param] = Field(
        default_factory=dict,
        description="named parameters: 'name: default' or a declaration {default, type, choices, minimum, maximum}",
    )
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    layers: "list[Node]" = Field(min_length=1)  # Node is defined at the bottom
    output: (
        StrictStr
        | Annotated[list[StrictStr], Field(min_length=1)]
        | Annotated[dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], StrictStr], Field(min_length=1)]
        | None
    ) = Field(
        default=None,
        description="the model's output: a node id (default: the last node), a list of ids (a tuple), "
        "or named ids (a dict: {logits: head, aux: aux_head}); 'id.0' picks one output of several",
    )
    train: TrainConfig | None = None

    @model_validator(mode="after")
    def _one_input_form(self) -> "Spec":
        if (self.input is None) == (self.inputs is None):
            raise ValueError("a spec has either 'input' (one input) or 'inputs' (several, named)")
        return self


NODE_KEYS = (("use", "use"), ("layers", "group"))
"""(key whose presence selects the kind, kind), first match wins; otherwise a layer. The JSON
Schema's if/then/else on node kinds is generated from this table."""
DEFAULT_NODE_KIND = "layer"


def node_kind(value: Any) -> str | None:
    """Which kind of node a mapping is: a block use, a group or a layer."""
    if isinstance(value, dict):
        return next((kind for key, kind in NODE_KEYS if key in value), DEFAULT_NODE_KIND)
    if isinstance(value, BaseModel):
        return {BlockUse: "use", Group: "group"}.get(type(value), "layer")
    return None


class DeferredLayer(NodeFields):
    """A layer whose ``type`` is an expression (``type: "${activation}"``).

    Its arguments can only be checked once the type is known, so the elaboration pass
    validates them against that layer type, per instance.
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    type: Expr = Field(description="an expression giving a layer type name")


@dataclass(frozen=True, eq=False)
class InvalidNode:
    """The typed placeholder of a node that failed validation.

    Its errors are reported by the validation pass; elaboration treats it as a failed
    node, so nodes that depend on it are skipped and the rest of the spec is still checked.
    """

    raw: Any
    errors: tuple[Any, ...]

    @property
    def id(self) -> Any:
        """The id as written (the elaborator keeps only a literal one)."""
        return self.raw.get("id") if isinstance(self.raw, dict) else None


PLACEHOLDERS = "invalid_nodes"
"""Validation-context key: when present (a dict), invalid nodes become :class:`InvalidNode` placeholders
registered there by ``id()`` of their raw mapping, instead of failing the whole document."""


def _node_or_placeholder(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        registry = (info.context or {}).get(PLACEHOLDERS)
        if registry is None:
            raise
        placeholder = InvalidNode(value, tuple(exc.errors(include_url=False)))
        registry[id(value)] = placeholder
        return placeholder


class LayerNode:
    """The layer slot of the node union: validated lazily, only against the layer type named.

    Building Pydantic validators for all ~70 layer types costs more than validating a
    spec; dispatching on ``type`` builds only the ones a spec uses (layer models are
    ``defer_build``) and gives the same answers as the discriminated union. The JSON
    Schema is still that union, generated from every registered layer model.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(_validate_layer)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Every registered layer by its ``type``, or a :class:`DeferredLayer` when ``type`` is ``${...}``."""
        expression_type = {
            "type": "object",
            "properties": {"type": {"type": "string", "pattern": r"^\$\{"}},
            "required": ["type"],
        }
        return {
            "if": expression_type,
            "then": handler(TypeAdapter(DeferredLayer).core_schema),
            "else": handler(_layer_union_schema(registry_version())),
        }


def _validate_layer(value: Any, info: ValidationInfo) -> Layer | DeferredLayer:
    types = layer_types()
    if isinstance(value, Layer) and types.get(value.type_name()) is type(value):
        return value
    if "type" not in value:
        raise PydanticCustomError("union_tag_not_found", "Unable to extract tag using discriminator 'type'")
    tag = value["type"]
    cls = _layer_class(tag)
    if cls is None:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag '{tag}' found using 'type' does not match any of the registered layer types",
            {"tag": str(tag), "discriminator": "'type'"},
        )
    found = quick.validate(cls, value, info.context)
    return cls.model_validate(value, context=info.context) if found is None else found


def _layer_class(tag: Any) -> type[Layer] | type[DeferredLayer] | None:
    """The model of a layer node with this ``type``: :class:`DeferredLayer` for an expression."""
    if isinstance(tag, str) and tag.startswith("${"):
        return DeferredLayer
    return layer_types().get(tag) if isinstance(tag, str) else None


def _quick_node(value: Any, context: quick.Context) -> Any:
    """The quick checker of a node: a valid one is typed at once; any other is Pydantic's (a placeholder)."""
    kind = node_kind(value)
    if kind is None or type(value) is not dict:
        return quick.UNSURE
    cls: Any = Group if kind == "group" else BlockUse if kind == "use" else _layer_class(value.get("type"))
    if cls is None:
        return quick.UNSURE
    result = quick.model_checker(cls)(value, context)
    return quick.UNSURE if result is quick.REJECT else result


@cache
def _layer_union_schema(version: int) -> CoreSchema:
    layers: Any = tuple(cls for _, cls in sorted(layer_types().items()))  # not import order: a stable schema
    return TypeAdapter(Annotated[Union[layers], Field(discriminator="type")]).core_schema  # noqa: UP007


if not TYPE_CHECKING:
    Node = Annotated[
        Union[Annotated[LayerNode, Tag("layer")], Annotated[Group, Tag("group")], Annotated[BlockUse, Tag("use")]],  # noqa: UP007
        Discriminator(node_kind, custom_error_type="node_kind", custom_error_message="a node must be a mapping"),
        WrapValidator(_node_or_placeholder),
    ]
    quick.register_special(Node, lambda: _quick_node)
