"""``archspec codegen``: one class per block definition over its parameters, a root class over the spec's
``params``, golden files of every shipped spec's source, and parameter overrides checked against
``archspec.build``. Regenerate the golden files with ``ARCHSPEC_UPDATE_GOLDEN=1``."""

from __future__ import annotations

import functools
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from golden import GOLDEN as GOLDEN_ROOT
from golden import assert_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

import archspec  # noqa: E402
from archspec.backends.codegen import generate_source  # noqa: E402
from archspec.backends.export import example_inputs  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_codegen import import_file, ruff_clean  # noqa: E402

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
GOLDEN = GOLDEN_ROOT / "codegen"

GENERIC_ROOTS = {"alexnet", "conv_variants", "lenet5", "resnet18"}
"""Shipped specs whose root class takes the spec's params (the others say in a comment why not)."""

OVERRIDES: dict[str, list[dict[str, Any]]] = {
    "alexnet": [{"num_classes": 5, "dropout": 0.1}, {"num_classes": 2}],
    "conv_variants": [],
    "convnext_tiny": [{"dims": [8, 16, 24, 32], "depths": [1, 1, 2, 1], "num_classes": 3}],
    "efficientnet_b0": [{"num_classes": 4, "stages": [[1, 3, 1, 8, 1], [2, 3, 2, 16, 2], [3, 5, 2, 24, 1]]}],
    "gpt_decoder": [{"n_layer": 2, "n_head": 2, "n_embd": 16, "block_size": 8}, {"bias": True, "n_layer": 1}],
    "gru_timeseries": [{"window": 20, "features": 3, "hidden_size": 16, "horizon": 2}],
    "lenet5": [{"num_classes": 3}, {"num_classes": 100}],
    "lstm_classifier": [
        {"vocab_size": 50, "seq_len": 7, "embed_dim": 8, "hidden_size": 6, "num_classes": 3, "dropout": 0.0}
    ],
    "mnist_cnn": [{"num_classes": 3}],
    "mobilenet_v3_small": [
        {"num_classes": 3, "bneck": [[3, 16, 16, True, "ReLU", 2], [3, 24, 16, False, "Hardswish", 1]]}
    ],
    "resnet18": [{"num_classes": 10}, {"depths": [1, 3, 1, 2]}, {"depths": [3, 1, 2, 1], "num_classes": 7}],
    "shufflenet_v2_x1_0": [
        {"stages_repeats": [1, 2, 1], "stages_out_channels": [8, 16, 32, 64, 128], "num_classes": 3}
    ],
    "swin_t": [
        {
            "image_size": [32, 32],
            "embed_dim": 12,
            "depths": [1, 1, 2, 1],
            "num_heads": [1, 2, 2, 4],
            "window_size": [2, 2],
            "num_classes": 3,
        }
    ],
    "unet": [{"width": 4, "num_classes": 3}],
    "vgg16": [{"stages": [[8, 1], [16, 2]], "num_classes": 3}],
    "vit_b_16": [{"image_size": 32, "patch_size": 8, "hidden_dim": 24, "num_layers": 2, "num_heads": 2, "mlp_dim": 16}],
}

# every kind of expression a generic class translates: mapping keys (stem.kernel), min/max, //,
# 'in range(...)', a repeat with a named index, a 'when' inside a block, sizes through a block
EXPRESSIONS = """
archspec: 1
name: expressions
input: {channels: 3, size: [16, 16]}
params:
  stem: {default: {width: 8, kernel: 3}}
  widths: [8, 12]
  extra: 1
blocks:
  Unit:
    doc: A conv whose width is computed, and a pool that only some copies have.
    params: {width: null, factor: 2, shrink: {type: bool, default: false}}
    layers:
      - {id: conv, type: Conv2d, out_channels: "${max(4, width // factor)}", kernel_size: 3, padding: 1}
      - {id: norm, type: BatchNorm2d}
      - {id: pool, type: MaxPool2d, kernel_size: 2, when: "${shrink}"}
      - {id: act, type: ReLU}
layers:
  - id: stem
    type: Conv2d
    out_channels: "${stem.width}"
    kernel_size: "${stem.kernel}"
    padding: "${stem.kernel // 2}"
  - id: stages
    repeat: {count: "${len(widths)}", as: k}
    use: Unit
    width: "${widths[k] + extra}"
    shrink: "${k in range(1, 5)}"
  - {id: pool, type: AdaptiveAvgPool2d, output_size: 1}
  - {id: flat, type: Flatten}
  - {id: head, type: Linear, out_features: "${min(widths) + 1}"}
"""

# a block whose optional node is built in no instance: nothing to check its class against
NEVER_BUILT = """
archspec: 1
name: never
input: {channels: 4, size: [8, 8]}
blocks:
  Maybe:
    params: {extra: false}
    layers:
      - {id: conv, type: Conv2d, out_channels: 4, kernel_size: 1}
      - {id: more, type: Conv2d, out_channels: 4, kernel_size: 1, when: "${extra}"}
layers:
  - {id: a, use: Maybe}
  - {id: b, use: Maybe}
"""


@functools.cache
def _generated(path: Path) -> str:
    """Each shipped spec's source, written once per test session (several tests read it)."""
    return generate_source(archspec.load(path), origin=path.name)


def _source(path: Path, tmp_path: Path, overrides: dict[str, Any] | None = None) -> tuple[str, Any]:
    source = generate_source(archspec.load(path, **overrides), origin=path.name) if overrides else _generated(path)
    file = tmp_path / f"{path.stem}_{abs(hash(str(overrides))) % 10**8}.py"
    file.write_text(source)
    return source, import_file(file)


def _same_as_build(model: Any, spec: Path | str, overrides: dict[str, Any], x: tuple[Any, ...] | None = None) -> None:
    """Same state_dict keys, and with the built model's weights the same outputs (on ``x``, else a batch
    at the spec's input shapes)."""
    torch.manual_seed(0)
    compiled = archspec.load(spec, **overrides)
    built = archspec.build(compiled).eval()
    model.eval()
    assert list(model.state_dict()) == list(built.state_dict())
    model.load_state_dict(built.state_dict(), strict=True)
    x = example_inputs(compiled, batch=2, seed=1) if x is None else x
    with torch.no_grad():
        torch.testing.assert_close(model(*x), built(*x), rtol=0, atol=0)


def _takes_params(cls: type) -> bool:
    return len(inspect.signature(cls).parameters) > 0


def test_resnet18_has_one_block_class_and_a_root_over_its_params() -> None:
    source = generate_source(archspec.load(ROOT / "specs" / "resnet18.yaml"))
    assert re.findall(r"^class (\w+)", source, re.M) == ["BasicBlock", "Resnet18"]
    assert "    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:\n" in source
    assert "        if stride != 1 or in_channels != channels:\n            self.downsample = nn.Sequential(" in source
    assert "        if self.downsample is not None:\n            downsample = self.downsample(x)\n" in source
    assert "        for i in range(depths[1]):\n" in source
    assert "BasicBlock(64 if i == 0 else 128, 128, stride=2 if i == 0 else 1)" in source
    assert "        num_classes: int = 1000,\n        depths: list[int] | None = None,\n" in source
    assert "        self.fc = nn.Linear(512, num_classes)\n" in source
    assert "Written per instance" not in source


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_generated_source_matches_its_golden_file(path: Path) -> None:
    assert_golden(GOLDEN / f"{path.stem}.py", _generated(path))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_which_root_classes_take_the_spec_params(path: Path) -> None:
    """Pinned, so that a change that loses (or gains) a generic root shows here; the others say why."""
    source = _generated(path)
    root = re.findall(r"^class (\w+)", source, re.M)[-1]
    body = source[source.index(f"class {root}(") :]
    assert ("Written per instance" not in body) == (path.stem in GENERIC_ROOTS)
    if path.stem not in GENERIC_ROOTS:
        assert re.search(r"# Written per instance \(values baked in\): \S", body)


@pytest.mark.parametrize(
    ("path", "overrides"),
    [
        pytest.param(ROOT / "specs" / f"{name}.yaml", overrides, id=f"{name}-{index}")
        for name, cases in OVERRIDES.items()
        for index, overrides in enumerate(cases)
    ],
)
def test_parameter_overrides_build_the_same_model(path: Path, overrides: dict[str, Any], tmp_path: Path) -> None:
    """A generic root takes the overrides as keyword arguments; the others are written with them (--set)."""
    _, module = _source(path, tmp_path)
    (name,) = module.__all__
    cls = getattr(module, name)
    if path.stem in GENERIC_ROOTS:
        _same_as_build(cls(**overrides), path, overrides)
        return
    assert not _takes_params(cls)
    _, baked = _source(path, tmp_path, overrides)
    _same_as_build(getattr(baked, name)(), path, overrides)


def test_every_shipped_spec_has_overrides_here() -> None:
    assert {p.stem for p in SPECS} == set(OVERRIDES)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(num_classes=st.integers(1, 50), depths=st.lists(st.integers(1, 2), min_size=4, max_size=4))
def test_resnet18_takes_any_depths_and_classes(num_classes: int, depths: list[int], tmp_path: Path) -> None:
    module = import_file(_written(tmp_path, "resnet18"))
    _same_as_build(
        module.Resnet18(num_classes=num_classes, depths=depths),
        ROOT / "specs" / "resnet18.yaml",
        {
            "num_classes": num_classes,
            "depths": depths,
        },
        (torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)),),  # any size: global pooling
    )


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(num_classes=st.integers(1, 500))
def test_lenet5_takes_any_number_of_classes(num_classes: int, tmp_path: Path) -> None:
    module = import_file(_written(tmp_path, "lenet5"))
    _same_as_build(module.Lenet5(num_classes=num_classes), ROOT / "specs" / "lenet5.yaml", {"num_classes": num_classes})


def _written(tmp_path: Path, name: str) -> Path:
    file = tmp_path / f"{name}.py"
    if not file.exists():
        file.write_text(_generated(ROOT / "specs" / f"{name}.yaml"))
    return file


def test_expressions_are_written_in_python(tmp_path: Path) -> None:
    source = generate_source(archspec.load(EXPRESSIONS))
    file = tmp_path / "expressions.py"
    file.write_text(source)
    ruff_clean(file)
    assert re.findall(r"^class (\w+)", source, re.M) == ["Unit", "Expressions"]
    assert (
        "        in_channels: int,\n        width: int,\n        factor: int = 2,\n        shrink: bool = False,\n"
        in source
    )
    assert "max(4, width // factor)" in source
    assert 'stem["kernel"] // 2' in source  # a mapping's key, not an attribute
    assert "k in list(range(1, 5))" in source  # range is a list in the spec language
    assert "for k in range(len(widths)):" in source
    assert "        if shrink:\n            self.pool = nn.MaxPool2d(kernel_size=2)\n" in source
    module = import_file(file)
    for overrides in ({}, {"widths": [4, 6, 10], "extra": 0}, {"stem": {"width": 6, "kernel": 5}, "widths": [3]}):
        _same_as_build(module.Expressions(**overrides), EXPRESSIONS, overrides)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    widths=st.lists(st.integers(1, 12), min_size=1, max_size=3),
    extra=st.integers(0, 4),
    channels=st.integers(1, 6),
    kernel=st.sampled_from([1, 3, 5]),
)
def test_expressions_hold_for_generated_overrides(
    widths: list[int], extra: int, channels: int, kernel: int, tmp_path: Path
) -> None:
    file = tmp_path / "expressions.py"
    if not file.exists():
        file.write_text(generate_source(archspec.load(EXPRESSIONS)))
    overrides = {"widths": widths, "extra": extra, "stem": {"width": channels, "kernel": kernel}}
    _same_as_build(import_file(file).Expressions(**overrides), EXPRESSIONS, overrides)


def test_a_block_whose_optional_node_is_never_built_is_written_per_instance(tmp_path: Path) -> None:
    source = generate_source(archspec.load(NEVER_BUILT))
    file = tmp_path / "never.py"
    file.write_text(source)
    ruff_clean(file)
    assert "class Maybe(nn.Module):" in source
    assert "# Written per instance (values baked in): its node at blocks.Maybe.layers.1 is built\n" in source
    assert "    # per instance.\n" in source  # the root uses it, so it is written per instance too
    _same_as_build(import_file(file).Never(), NEVER_BUILT, {})


def test_sizes_that_a_layer_computes_with_int_are_checked_against_variants() -> None:
    """The LSTM's input size goes through int(): constant in one compile, it changes with hidden_size."""
    source = generate_source(archspec.load(ROOT / "specs" / "lstm_classifier.yaml"))
    assert "# Written per instance (values baked in): a size depends on the parameter" in source
    assert "def __init__(self) -> None:" in source


def test_codegen_with_set_makes_the_overrides_the_defaults(tmp_path: Path) -> None:
    source = generate_source(archspec.load(ROOT / "specs" / "resnet18.yaml", depths=[1, 1, 1, 1]))
    assert "        if depths is None:\n            depths = [1, 1, 1, 1]\n" in source
    file = tmp_path / "resnet.py"
    file.write_text(source)
    _same_as_build(import_file(file).Resnet18(), ROOT / "specs" / "resnet18.yaml", {"depths": [1, 1, 1, 1]})


def test_generated_resnet_scripts_with_its_optional_downsample(tmp_path: Path) -> None:
    """``self.downsample = None`` unless built, ``if self.downsample is not None`` in forward: TorchScript
    reads it as torchvision's resnet.py."""
    module = import_file(_written(tmp_path, "resnet18"))
    net = module.Resnet18(num_classes=4, depths=[1, 2, 1, 1]).eval()
    scripted = torch.jit.script(net)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), net(x), rtol=0, atol=0)
