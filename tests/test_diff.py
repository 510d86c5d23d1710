"""``archspec diff``: nodes added, removed and changed by path, totals, the weights view; exit codes; no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import archspec
from archspec.cli import main

ROOT = Path(__file__).parent.parent
RESNET = str(ROOT / "specs" / "resnet18.yaml")


def diff(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main(["diff", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_spec_equals_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = diff(capsys, RESNET)
    assert code == 0 and out.rstrip().endswith("equal") and "0 added, 0 removed, 0 changed" in out
    assert diff(capsys, RESNET, RESNET, "--set", "num_classes=10")[0] == 0  # --set applies to both
    assert diff(capsys, RESNET, "--weights-only")[0] == 0


def test_deeper_resnet_adds_blocks_matched_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = diff(capsys, RESNET, "--set-b", "depths=[3,4,6,3]", "--format", "json")
    data = json.loads(out)
    a, b = archspec.load(RESNET), archspec.load(RESNET, depths=[3, 4, 6, 3])
    assert code == 1 and data["equal"] is False
    added = {n["path"] for n in data["nodes"] if n["status"] == "added"}
    assert added == {n.path for n in b.nodes} - {n.path for n in a.nodes}
    assert "layer3.5.conv2" in added and not any(n["status"] == "removed" for n in data["nodes"])
    assert data["totals"]["params"] == {
        "a": a.params_total,
        "b": b.params_total,
        "delta": b.params_total - a.params_total,
    }
    assert data["totals"]["flops"]["delta"] == b.flops - a.flops and data["totals"]["macs"]["b"] == b.macs
    rewired = {n["path"]: n for n in data["nodes"] if n["status"] == "changed"}
    assert rewired["layer2.0.conv1"]["changed"] == ["inputs"]  # now reads layer1.2, not layer1.1
    code, out, _ = diff(capsys, "--set-a", "depths=[3,4,6,3]", RESNET)
    assert code == 1 and "- layer3.5.conv2" in out  # the other way round: removed


def test_fewer_classes_change_the_head(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = diff(capsys, RESNET, "--set-b", "num_classes=10")
    assert code == 1
    assert "~ fc  out_features 1000->10; shape [1000]->[10]; params 513,000->5,130" in out
    assert "params               11,689,512 ->    11,181,642  (-507,870, -4.3%)" in out
    assert "output                   [1000] ->          [10]  (changed)" in out
    code, out, _ = diff(capsys, RESNET, "--set-b", "num_classes=10", "--weights-only")
    assert code == 1
    assert "changes shape  fc.weight  B [10, 512], A [1000, 512]" in out
    assert "120 unchanged, 2 change shape, 0 new in B, 0 gone in B" in out


def test_weights_only_new_and_gone_keys_are_the_state_dicts(capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    code, out, _ = diff(capsys, RESNET, "--set-a", "depths=[1,1,1,1]", "--weights-only", "--format", "json")
    data = json.loads(out)
    with torch.device("meta"):
        a = archspec.build(RESNET, depths=[1, 1, 1, 1]).state_dict()
        b = archspec.build(RESNET).state_dict()
    statuses: dict[str, set[str]] = {}
    for key in data["keys"]:
        statuses.setdefault(key["status"], set()).add(key["key"])
    assert code == 1 and statuses["missing"] == set(b) - set(a) and "unexpected" not in statuses
    assert statuses["loads"] == set(a) and data["counts"]["missing"] == len(set(b) - set(a))


def test_two_files_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    head = "archspec: 1\nname: m\ninput: {shape: [8]}\nlayers:\n  - {id: fc, type: Linear, out_features: 4}\n"
    a.write_text(head + "  - {id: drop, type: Dropout, p: 0.1}\n  - {id: out, type: Linear, out_features: 2}\n")
    b.write_text(head + "  - {id: drop, type: Dropout, p: 0.5}\n  - {id: act, type: ReLU}\n")
    code, out, _ = diff(capsys, a, b)
    assert code == 1
    assert (
        "~ drop  p 0.1->0.5" in out and "+ act   ReLU [4], 0 params" in out and "- out   Linear [2], 10 params" in out
    )
    assert out.index("+ act") < out.index("- out")  # removed nodes after B's nodes before them
    code, out, _ = diff(capsys, a, b, "--format", "markdown")
    assert code == 1 and out.startswith("### archspec diff: 1 added, 1 removed, 1 changed")
    assert "| params | 46 | 36 | -10, -21.7% |" in out and "| ~ | `drop` | p 0.1->0.5 |" in out
    code, out, _ = diff(capsys, a, b, "--weights-only", "--format", "markdown")
    assert code == 1 and "| gone in B | `out.weight` | [2, 4] not in B |" in out
    b.write_text(head + "  - {id: drop, type: Dropout, p: 0.5}\n  - {id: out, type: Linear, out_features: 2}\n")
    assert diff(capsys, a, b)[0] == 1 and diff(capsys, a, b, "--weights-only")[0] == 0  # same weights


def test_reordered_nodes_do_not_confuse_the_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("archspec: 1\nname: m\ninput: {shape: [4]}\nlayers: [{id: x, type: ReLU}, {id: y, type: Tanh}]\n")
    b.write_text("archspec: 1\nname: m\ninput: {shape: [4]}\nlayers: [{id: y, type: Tanh}, {id: x, type: ReLU}]\n")
    code, out, _ = diff(capsys, a, b, "--format", "json")
    assert code == 1 and {n["path"] for n in json.loads(out)["nodes"]} == {"x", "y"}


def test_errors_exit_1_for_an_invalid_spec_and_2_for_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("archspec: 1\nname: b\ninput: {channels: 3, size: 8}\nlayers: [{type: Linear}]\n")
    code, _, err = diff(capsys, RESNET, bad)
    assert code == 1 and "bad.yaml" in err and "error[" in err
    code, _, err = diff(capsys, RESNET, tmp_path / "missing.yaml")
    assert code == 2 and "missing.yaml" in err
    code, _, err = diff(capsys, RESNET, "--set-b", "depths")
    assert code == 2 and "--set expects KEY=VALUE" in err
    code, _, err = diff(capsys, RESNET, "--set-b", "depths=[1,2]")
    assert code == 1 and "depths" in err
    code, out, _ = diff(capsys, RESNET, tmp_path / "missing.yaml", "--format", "json")
    assert code == 2 and json.loads(out)[0]["code"] == "io"


def test_diff_does_not_import_torch() -> None:
    probe = (
        "import sys\nfrom archspec.cli import main\ncode = main(sys.argv[1:])\n"
        "print('TORCH', sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\nsys.exit(code)\n"
    )
    args = ["diff", RESNET, "--set-b", "depths=[3,4,6,3]", "--weights-only"]
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    assert "TORCH []" in result.stdout
