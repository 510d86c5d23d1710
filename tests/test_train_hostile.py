"""Hostile trainer inputs (issue 10): broken image folders, damaged checkpoint and export metadata, NaN settings.

Every file is made here, in tmp_path; each case must end in a usage error (exit 2) that names the file,
never an internal error, a MemoryError or a hang.
"""

from __future__ import annotations

import copy
import math
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from train_helpers import cli, run_archspec, subprocess_env, tiny_spec, write_imagefolder  # noqa: E402

import archspec  # noqa: E402
from archspec.errors import UsageError  # noqa: E402
from archspec.frontend.models import TrainConfig  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

HANG_GUARD_S = 120
"""A stored expression like ``${round(1, -10**70)}`` used to hang evaluate and load_model: a guard against
the hang, not a speed check (a fresh process that imports torch takes 10-20 s on a loaded 2-core machine)."""


def _error(capsys: pytest.CaptureFixture[str], *args: Any) -> str:
    code = cli(*args)
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    assert "internal error" not in captured.err and "Traceback" not in captured.err
    return captured.err


# ----------------------------------------------------------------------------- image folders


def png_header(width: int, height: int) -> bytes:
    """A PNG that is only a header: PIL opens it lazily and learns its size without decoding."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def _truncate_header(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:20])


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero-byte": (lambda p: p.write_bytes(b""), "is an empty file"),
    "text-named-png": (lambda p: p.write_text("not a picture\n"), "is not an image PIL can read"),
    "truncated-header": (_truncate_header, "is not an image PIL can read"),
    "bomb-100000x100000": (lambda p: p.write_bytes(png_header(100_000, 100_000)), "is refused as a decompression bomb"),
    "bomb-over-pil-warning": (
        lambda p: p.write_bytes(png_header(10_000, 10_000)),
        "is refused as a decompression bomb",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unusable_image_files_stop_the_run_naming_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=4)
    make, reason = BAD_FILES[case]
    bad = root / "class_1" / "bad.png"
    bad.write_bytes(b"\x89PNG")  # replaced below
    make(bad)
    spec = tiny_spec(tmp_path, classes=2)
    err = _error(capsys, "train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", tmp_path / "o")
    assert f"'{bad}' {reason}" in err
    assert "1 of 9 files" in err and "error[bad-image]" in err
    assert "MemoryError" not in err
    assert not (tmp_path / "o" / "last.pt").exists()


def test_every_unusable_file_is_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=4)
    for index in range(7):
        (root / "class_0" / f"empty{index}.png").write_bytes(b"")
    spec = tiny_spec(tmp_path, classes=2)
    err = _error(capsys, "train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", tmp_path / "o")
    assert "7 of 15 files" in err and err.count("is an empty file") == 5 and "; ..." in err


def test_corrupt_pixels_stop_the_run_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid header over a broken data stream is found when the image is decoded, in training."""
    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=4)
    broken = root / "class_0" / "1.png"
    data = bytearray(broken.read_bytes())
    start = data.index(b"IDAT") + 6
    data[start : start + 20] = b"\xff" * 20
    broken.write_bytes(bytes(data))
    spec = tiny_spec(tmp_path, classes=2)
    err = _error(capsys, "train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", tmp_path / "o")
    assert f"'{broken}' is corrupt or truncated" in err and "error[data]" in err


def test_mixed_greyscale_and_rgb_suggests_channels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=4)
    colour = root / "class_1" / "colour.png"
    Image.new("RGB", (28, 28), (200, 10, 10)).save(colour)
    spec = tiny_spec(tmp_path, classes=2)
    args = ["--data", f"imagefolder:{root}", "--epochs", "1"]
    err = _error(capsys, "train", spec, *args, "--out", tmp_path / "o")
    assert f"'{colour}' is RGB" in err and "is greyscale" in err
    assert "--channels 1" in err and "--resize" not in err
    assert cli("train", spec, *args, "--out", tmp_path / "ok", "--channels", "1") == 0
    assert torch.load(tmp_path / "ok" / "last.pt", weights_only=True)["data"]["train_size"] == 7


def test_mixed_sizes_suggest_resize_naming_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=4)
    big = root / "class_1" / "big.png"
    Image.new("L", (40, 30)).save(big)
    spec = tiny_spec(tmp_path, classes=2)
    err = _error(capsys, "train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", tmp_path / "o")
    assert f"'{big}' is 30x40" in err and "--resize H,W" in err


@pytest.mark.parametrize("per_class", [1, 2])
def test_a_folder_too_small_for_a_validation_split_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], per_class: int
) -> None:
    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=per_class)
    if per_class == 1:
        shutil.rmtree(root / "class_1")
    spec = tiny_spec(tmp_path, classes=2 if per_class == 2 else 1)
    err = _error(capsys, "train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", tmp_path / "o")
    assert "too few for a validation split" in err and "0.00%" not in err
    assert not (tmp_path / "o" / "last.pt").exists()


# ----------------------------------------------------------------------------- checkpoint metadata


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("hostile")
    torch.set_num_threads(1)
    spec = tiny_spec(folder)
    out = folder / "out"
    assert cli("train", spec, "--data", "fake:16", "--epochs", "1", "--out", out, "--scheduler", "step") == 0
    return spec, out, torch.load(out / "last.pt", weights_only=True)


def recursive_list() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


def recursive_dict() -> dict[str, Any]:
    value: dict[str, Any] = {}
    value["self"] = value
    return value


def _set(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value() if callable(value) else value

    return change


CHECKPOINT_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "preprocess-int": (_set("data", "preprocess", value=5), "field 'data.preprocess'"),
    "preprocess-str": (_set("data", "preprocess", value="pixels"), "field 'data.preprocess'"),
    "lr-nan": (_set("settings", "lr", value=math.nan), "field 'settings.lr': Input should be a finite number"),
    "std-zero": (
        _set("data", "preprocess", "normalize", value={"mean": [0.5], "std": [0.0]}),
        "field 'data.preprocess.normalize.std.0': Input should be greater than 0",
    ),
    "settings-std-inf": (
        _set("settings", "normalize", value={"mean": [0.5], "std": [math.inf]}),
        "field 'settings.normalize.std.0'",
    ),
    "recursive-history": (_set("history", value=recursive_list), "field 'history.0'"),
    "recursive-settings": (_set("settings", value=recursive_dict), "field 'settings"),
    "recursive-params": (_set("spec", "params", "num_classes", value=recursive_list), "(or is recursive)"),
    "epoch-a-string": (_set("epoch", value="1"), "field 'epoch'"),
    "altered-text": (_set("spec", "text", value="archspec: 1\n"), "does not match its sha256"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES))
def test_damaged_checkpoint_metadata_is_named(
    trained: tuple[Path, Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    spec, _, payload = trained
    change, message = CHECKPOINT_CASES[case]
    damaged = copy.deepcopy(payload)
    change(damaged)
    path = tmp_path / f"{case}.pt"
    torch.save(damaged, path)
    err = _error(capsys, "evaluate", spec, "--checkpoint", path, "--data", "fake:16")
    assert f"'{path}' holds a damaged archspec checkpoint" in err and message in err


def test_a_stored_expression_is_refused_not_evaluated(
    trained: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    """``${round(1, -10**70)}`` hung ``evaluate``; a stored parameter is a literal value."""
    spec, _, payload = trained
    damaged = copy.deepcopy(payload)
    damaged["spec"]["params"]["num_classes"] = "${round(1, -10**70)}"
    path = tmp_path / "expression.pt"
    torch.save(damaged, path)
    result = run_archspec(
        "evaluate", spec, "--checkpoint", path, "--data", "fake:16", cwd=tmp_path, timeout=HANG_GUARD_S
    )
    assert result.returncode == 2, result.stderr
    assert "field 'spec.params': 'num_classes' holds an expression" in result.stderr


@pytest.mark.parametrize(
    "entry,value",
    [
        ("optimizer", {"state": 5, "param_groups": 3}),
        ("rng", {"torch": "not a tensor"}),
        ("rng", {"torch": torch.zeros(3, dtype=torch.uint8)}),
        ("scheduler", {"optimizer": 5}),
        ("scheduler", "step"),
    ],
)
def test_resume_from_damaged_state_is_a_usage_error(
    trained: tuple[Path, Path, dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    entry: str,
    value: Any,
) -> None:
    spec, out, payload = trained
    run = tmp_path / "run"
    shutil.copytree(out, run)
    damaged = copy.deepcopy(payload)
    damaged[entry] = value
    torch.save(damaged, run / "last.pt")
    err = _error(
        capsys, "train", spec, "--data", "fake:16", "--epochs", "2", "--out", run, "--resume", "--scheduler", "step"
    )
    assert f"'{run / 'last.pt'}'" in err and ("does not fit this model and run" in err or f"field '{entry}" in err)


# ----------------------------------------------------------------------------- export metadata


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("export")
    spec = tiny_spec(folder)
    assert cli("export", spec, "-o", folder / "model.pt") == 0
    return torch.load(folder / "model.pt", weights_only=True)


EXPORT_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "spec-an-int": (_set("spec", value=5), "field 'spec': Input should be a valid dictionary"),
    "spec-a-string": (_set("spec", value="lenet"), "field 'spec': Input should be a valid dictionary"),
    "nested-expression": (
        _set("spec", "params", "num_classes", value=[["${2**2**2**2**2**2}"]]),
        "'num_classes[0][0]' holds an expression",
    ),
    "recursive-params": (_set("spec", "params", "num_classes", value=recursive_list), "(or is recursive)"),
    "params-nan": (_set("spec", "params", "num_classes", value=math.nan), "'num_classes' is nan"),
    "params-huge-list": (_set("spec", "params", "num_classes", value=list(range(200_001))), "more than 100,000"),
    "params-a-tensor": (_set("spec", "params", "num_classes", value=torch.zeros(1)), "'num_classes' is a Tensor"),
    "params-int-keys": (_set("spec", "params", "num_classes", value={1: 2}), "keys that are not strings"),
    "params-a-mapping": (_set("spec", "params", "num_classes", value={"a": math.inf}), "'num_classes['a']' is inf"),
    "version-a-list": (_set("version", value=[1] * 1000), "format version list"),
}


@pytest.mark.parametrize("case", list(EXPORT_CASES))
def test_damaged_export_metadata_is_named(exported: dict[str, Any], tmp_path: Path, case: str) -> None:
    change, message = EXPORT_CASES[case]
    damaged = copy.deepcopy(exported)
    change(damaged)
    path = tmp_path / f"{case}.pt"
    torch.save(damaged, path)
    with pytest.raises(UsageError) as info:
        archspec.load_model(path)
    text = info.value.format()
    assert str(path) in text and message in text


def test_stored_parameters_are_checked_against_the_spec(exported: dict[str, Any], tmp_path: Path) -> None:
    damaged = copy.deepcopy(exported)
    damaged["spec"]["params"]["num_classes"] = "ten"
    path = tmp_path / "wrong-type.pt"
    torch.save(damaged, path)
    with pytest.raises(UsageError) as info:
        archspec.load_model(path)
    text = info.value.format()
    assert f"the spec stored in '{path}' does not compile with its stored parameters" in text
    assert "'ten'" in text and "num_classes" in text


def test_load_model_does_not_evaluate_a_stored_expression(exported: dict[str, Any], tmp_path: Path) -> None:
    damaged = copy.deepcopy(exported)
    damaged["spec"]["params"]["num_classes"] = "${round(1, -10**70)}"
    path = tmp_path / "expression.pt"
    torch.save(damaged, path)
    code = (
        "import archspec\n"
        f"try:\n    archspec.load_model({str(path)!r})\n"
        "except archspec.UsageError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        env=subprocess_env(),
        cwd=tmp_path,
    )
    assert "holds an expression" in result.stdout, result.stderr


# ----------------------------------------------------------------------------- non-finite settings


@pytest.mark.parametrize("value", ["nan/nan", "0.5/inf", "inf/0.5", "0.5/nan", "0.5/-0.1"])
def test_non_finite_normalize_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    spec = tiny_spec(tmp_path)
    assert cli("train", spec, "--normalize", value) == 2
    assert "finite means and positive, finite stds" in capsys.readouterr().err


@pytest.mark.parametrize(
    "values,field",
    [
        ({"lr": math.nan}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"weight_decay": -math.inf}, "weight_decay"),
        ({"normalize": {"mean": [math.nan], "std": [1.0]}}, "normalize"),
        ({"epochs": 0}, "epochs"),
        ({"seed": 2**64}, "seed"),
    ],
)
def test_train_settings_refuse_what_torch_would_take_silently(values: dict[str, Any], field: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        TrainConfig.model_validate(values)
    assert info.value.errors()[0]["loc"][0] == field


def test_literal_dollar_brace_strings_round_trip_and_resolved_expressions_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "archspec: 1\nname: e\ninput: {channels: 1, size: [8, 8]}\n"
    layers = "layers:\n  - {type: Conv2d, out_channels: 2, kernel_size: 3}\n"
    spec = tmp_path / "ok.yaml"
    spec.write_text(header + 'params: {width: 4, tag: "w${width}", brace: "a ${ b", stages: [{ch: 2}]}\n' + layers)
    assert cli("export", spec, "-o", tmp_path / "ok.pt") == 0
    stored = torch.load(tmp_path / "ok.pt", weights_only=True)["spec"]["params"]
    assert stored == {"width": 4, "tag": "w4", "brace": "a ${ b", "stages": [{"ch": 2}]}
    assert archspec.load_model(tmp_path / "ok.pt")[0].out_channels == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(header + "params: {t: \"${'$' + '{x}'}\"}\n" + layers)  # resolves to the string '${x}'
    err = _error(capsys, "export", bad, "-o", tmp_path / "bad.pt")
    assert "cannot store the spec's parameters" in err and "'t' holds an expression" in err
    assert not (tmp_path / "bad.pt").exists()


@pytest.mark.parametrize(
    "layer",
    ["{type: LeakyReLU, negative_slope: .nan}", "{type: BatchNorm2d, eps: .inf}", "{type: Dropout, p: -.inf}"],
)
def test_non_finite_layer_arguments_are_spec_errors_with_a_hint(layer: str) -> None:
    from archspec.errors import SpecError

    with pytest.raises(SpecError) as info:
        archspec.load(f"archspec: 1\nname: t\ninput: {{channels: 2, size: [8, 8]}}\nlayers:\n  - {layer}\n")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "bad-value" and diagnostic.line == 5
    assert diagnostic.hint and "NaN and infinity are refused" in diagnostic.hint
