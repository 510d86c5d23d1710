"""Bounded builds (issue 10): a forward pass whose activations cannot fit is refused from the static shapes.

The specs here would need tens of GiB to TiB if run; each must be refused with exit 2 naming the
largest node, before torch allocates anything (so the tests finish quickly and never swap).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import archspec
from archspec.backends.limits import activation_bytes, check_activation_memory, parse_bytes
from archspec.cli import main
from archspec.errors import UsageError

HEADER = "archspec: 1\nname: {name}\n"

HUGE = {
    # an input of 100000x100000: the input alone is 37 GiB per sample
    "input": (
        "input: {channels: 1, size: [100000, 100000]}\nlayers:\n"
        "  - {id: stem, type: Conv2d, out_channels: 2, kernel_size: 3}\n"
        "  - {type: AdaptiveAvgPool2d, output_size: 1}\n  - {type: Flatten}\n",
        "'stem' (Conv2d, [2, 99998, 99998]",
    ),
    # padding of 10**6 makes a 2,000,006-square output from an 8x8 input
    "padding": (
        "input: {channels: 1, size: [8, 8]}\nlayers:\n"
        "  - {id: wide, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1000000}\n"
        "  - {type: AdaptiveAvgPool2d, output_size: 1}\n  - {type: Flatten}\n",
        "'wide' (Conv2d, [4, 2000006, 2000006]",
    ),
    # 5 million channels at 64x64: one 80 GB activation from 20 M parameters (80 MB)
    "channels": (
        "input: {channels: 3, size: [64, 64]}\nlayers:\n"
        "  - {id: fat, type: Conv2d, out_channels: 5000000, kernel_size: 1}\n"
        "  - {type: AdaptiveAvgPool2d, output_size: 1}\n  - {type: Flatten}\n",
        "'fat' (Conv2d, [5000000, 64, 64], 152.6 GiB)",
    ),
}


def write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEADER.format(name=name) + HUGE[name][0])
    return path


@pytest.mark.parametrize("name", list(HUGE))
def test_build_refuses_activations_that_do_not_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    spec = write(tmp_path, name)
    assert main(["build", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "error[too-large]" in err and "build's forward pass of 2 samples needs" in err
    assert "more than the limit of 4.0 GiB" in err and HUGE[name][1] in err
    assert "--max-activation-bytes" in err and "internal error" not in err


@pytest.mark.parametrize("name", list(HUGE))
def test_the_api_refuses_them_too(tmp_path: Path, name: str) -> None:
    pytest.importorskip("torch")
    spec = write(tmp_path, name)
    with pytest.raises(UsageError) as info:
        archspec.build(spec)
    assert "a forward pass of 1 sample needs" in str(info.value) and HUGE[name][1].split(",")[0] in str(info.value)


@pytest.mark.parametrize("command", [["export", "--format", "onnx", "-o", "x.onnx"], ["export", "-o", "x.ts"]])
def test_tracing_exports_refuse_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path, "channels")
    assert main([command[0], str(spec), *command[1:]]) == 2
    assert "export's example of 2 samples needs" in capsys.readouterr().err
    assert not any(tmp_path.glob("x.*"))


def test_train_and_evaluate_refuse_a_batch_before_loading_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tiny spec at 100000x100000: a batch of 3 needs 112 GiB for the input alone (fake data would too)."""
    pytest.importorskip("torch")
    from train_helpers import tiny_spec

    spec = tiny_spec(tmp_path)
    huge = ["--set", "size=100000", "--max-activation-bytes", "16GiB"]
    args = ["--data", "fake:4", "--batch-size", "3"]
    assert main(["train", str(spec), *args, *huge, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "a training step of 3 samples needs" in err and "limit of 16.0 GiB" in err
    assert "the largest is the input [1, 100000, 100000]" in err
    assert not (tmp_path / "o").exists()
    # the default limit, auto: this machine's memory (9.3 TiB for 64 samples exceeds any)
    assert main(["train", str(spec), "--data", "fake:4", "--set", "size=100000", "--out", str(tmp_path / "o")]) == 2
    assert "a training step of 64 samples needs 9.3 TiB" in capsys.readouterr().err
    assert main(["train", str(spec), *args, "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    checkpoint = str(tmp_path / "run" / "last.pt")
    assert main(["evaluate", str(spec), "--checkpoint", checkpoint, "--batch-size", "3", *huge]) == 2
    assert "an evaluation batch of 3 samples needs" in capsys.readouterr().err


def test_what_is_counted(tmp_path: Path) -> None:
    """float32 bytes of the input and of every node's output, times the batch."""
    compiled = archspec.load(
        "archspec: 1\nname: t\ninput: {channels: 3, size: [8, 8]}\nlayers:\n"
        "  - {type: Conv2d, out_channels: 8, kernel_size: 3}\n  - {type: ReLU}\n  - {type: Flatten}\n"
    )
    per_sample = 3 * 8 * 8 + 8 * 6 * 6 + 8 * 6 * 6 + 8 * 6 * 6  # input, conv, relu, flatten
    assert activation_bytes(compiled) == per_sample * 4
    assert activation_bytes(compiled, 5) == per_sample * 4 * 5
    check_activation_memory(compiled, per_sample * 4 * 5, batch=5)
    with pytest.raises(UsageError, match="the largest output: '0' \\(Conv2d"):
        check_activation_memory(compiled, per_sample * 4 * 5 - 1, batch=5)
    check_activation_memory(compiled, None, batch=10**9)


def test_the_input_can_be_the_largest() -> None:
    compiled = archspec.load(
        "archspec: 1\nname: t\ninput: {channels: 3, size: [4096, 4096]}\nlayers:\n"
        "  - {type: AdaptiveAvgPool2d, output_size: 1}\n"
    )
    with pytest.raises(UsageError) as info:
        check_activation_memory(compiled, 2**20)
    assert "the largest is the input [3, 4096, 4096]" in str(info.value)
    assert info.value.diagnostics[0].line == 3


def test_the_limit_can_be_raised_or_disabled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    spec = tmp_path / "small.yaml"
    spec.write_text(
        "archspec: 1\nname: small\ninput: {channels: 1, size: [64, 64]}\nlayers:\n"
        "  - {id: conv, type: Conv2d, out_channels: 64, kernel_size: 3, padding: 1}\n"
    )
    needed = 2 * 4 * (64 * 64 + 64 * 64 * 64)
    assert main(["build", str(spec), "--max-activation-bytes", str(needed - 1)]) == 2
    assert "'conv' (Conv2d, [64, 64, 64]" in capsys.readouterr().err
    assert main(["build", str(spec), "--max-activation-bytes", str(needed)]) == 0
    assert main(["build", str(spec), "--max-activation-bytes", "0"]) == 0
    assert main(["build", str(spec), "--max-activation-bytes", "1", "--no-forward"]) == 0
    capsys.readouterr()
    for text, reason in [
        ("lots", "is not a size"),
        ("0.5", "is not a whole number of bytes"),
        ("1e999", "is out of range"),
    ]:
        assert main(["build", str(spec), "--max-activation-bytes", text]) == 2
        assert f"--max-activation-bytes: '{text}' {reason}" in capsys.readouterr().err
    model = archspec.build(spec, max_activation_bytes=None)
    assert model.conv.out_channels == 64


def test_limits_parse_like_max_param_bytes() -> None:
    assert parse_bytes("4GiB") == 4 * 2**30 and parse_bytes("1e9") == 10**9
    assert math.isclose(parse_bytes("1.5KiB"), 1536)


def test_auto_is_the_machines_memory_and_at_least_the_default() -> None:
    torch = pytest.importorskip("torch")
    import os

    from archspec.backends.limits import DEFAULT_MAX_ACTIVATION_BYTES
    from archspec.train.runner import activation_limit

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert activation_limit("auto", torch.device("cpu")) == max(DEFAULT_MAX_ACTIVATION_BYTES, ram)
    assert activation_limit(123, torch.device("cpu")) == 123
    assert activation_limit(None, torch.device("cpu")) is None
