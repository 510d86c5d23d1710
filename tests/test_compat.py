"""``archspec compat`` and ``--weights``: the verdict agrees with what a real strict ``load_state_dict`` does.

Weights files are made here from torchvision's models (resnet18(num_classes=10) against the
spec's default 1000 classes, renamed keys, a DataParallel prefix, files saved before BatchNorm's
``num_batches_tracked``), from ``archspec export`` and from a real training run; hostile files
(TorchScript, garbage, pickles of objects, folders) are refused with exit 2 and no traceback.
"""

from __future__ import annotations

import json
import pickle
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
import torchvision
from train_helpers import cli, tiny_spec

import archspec
from archspec.backends.ptfile import state_dict_of
from archspec.backends.weights import check, load_into, plan, read_weights
from archspec.errors import UsageError

ROOT = Path(__file__).parent.parent
RESNET = ROOT / "specs" / "resnet18.yaml"
LENET = ROOT / "specs" / "lenet5.yaml"


def strict_load_succeeds(model: torch.nn.Module, path: Path) -> bool:
    """The truth: torch's own strict load of the file's state dict."""
    state = state_dict_of(torch.load(path, weights_only=True), str(path))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError:
        return False
    return True


def verdict_agrees(spec: Path, path: Path, **overrides: Any) -> bool:
    """The static verdict, asserted equal to torch's; returned."""
    compiled = archspec.load(spec, **overrides)
    static = check(compiled, read_weights(path)).strict_ok
    assert static == strict_load_succeeds(archspec.build(compiled), path), f"{spec.name} {overrides} vs {path.name}"
    return static


def compat(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = cli("compat", *args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def resnet_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    full = torchvision.models.resnet18().state_dict()
    files = {
        "full": full,
        "ten": torchvision.models.resnet18(num_classes=10).state_dict(),
        "renamed": OrderedDict((k.replace("fc.", "head."), v) for k, v in full.items()),
        "parallel": OrderedDict(("module." + k, v) for k, v in full.items()),
        "half": OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in full.items()),
    }
    paths = {}
    for name, state in files.items():
        paths[name] = folder / f"{name}.pt"
        torch.save(state, paths[name])
    return paths


def test_torchvision_weights_load_into_the_spec(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert verdict_agrees(RESNET, resnet_files["full"])
    code, out, _ = compat(capsys, RESNET, resnet_files["full"])
    assert code == 0
    assert "122 load, 0 shape mismatches, 0 missing, 0 unexpected" in out
    assert "verdict: loads: a strict load_state_dict succeeds (122 of 122 entries)" in out


def test_ten_classes_against_the_default_thousand(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert not verdict_agrees(RESNET, resnet_files["ten"])
    assert verdict_agrees(RESNET, resnet_files["ten"], num_classes=10)
    code, out, _ = compat(capsys, RESNET, resnet_files["ten"])
    assert code == 1
    assert "shape mismatch  fc.weight  spec [1000, 512], file [10, 512]" in out
    assert "shape mismatch  fc.bias    spec [1000], file [10]" in out
    assert "--no-strict loads 120 of 122 entries" in out
    assert compat(capsys, RESNET, resnet_files["ten"], "--set", "num_classes=10")[0] == 0


def test_renamed_keys_get_a_did_you_mean(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert not verdict_agrees(RESNET, resnet_files["renamed"])
    code, out, _ = compat(capsys, RESNET, resnet_files["renamed"])
    assert code == 1
    assert "missing     fc.weight    [1000, 512] not in file; did you mean head.weight?" in out
    assert "unexpected  head.bias    [1000] not in spec; did you mean fc.bias?" in out


def test_a_dataparallel_prefix_is_named(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert not verdict_agrees(RESNET, resnet_files["parallel"])
    code, out, _ = compat(capsys, RESNET, resnet_files["parallel"])
    assert code == 1
    assert "hint: every key of the file has the extra prefix 'module.'" in out
    assert "... and" in out and "--all" in out  # long listings are cut
    assert len(compat(capsys, RESNET, resnet_files["parallel"], "--all")[1].splitlines()) > 200


def test_dtypes_cast_and_still_load(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert verdict_agrees(RESNET, resnet_files["half"])
    code, out, _ = compat(capsys, RESNET, resnet_files["half"])
    assert code == 0 and "note: 102 entries load converted from float16 to float32" in out
    assert "conv1.weight" not in out
    assert re.search(
        r"loads +conv1.weight +\[64, 3, 7, 7\] \(cast from float16\)",
        compat(capsys, RESNET, resnet_files["half"], "--all")[1],
    )


@pytest.mark.parametrize("version", [None, 1, 2])
def test_num_batches_tracked_follows_torchs_metadata_rule(tmp_path: Path, version: int | None) -> None:
    """Files saved before BatchNorm's version 2 lack the counter, and torch fills it: only then."""
    state = torchvision.models.resnet18().state_dict()
    kept = OrderedDict((k, v) for k, v in state.items() if not k.endswith("num_batches_tracked"))
    if version is None:
        kept = dict(kept)  # a plain dict: no _metadata at all
    else:
        kept._metadata = OrderedDict((k, {**v, "version": version}) for k, v in state._metadata.items())  # type: ignore[attr-defined]
    path = tmp_path / "old.pt"
    torch.save(kept, path)
    assert verdict_agrees(RESNET, path) is (version != 2)
    statuses = {k.status for k in check(archspec.load(RESNET), read_weights(path)).keys}
    assert statuses == ({"loads", "filled"} if version != 2 else {"loads", "missing"})


def test_a_key_naming_a_module_is_unexpected(tmp_path: Path) -> None:
    state = torchvision.models.resnet18().state_dict()
    path = tmp_path / "extra.pt"
    for extra in ("layer1", "relu", "layer1.0.conv1", "relu.x", ""):
        torch.save({**state, extra: torch.zeros(1)}, path)
        assert not verdict_agrees(RESNET, path), extra


def test_a_scalar_takes_a_one_element_vector(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "archspec: 1\nname: s\ninput: {shape: [4]}\nlayers:\n"
        "  - {id: scale, type: Parameter, shape: []}\n  - {id: y, type: mul, inputs: [input, scale]}\n"
    )
    path = tmp_path / "w.pt"
    for shape, loads in (((1,), True), ((3,), False), ((1, 1), False), ((), True)):
        torch.save({"scale": torch.ones(shape)}, path)
        assert verdict_agrees(spec, path) is loads, shape


def test_an_export_and_a_training_checkpoint_load(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    exported = tmp_path / "lenet.pt"
    assert cli("export", LENET, "-o", exported) == 0
    spec = tiny_spec(tmp_path)
    assert (
        cli("train", spec, "--data", "fake:32", "--epochs", "1", "--batch-size", "16", "--out", tmp_path / "run") == 0
    )
    capsys.readouterr()
    checkpoint = tmp_path / "run" / "last.pt"
    for source, path, kind in (
        (LENET, exported, "an archspec export"),
        (spec, checkpoint, "an archspec training checkpoint"),
    ):
        assert verdict_agrees(source, path)
        code, out, _ = compat(capsys, source, path)
        assert code == 0 and kind in out, out
    code, out, _ = compat(capsys, spec, exported)  # LeNet's weights are not the tiny CNN's
    assert code == 1 and "unexpected" in out
    assert not verdict_agrees(spec, exported)


def test_json_report(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    code, out, _ = compat(capsys, RESNET, resnet_files["renamed"], "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["strict_load"] is False and data["file"] == "a state dict"
    assert data["counts"] == {"loads": 120, "filled": 0, "shape": 0, "missing": 2, "unexpected": 2}
    by_key = {k["key"]: k for k in data["keys"]}
    assert by_key["fc.weight"]["did_you_mean"] == "head.weight"
    assert by_key["bn1.num_batches_tracked"]["expected"] == {"shape": [], "dtype": "int64", "kind": "buffer"}
    assert by_key["head.bias"]["found"] == {"shape": [1000], "dtype": "float32"} and data["verdict"].startswith("does")


def _torchscript(path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)


HOSTILE = {
    "torchscript": (_torchscript, "is a TorchScript archive"),
    "garbage": (lambda p: p.write_bytes(b"\x00not torch" * 50), "corrupt, truncated or not a torch file"),
    "empty": (lambda p: p.write_bytes(b""), "corrupt, truncated or not a torch file"),
    "truncated": (lambda p: p.write_bytes(_saved({"w": torch.zeros(100)})[:300]), "corrupt, truncated"),
    "objects": (lambda p: torch.save({"w": Path("/")}, p), "holds Python objects"),
    "pickle": (lambda p: p.write_bytes(pickle.dumps({"w": 1})), "corrupt, truncated or not a torch file"),
    "a-list": (lambda p: torch.save([torch.zeros(2)], p), "holds a list, not a state dict"),
    "no-tensors": (lambda p: torch.save({"epoch": 3}, p), "holds no state dict"),
    "empty-dict": (lambda p: torch.save({}, p), "holds no state dict"),
    "folder": (lambda p: p.mkdir(), "is a folder, not a weights file"),
    "missing": (lambda p: None, "does not exist"),
}


def _saved(value: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_unreadable_files_exit_2_with_a_clear_message(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture) -> None:
    make, words = HOSTILE[kind]
    path = tmp_path / "weights.pt"
    make(path)
    code, out, err = compat(capsys, LENET, path)
    assert code == 2, (out, err)
    assert words in err and str(path) in err and "Traceback" not in err + out
    code, out, _ = compat(capsys, LENET, path, "--format", "json")
    assert code == 2 and words in json.loads(out)[0]["message"]
    assert cli("build", LENET, "--weights", path, "--no-forward") == 2


def test_a_legacy_format_file_is_read_without_mapping(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "legacy.pt"
    torch.save(archspec.build(LENET).state_dict(), path, _use_new_zipfile_serialization=False)
    assert verdict_agrees(LENET, path)
    assert compat(capsys, LENET, path)[0] == 0


def test_an_invalid_spec_exits_1(tmp_path: Path, resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("archspec: 1\nname: b\ninput: {channels: 3, size: 8}\nlayers: [{type: Linear}]\n")
    assert compat(capsys, bad, resnet_files["full"])[0] == 1


# -- --weights on build and train -------------------------------------------------------------


def test_build_with_weights_strict_and_not(resnet_files: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    assert cli("build", RESNET, "--weights", resnet_files["ten"], "--no-forward") == 2
    err = capsys.readouterr().err
    assert "do not fit the spec" in err and "shape mismatch  fc.weight" in err and "--no-strict" in err
    assert cli("build", RESNET, "--weights", resnet_files["ten"], "--no-strict", "--no-forward") == 0
    out = capsys.readouterr().out
    assert "loaded 120 of 122 entries" in out and "shape mismatch  fc.bias    spec [1000], file [10]" in out
    assert cli("build", RESNET, "--weights", resnet_files["ten"], "--set", "num_classes=10", "--no-forward") == 0
    assert "loaded 122 of 122 entries" in capsys.readouterr().out


def test_non_strict_loading_loads_what_fits_and_keeps_the_rest(resnet_files: dict[str, Path]) -> None:
    compiled = archspec.load(RESNET)
    weights = read_weights(resnet_files["ten"])
    with pytest.raises(UsageError, match="do not fit"):
        plan(compiled, weights, strict=True)
    model = archspec.build(compiled)
    before = model.state_dict()["fc.weight"].clone()
    lines = load_into(model, weights, plan(compiled, weights, strict=False))
    saved = torch.load(resnet_files["ten"], weights_only=True)
    assert torch.equal(model.state_dict()["layer3.1.conv2.weight"], saved["layer3.1.conv2.weight"])
    assert torch.equal(model.state_dict()["fc.weight"], before)
    assert lines[0].startswith("loaded 120 of 122 entries")


def test_train_starts_from_weights(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = tiny_spec(tmp_path)
    source = tmp_path / "source.pt"
    torch.manual_seed(1)
    torch.save(archspec.build(archspec.load(spec)).state_dict(), source)
    args = ("train", spec, "--data", "fake:32", "--epochs", "1", "--batch-size", "16")
    assert cli(*args, "--out", tmp_path / "a", "--weights", source) == 0
    assert "loaded 9 of 9 entries" in (tmp_path / "a" / "train.log").read_text()
    wrong = tiny_spec(tmp_path, classes=3, name="three.yaml")
    capsys.readouterr()
    assert cli("train", wrong, "--data", "fake:32", "--epochs", "1", "--out", tmp_path / "b", "--weights", source) == 2
    assert "shape mismatch" in capsys.readouterr().err and not (tmp_path / "b" / "last.pt").exists()
    assert cli("train", wrong, *args[2:], "--out", tmp_path / "c", "--weights", source, "--no-strict") == 0
    log = (tmp_path / "c" / "train.log").read_text()
    assert "loaded 7 of 9 entries" in log and "shape mismatch" in log


def test_compat_builds_no_model(resnet_files: dict[str, Path]) -> None:
    """Nothing that builds modules is even imported: the check reads shapes only."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom archspec.cli import main\ncode = main(sys.argv[1:])\n"
        "print('BUILDER', 'archspec.backends.torch_backend' in sys.modules, 'torchvision' in sys.modules)\n"
        "sys.exit(code)\n"
    )
    args = ["compat", str(RESNET), str(resnet_files["ten"])]
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    assert "BUILDER False False" in result.stdout
