"""Token data that does not fit, damaged token files and specs the trainer cannot train: each one
sentence (exit 2) naming the file, the value and the fix, never a traceback, and nothing written."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

from train_helpers import cli, token_classes, token_spec, token_stream  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


def _refused(capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: Path, *args: object) -> str:
    capsys.readouterr()
    out = tmp_path / "run"
    code = cli("train", spec, *args, "--epochs", "1", "--device", "cpu", "--out", out)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert not out.exists()
    return err


def _classes(**changes: object) -> dict[str, object]:
    arrays: dict[str, object] = dict(token_classes(30))
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def _with_id(value: int, at: tuple[int, int] = (4, 6)) -> dict[str, object]:
    tokens = token_classes(30)["tokens"].copy()
    tokens[at] = value
    return _classes(tokens=tokens)


CLASSIFY_CASES: dict[str, tuple[Callable[[], dict[str, object]], list[str]]] = {
    "id-too-large": (
        lambda: _with_id(24),
        ["token id 24 (tokens[4, 6]) is outside the spec's input range [0, 24)", "error[data-mismatch]", "seq.npz"],
    ),
    "negative-id": (lambda: _with_id(-3, (0, 0)), ["token id -3 (tokens[0, 0]) is outside"]),
    "huge-unsigned-id": (
        lambda: _classes(tokens=np.full((30, 8), 2**64 - 1, dtype=np.uint64)),
        ["token id 18446744073709551615 (tokens[0, 0])"],
    ),
    "sequence-length": (
        lambda: _classes(tokens=token_classes(30, length=12)["tokens"]),
        ["'tokens' is [30, 12]: samples of [12], but the spec's input is [8]", "--set length=12 changes the spec"],
    ),
    "one-flat-sequence": (
        lambda: _classes(tokens=np.arange(30)),
        ["'tokens' is [30]: samples of [], but the spec's input is [8]"],
    ),
    "float-ids": (
        lambda: _classes(tokens=np.ones((30, 8), dtype=np.float32)),
        ["'tokens' holds float32 values, not integer token ids"],
    ),
    "bool-ids": (lambda: _classes(tokens=np.ones((30, 8), dtype=bool)), ["'tokens' holds bool values"]),
    "string-ids": (lambda: _classes(tokens=np.array(["a", "b"])), ["'tokens' holds strings"]),
    "empty": (lambda: _classes(tokens=np.zeros((0, 8), dtype=np.int64)), ["'tokens' is empty [0, 8]"]),
    "no-labels": (lambda: _classes(labels=None), ["has no 'labels' (it holds tokens)"]),
    "misspelt-key": (
        lambda: {"tokens": token_classes(30)["tokens"], "label": token_classes(30)["labels"]},
        ["holds 'label', which --task classify does not read", "did you mean 'labels'"],
    ),
    "label-count": (lambda: _classes(labels=np.zeros(29, dtype=np.int64)), ["'labels' is [29], but 'tokens' holds 30"]),
    "label-too-large": (
        lambda: _classes(labels=np.arange(30) % 5),
        ["label 4 (labels[4]) is outside the model's 3 classes [0, 3)", "--set num_classes=5"],
    ),
    "negative-label": (lambda: _classes(labels=np.arange(30) % 3 - 1), ["label -1 (labels[0]) is outside"]),
    "class-names": (
        lambda: _classes(classes=np.array(["a", "b"])),
        ["has 2 classes, but the model outputs 3 logits", "--set num_classes=2"],
    ),
    "half-a-validation-split": (
        lambda: _classes(val_tokens=token_classes(6)["tokens"]),
        ["has 'val_tokens' but no 'val_labels'"],
    ),
    "validation-id-too-large": (
        lambda: _classes(val_tokens=np.full((6, 8), 99), val_labels=np.zeros(6, dtype=np.int64)),
        ["token id 99 (val_tokens[0, 0]) is outside the spec's input range [0, 24)"],
    ),
    "too-few-for-a-split": (
        lambda: {"tokens": token_classes(2)["tokens"], "labels": np.array([0, 1])},
        ["too few for a validation split", "give val_tokens and val_labels"],
    ),
    "lm-data": (lambda: {"tokens": np.arange(30), "val_tokens": np.arange(9)}, ["has no 'labels'"]),
}


@pytest.mark.parametrize("case", list(CLASSIFY_CASES))
def test_classifier_data_that_does_not_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    make, expected = CLASSIFY_CASES[case]
    np.savez(tmp_path / "seq.npz", **make())  # type: ignore[arg-type]
    spec = token_spec(tmp_path)
    err = _refused(capsys, tmp_path, spec, "--data", f"tokens:{tmp_path / 'seq.npz'}")
    for text in expected:
        assert text in err


LM_CASES: dict[str, tuple[dict[str, object], list[str]]] = {
    "id-too-large": (
        {"tokens": np.append(token_stream(100), 30)},
        ["token id 30 (tokens[100]) is outside the spec's input range [0, 24)"],
    ),
    "window-width": (
        {"tokens": np.zeros((10, 8), dtype=np.int64)},
        ["'tokens' holds windows of 8 ids [10, 8], but the spec's input [8] takes windows of length + 1 = 9"],
    ),
    "too-short": ({"tokens": np.arange(8)}, ["'tokens' holds 8 ids, fewer than one window of length + 1 = 9"]),
    "one-window": ({"tokens": np.arange(9)}, ["holds 1 window(s) of 9 ids, too few for a validation split"]),
    "three-dims": ({"tokens": np.zeros((2, 3, 9), dtype=np.int64)}, ["--task lm reads a stream [T] or windows"]),
    "labels": (
        dict(token_classes(30)),
        ["holds 'labels', which --task lm does not read", "hint: --task lm reads tokens, val_tokens (is it data"],
    ),
}


@pytest.mark.parametrize("case", list(LM_CASES))
def test_lm_data_that_does_not_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    arrays, expected = LM_CASES[case]
    np.savez(tmp_path / "lm.npz", **arrays)  # type: ignore[arg-type]
    spec = token_spec(tmp_path, lm=True)
    err = _refused(capsys, tmp_path, spec, "--task", "lm", "--data", f"tokens:{tmp_path / 'lm.npz'}")
    for text in expected:
        assert text in err


class _Anything:
    pass


def _write_object_npz(path: Path) -> None:
    np.savez(path, tokens=np.array([[1, 2], None], dtype=object), labels=np.zeros(2, dtype=np.int64))


FILE_CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "object-array": ("f.npz", _write_object_npz, "it holds Python objects, not just arrays"),
    "pickled-object": (
        "f.pt",
        lambda p: torch.save({"tokens": _Anything()}, p),
        "cannot read '{path}' as a .pt token file: it holds Python objects, not just tensors and plain data (refused",
    ),
    "a-bare-pickle": (
        "f.pt",
        lambda p: p.write_bytes(pickle.dumps({"tokens": _Anything()})),
        "cannot read '{path}' as a .pt token file: it is corrupt, truncated or not a torch file",
    ),
    "not-a-zip": ("f.npz", lambda p: p.write_bytes(b"not numpy at all"), "cannot read '{path}' as a .npz token file"),
    "truncated-pt": (
        "f.pt",
        lambda p: (torch.save({"tokens": torch.zeros(30, 8, dtype=torch.long)}, p), p.write_bytes(p.read_bytes()[:50])),
        "it is corrupt, truncated or not a torch file",
    ),
    "one-unnamed-array": (
        "f.npz",
        lambda p: p.write_bytes(_npy_bytes(np.zeros((30, 8), dtype=np.int64))),
        "holds one unnamed array, not named arrays",
    ),
    "a-list": ("f.pt", lambda p: torch.save([torch.zeros(3)], p), "holds a list, not a dict of named tensors"),
    "float-tensor": (
        "f.pt",
        lambda p: torch.save({"tokens": torch.zeros(30, 8, dtype=torch.bfloat16), "labels": torch.zeros(30)}, p),
        "'tokens' holds bfloat16 values, not integer token ids",
    ),
    "float-labels": (
        "f.pt",
        lambda p: torch.save({"tokens": torch.zeros(30, 8, dtype=torch.long), "labels": torch.zeros(30)}, p),
        "'labels' holds float32 values, not integer labels",
    ),
    "sparse-tensor": (
        "f.pt",
        lambda p: torch.save({"tokens": torch.zeros(30, 8, dtype=torch.long).to_sparse()}, p),
        "'tokens' holds a sparse_coo int64 tensor, not integer token ids",
    ),
    "a-number": ("f.pt", lambda p: torch.save({"tokens": 5, "labels": 3}, p), "'tokens' holds a int, not integer"),
    "wrong-suffix": ("f.csv", lambda p: p.write_text("1,2,3\n"), "a token file is .npz or .pt, not '.csv'"),
    "missing": ("f.npz", lambda p: None, "'{path}' does not exist"),
    "a-folder": ("f.npz", lambda p: p.mkdir(), "'{path}' is not a file"),
}


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_damaged_token_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    name, write, expected = FILE_CASES[case]
    path = tmp_path / name
    write(path)
    err = _refused(capsys, tmp_path, token_spec(tmp_path), "--data", f"tokens:{path}")
    assert expected.format(path=path) in err


# --- the data kind and the spec's input disagree ---


def test_image_data_for_a_token_spec_and_token_data_for_an_image_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from train_helpers import tiny_spec

    err = _refused(capsys, tmp_path, token_spec(tmp_path))  # the default data, mnist5k
    assert "--data mnist5k gives images, but the spec's input is token ids (int64 [8] in [0, 24))" in err
    assert "--data tokens:FILE" in err and "tokcls.yaml:3:" in err
    np.savez(tmp_path / "seq.npz", **token_classes(30))
    err = _refused(capsys, tmp_path, tiny_spec(tmp_path), "--data", f"tokens:{tmp_path / 'seq.npz'}")
    assert "gives token ids, but the spec's input is float32 [1, 28, 28]" in err
    err = _refused(capsys, tmp_path, token_spec(tmp_path), "--data", "seq.npz")
    assert "unknown data 'seq.npz'" in err and "hint: --data tokens:seq.npz reads that file" in err
    err = _refused(capsys, tmp_path, token_spec(tmp_path), "--data", "fake", "--resize", "32")
    assert "--data fake gives token ids: --resize, --channels and --normalize apply to images" in err


# --- what the trainer cannot train ---

NOT_TRAINABLE = {
    "mask-input": (
        "input: {shape: [8], dtype: bool}\nlayers:\n  - {type: to, dtype: float32}\n"
        "  - {type: Linear, out_features: 2}",
        [],
        "its input is bool (a mask), not an image or token ids",
    ),
    "no-range": (
        "input: {shape: [8], dtype: int64}\nlayers:\n  - {type: Embedding, num_embeddings: 9, embedding_dim: 4}\n"
        "  - {type: mean, dim: 1}\n  - {type: Linear, out_features: 2}",
        [],
        "declare the range of the ids: input: {shape: [LENGTH], dtype: int64, range: [0, VOCAB]}",
    ),
    "lm-of-images": (
        "input: {channels: 1, size: [4, 4]}\nlayers:\n  - {type: Flatten}\n  - {type: Linear, out_features: 2}",
        ["--task", "lm"],
        "--task lm trains on token ids, but its input is float32",
    ),
    "lm-without-positions": (
        "input: {shape: [8], dtype: int64, range: [0, 9]}\nlayers:\n"
        "  - {type: Embedding, num_embeddings: 9, embedding_dim: 4}\n  - {type: mean, dim: 1}\n"
        "  - {type: Linear, out_features: 9}",
        ["--task", "lm"],
        "--task lm needs logits [length, vocabulary] = [8, 9 or more]",
    ),
    "lm-small-vocabulary": (
        "input: {shape: [8], dtype: int64, range: [0, 9]}\nlayers:\n"
        "  - {type: Embedding, num_embeddings: 9, embedding_dim: 4}\n  - {type: Linear, out_features: 5}",
        ["--task", "lm"],
        "but the model outputs [8, 5]",
    ),
    "lm-of-grids": (
        "input: {shape: [2, 8], dtype: int64, range: [0, 9]}\nlayers:\n"
        "  - {type: Embedding, num_embeddings: 9, embedding_dim: 4}\n  - {type: Linear, out_features: 9}",
        ["--task", "lm"],
        "--task lm takes a sequence of token ids [length], not [2, 8]",
    ),
    "lm-classifier-data": (
        "input: {shape: [8], dtype: int64, range: [0, 9]}\nlayers:\n"
        "  - {type: Embedding, num_embeddings: 9, embedding_dim: 4}\n  - {type: Linear, out_features: 9}",
        [],
        "the model's output must be [num_classes], not [8, 9]",
    ),
}


@pytest.mark.parametrize("case", list(NOT_TRAINABLE))
def test_what_the_trainer_cannot_train_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    body, args, expected = NOT_TRAINABLE[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"archspec: 1\nname: s\n{body}\n")
    err = _refused(capsys, tmp_path, spec, "--data", "fake", *args)
    assert expected in err


def test_a_file_that_unpacks_beyond_memory_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from archspec.backends import ptfile

    np.savez_compressed(tmp_path / "zeros.npz", tokens=np.zeros((4096, 8), dtype=np.int64), labels=np.zeros(4096))
    assert (tmp_path / "zeros.npz").stat().st_size < 10_000  # 300 KiB of ids, compressed
    monkeypatch.setattr(ptfile, "memory_bytes", lambda: 100_000)
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("read before the size check"))
    err = _refused(capsys, tmp_path, token_spec(tmp_path), "--data", f"tokens:{tmp_path / 'zeros.npz'}")
    assert f"'{tmp_path / 'zeros.npz'}' unpacks to 288.2 KiB, more than this machine's memory (97.7 KiB)" in err


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        ((), "torch's adam refuses them"),
        (("--optimizer", "adamw"), "torch's adamw refuses them"),
        (("--optimizer", "sgd", "--weight-decay", "0.01"), "torch's SGD cannot apply weight decay to them"),
    ],
)
def test_sparse_gradients_need_an_optimiser_that_takes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], why: str
) -> None:
    """An Embedding with ``sparse: true`` makes sparse gradients: torch's Adam and AdamW raise at the
    first step, its SGD too with weight decay. Refused before training, at the node; plain SGD trains."""
    spec = token_spec(tmp_path)
    spec.write_text(spec.read_text().replace("embedding_dim: 8}", "embedding_dim: 8, sparse: true}"))
    err = _refused(capsys, tmp_path, spec, "--data", "fake:16", *flags)
    assert "tokcls.yaml:6:5: error[sparse-gradients]: node '0' (Embedding) has sparse: true" in err
    assert why in err and "--optimizer sgd --weight-decay 0, or set sparse: false" in err
    args = ["--data", "fake:16", "--optimizer", "sgd", "--epochs", "1", "--device", "cpu"]
    assert cli("train", spec, *args, "--out", tmp_path / "sgd") == 0
