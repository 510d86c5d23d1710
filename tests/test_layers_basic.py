"""Worked examples for the activation, linear, dropout and shape layers (no torch needed).

The registry-wide contract test checks these families against torch on random cases;
here each rule has one readable example, including the restrictions archspec adds
because it models one sample at a time.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from archspec.errors import LayerError
from archspec.layers.base import Layer, LayerResult
from archspec.layers.registry import layer_types


def make(type_name: str, **args: Any) -> Layer:
    return layer_types()[type_name].model_validate({"type": type_name, **args})


def infer(type_name: str, shape: tuple[int, ...], **args: Any) -> LayerResult:
    return make(type_name, **args).infer([shape])


def rejects(type_name: str, shape: tuple[int, ...], match: str, **args: Any) -> LayerError:
    with pytest.raises(LayerError, match=match) as info:
        infer(type_name, shape, **args)
    return info.value


# -- activation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Hardswish"]
)
@pytest.mark.parametrize("shape", [(), (10,), (3, 8, 8)])
def test_activations_keep_the_shape_and_have_no_parameters(type_name: str, shape: tuple[int, ...]) -> None:
    assert infer(type_name, shape) == LayerResult(shape)


def test_activation_family_and_defaults() -> None:
    relu = make("ReLU", inplace=True)
    assert relu.family == "activation"
    assert relu.args() == {"inplace": True}
    assert make("GELU", approximate="tanh").label() == "tanh"


def test_unknown_gelu_approximation_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        make("GELU", approximate="erf")


@pytest.mark.parametrize(("type_name", "field"), [("LeakyReLU", "negative_slope"), ("ELU", "alpha")])
def test_inplace_with_a_negative_slope_is_rejected(type_name: str, field: str) -> None:
    rejects(type_name, (4,), "in-place", inplace=True, **{field: -0.5})
    assert infer(type_name, (4,), **{field: -0.5}).shape == (4,)


@pytest.mark.parametrize("type_name", ["Softmax", "LogSoftmax"])
def test_softmax_dim_counts_the_batch(type_name: str) -> None:
    assert infer(type_name, (10,), dim=1).shape == (10,)
    assert infer(type_name, (10,), dim=-1).shape == (10,)
    assert infer(type_name, (10,), dim=0).shape == (10,)  # over the batch: legal in torch
    assert infer(type_name, (10,)).shape == (10,)  # dim None: torch's implicit choice
    error = rejects(type_name, (10,), "out of range", dim=2)
    assert error.field == "dim"
    rejects(type_name, (10,), "out of range", dim=-3)


def test_prelu_parameters_are_one_or_per_channel() -> None:
    assert infer("PReLU", (16, 8, 8)) == LayerResult((16, 8, 8), 1, 1)
    assert infer("PReLU", (16, 8, 8), num_parameters=16) == LayerResult((16, 8, 8), 16, 16)
    assert infer("PReLU", (), num_parameters=1).params == 1
    error = rejects("PReLU", (16, 8, 8), "must be 1 or the number of input channels", num_parameters=8)
    assert error.field == "num_parameters"


# -- linear ------------------------------------------------------------------------------------


def test_linear_infers_in_features_and_counts_weights_and_bias() -> None:
    layer = make("Linear", out_features=128)
    assert layer.infer([(3136,)]) == LayerResult((128,), 3136 * 128 + 128, 3136 * 128 + 128, flops=2 * 3136 * 128)
    assert layer.inferred([(3136,)]) == {"in_features": 3136}
    assert layer.torch_kwargs([(3136,)]) == {"in_features": 3136, "out_features": 128}


def test_linear_maps_the_last_dim_of_any_rank() -> None:
    # torchinfo counts the weights once per sample; FlopCounterMode 2 per multiply-add for each of the 5 * 7 rows
    assert infer("Linear", (5, 7, 3), out_features=4, bias=False) == LayerResult((5, 7, 4), 12, 12, flops=2 * 35 * 12)


def test_linear_checks_written_in_features_and_rank() -> None:
    error = rejects("Linear", (10,), "in_features is 12", in_features=12, out_features=2)
    assert error.field == "in_features"
    rejects("Linear", (), "rank >= 1", out_features=2)


# -- dropout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", ["Dropout", "AlphaDropout", "Dropout3d"])
def test_dropout_keeps_any_shape(type_name: str) -> None:
    assert infer(type_name, (), p=0.5) == LayerResult(())
    assert infer(type_name, (3, 4, 5, 6, 7)).shape == (3, 4, 5, 6, 7)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_zero_one_is_invalid(p: float) -> None:
    with pytest.raises(ValidationError):
        make("Dropout", p=p)


def test_dropout_probability_bounds_are_inclusive() -> None:
    assert infer("Dropout", (4,), p=0).shape == infer("Dropout", (4,), p=1.0).shape == (4,)


def test_dropout1d_takes_rank_one_or_two() -> None:
    assert infer("Dropout1d", (8, 16)).shape == (8, 16)
    assert infer("Dropout1d", (16,)).shape == (16,)
    rejects("Dropout1d", (8, 4, 4), "rank 1 or 2")
    rejects("Dropout1d", (), "rank 1 or 2")


@pytest.mark.parametrize("type_name", ["Dropout2d", "FeatureAlphaDropout"])
def test_feature_dropout_needs_a_channel_dim_unless_p_is_zero_or_one(type_name: str) -> None:
    assert infer(type_name, (8, 4, 4)).shape == (8, 4, 4)
    assert infer(type_name, (8,)).shape == (8,)  # torch only warns
    rejects(type_name, (), "at least 1", p=0.5)
    assert infer(type_name, (), p=0).shape == ()


def test_stochastic_depth_keeps_any_shape_and_has_no_parameters() -> None:
    for shape in [(), (7,), (16, 8, 8), (2, 3, 4, 5, 6)]:
        assert infer("StochasticDepth", shape, p=0.2, mode="row") == LayerResult(shape)
    assert (
        infer("StochasticDepth", (4,), p=0, mode="batch").shape
        == infer("StochasticDepth", (4,), p=1.0, mode="row").shape
    )
    assert layer_types()["StochasticDepth"].family == "dropout"
    assert make("StochasticDepth", p=0.125, mode="row").label() == "p=0.125 row"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"p": -0.01, "mode": "row"}, "p"),
        ({"p": 1.01, "mode": "batch"}, "p"),
        ({"p": 0.5, "mode": "rows"}, "mode"),
        ({"p": 0.5, "mode": "Batch"}, "mode"),
        ({"mode": "row"}, "p"),  # torchvision has no defaults
        ({"p": 0.5}, "mode"),
        ({"p": True, "mode": "row"}, "p"),  # torchvision would read true as 1: archspec wants a number
    ],
)
def test_stochastic_depth_rejects_what_torchvision_rejects(args: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make("StochasticDepth", **args)
    assert {str(error["loc"][0]) for error in info.value.errors()} == {field}


# -- shape: Flatten, Unflatten, Identity -------------------------------------------------------


def test_flatten_defaults_merge_every_per_sample_dim() -> None:
    assert infer("Flatten", (64, 7, 7)) == LayerResult((3136,))


@pytest.mark.parametrize(
    ("args", "out"),
    [
        ({"start_dim": 2}, (64, 49)),
        ({"start_dim": 1, "end_dim": 2}, (448, 7)),
        ({"start_dim": -2, "end_dim": -1}, (64, 49)),
        ({"start_dim": 2, "end_dim": 2}, (64, 7, 7)),
        ({"start_dim": 0, "end_dim": 0}, (64, 7, 7)),
    ],
)
def test_flatten_dims_are_torchs_batched_dims(args: dict[str, int], out: tuple[int, ...]) -> None:
    assert infer("Flatten", (64, 7, 7), **args).shape == out


def test_flatten_rejects_the_batch_and_bad_dims() -> None:
    assert rejects("Flatten", (64, 7, 7), "batch", start_dim=0).field == "start_dim"
    assert rejects("Flatten", (64, 7, 7), "out of range", end_dim=4).field == "end_dim"
    rejects("Flatten", (64, 7, 7), "comes after", start_dim=3, end_dim=2)
    rejects("Flatten", (), "out of range")


def test_unflatten_splits_one_dim() -> None:
    assert infer("Unflatten", (3136,), dim=1, unflattened_size=[64, 7, 7]).shape == (64, 7, 7)
    assert infer("Unflatten", (5, 12), dim=-1, unflattened_size=[3, -1]).shape == (5, 3, 4)


@pytest.mark.parametrize("sizes", [[5, 5], [-1, -1], [-2, 6], [0, -1], [5, -1]])
def test_unflatten_sizes_must_multiply_up(sizes: list[int]) -> None:
    assert rejects("Unflatten", (12,), "unflattened_size", dim=1, unflattened_size=sizes).field == "unflattened_size"


def test_unflatten_rejects_the_batch_dim_and_empty_sizes() -> None:
    rejects("Unflatten", (12,), "batch", dim=0, unflattened_size=[1, -1])
    with pytest.raises(ValidationError):
        make("Unflatten", dim=1, unflattened_size=[])


def test_identity_passes_through() -> None:
    assert infer("Identity", (3, 5)) == LayerResult((3, 5))


# -- shape: Upsample ---------------------------------------------------------------------------


def test_upsample_bilinear_doubles_height_and_width() -> None:
    layer = make("Upsample", scale_factor=2, mode="bilinear", align_corners=False)
    assert layer.infer([(3, 16, 16)]) == LayerResult((3, 32, 32))
    assert layer.label() == "x2 bilinear"


@pytest.mark.parametrize(
    ("shape", "args", "out"),
    [
        ((3, 10), {"scale_factor": 0.3}, (3, 3)),  # floor(10 * 0.3) in double precision
        ((3, 7, 7), {"scale_factor": 1.5}, (3, 10, 10)),
        ((3, 7, 7), {"scale_factor": [2, 0.5]}, (3, 14, 3)),
        ((3, 4, 4, 4), {"size": 6, "mode": "trilinear"}, (3, 6, 6, 6)),
        ((3, 4, 4), {"size": [5, 9], "mode": "bicubic", "align_corners": True}, (3, 5, 9)),
        ((3, 8), {"scale_factor": 1 / 3, "mode": "linear", "recompute_scale_factor": True}, (3, 2)),
        ((3, 8, 8), {"size": 4, "scale_factor": 0}, (3, 4, 4)),  # torch treats scale 0 as unset
    ],
)
def test_upsample_output_size(shape: tuple[int, ...], args: dict[str, Any], out: tuple[int, ...]) -> None:
    assert infer("Upsample", shape, **args).shape == out


@pytest.mark.parametrize(
    ("shape", "args", "match"),
    [
        ((3, 8, 8), {}, "exactly one of size and scale_factor"),
        ((3, 8, 8), {"size": 4, "scale_factor": 2}, "exactly one of size and scale_factor"),
        ((3, 8, 8), {"scale_factor": 0}, r"greater than 0, got 0 \(torch reads a scale factor of 0 as 'not given'\)"),
        ((3, 8, 8), {"scale_factor": 0.0}, "scale_factor must be greater than 0, got 0.0"),
        ((3, 8, 8), {"scale_factor": [2, 0.0]}, r"greater than 0, got 0.0$"),
        ((3, 8, 8), {"scale_factor": 2, "align_corners": True}, "align_corners"),
        ((3, 8, 8), {"size": 4, "recompute_scale_factor": True}, "recompute_scale_factor"),
        ((3, 8, 8), {"scale_factor": 2, "mode": "trilinear"}, "needs 3 spatial dim"),
        ((3, 8), {"scale_factor": 2, "mode": "bilinear"}, "needs 2 spatial dim"),
        ((3, 8, 8), {"size": [4, 4, 4]}, "3 entries"),
        ((3, 8, 8), {"scale_factor": 0.1}, "output height would be 0"),
        ((3, 8, 8), {"scale_factor": -2.0}, "scale_factor must be greater than 0, got -2.0"),
        ((8,), {"scale_factor": 2}, "rank 2 or 3 or 4"),
    ],
)
def test_upsample_rejects(shape: tuple[int, ...], args: dict[str, Any], match: str) -> None:
    rejects("Upsample", shape, match, **args)


# -- shape: padding ----------------------------------------------------------------------------


def test_zero_pad_orders_sides_last_dim_first() -> None:
    assert infer("ZeroPad2d", (3, 4, 4), padding=[1, 2, 3, 4]) == LayerResult((3, 11, 7))
    assert infer("ZeroPad1d", (3, 4, 4), padding=2).shape == (3, 4, 8)
    assert infer("ZeroPad3d", (3, 4, 4, 4), padding=1).shape == (3, 6, 6, 6)


def test_negative_padding_crops() -> None:
    assert infer("ZeroPad2d", (3, 8, 8), padding=-1).shape == (3, 6, 6)
    assert infer("ConstantPad1d", (3, 1), padding=[-1, 3], value=2.5).shape == (3, 3)
    rejects("ZeroPad2d", (3, 2, 2), "output width would be 0", padding=-1)
    rejects("ZeroPad1d", (3, 1), "crops 2 from the input length 1", padding=[-2, 3])


def test_pad_list_must_have_two_values_per_dim() -> None:
    with pytest.raises(ValidationError):
        make("ZeroPad2d", padding=[1, 1])


def test_constant_pad_never_pads_the_batch() -> None:
    assert infer("ZeroPad2d", (5,), padding=[1, 2, 0, 0]).shape == (8,)
    rejects("ZeroPad2d", (5,), "batch", padding=1)
    rejects("ZeroPad3d", (5,), "6 padding values pad 3 dims", padding=1)


def test_reflection_padding_must_be_smaller_than_the_input() -> None:
    assert infer("ReflectionPad2d", (3, 4, 4), padding=3).shape == (3, 10, 10)
    assert rejects("ReflectionPad2d", (3, 4, 4), "smaller than the input", padding=4).field == "padding"
    rejects("ReflectionPad2d", (3, 4, 4, 4), "rank 2 or 3", padding=1)


def test_replication_and_circular_padding() -> None:
    assert infer("ReplicationPad1d", (3, 2), padding=5).shape == (3, 12)
    assert infer("CircularPad2d", (3, 4, 4), padding=4).shape == (3, 12, 12)
    rejects("CircularPad2d", (3, 4, 4), "more than once", padding=5)


def test_labels() -> None:
    assert make("Linear", out_features=10).label() == "10"
    assert make("Dropout", p=0.25).label() == "p=0.25"
    assert make("ZeroPad2d", padding=1).label() == "p1"
    assert make("Upsample", size=[4, 6]).label() == "size 4x6"
    assert make("Flatten").label() == ""


def test_every_new_type_is_registered_with_its_family() -> None:
    families = {"activation": ["ReLU", "PReLU", "Softmax"], "linear": ["Linear"], "dropout": ["Dropout2d"]}
    families["shape"] = ["Flatten", "Unflatten", "Identity", "Upsample", "ZeroPad2d", "ReflectionPad2d"]
    types = layer_types()
    for family, names in families.items():
        for name in names:
            assert types[name].family == family, name
