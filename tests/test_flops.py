"""Static FLOPs equal what ``torch.utils.flop_counter.FlopCounterMode`` counts on the built model.

Every shipped spec (``specs/*.yaml``, so a spec added later is covered too) is built with
``archspec.build`` and run once on a batch of one under FlopCounterMode: the total must equal
``CompiledSpec.flops``, and every layer node that is a submodule of the built model must have
the FLOPs FlopCounterMode attributes to that submodule (a functional node computed in its
parent's ``forward`` is checked through the total only).

The reference run is the one torch's published figures come from: CPU, eval mode, autograd
on. (Under ``torch.no_grad`` an eval-mode ``nn.MultiheadAttention`` takes a fused kernel that
FlopCounterMode does not count: torchvision's ViT-B/16 then counts 22.5 GFLOPs, not 33.7.)
A spec with recurrent layers runs with oneDNN off: a float32 LSTM would otherwise run as one
fused oneDNN kernel that FlopCounterMode counts as 0 (docs/sequence-models.md).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import archspec  # noqa: E402
from archspec.backends.export import example_inputs  # noqa: E402

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def counted(model: torch.nn.Module, compiled: archspec.CompiledSpec) -> tuple[int, dict[str, int]]:
    """FlopCounterMode's total for one sample (of each input's shape, dtype and range), and its count
    per submodule path. Recurrent layers are counted on torch's native CPU kernels (oneDNN off),
    whose matrix products FlopCounterMode sees."""
    native = any(node.layer.family == "recurrent" for node in compiled.nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=not native), FlopCounterMode(display=False) as counter:
            model(*example_inputs(compiled, batch=1))
    root = type(model).__name__ + "."
    per_module = {
        name.removeprefix(root): sum(ops.values())
        for name, ops in counter.get_flop_counts().items()
        if name.startswith(root)
    }
    return counter.get_total_flops(), per_module


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_static_flops_equal_flop_counter_mode(spec: Path, one_thread: None) -> None:
    compiled = archspec.load(spec)
    model = archspec.build(spec).eval()
    total, per_module = counted(model, compiled)
    assert compiled.flops == total, f"{spec.name}: FlopCounterMode counts {total:,} FLOPs, archspec {compiled.flops:,}"
    assert total > 0
    submodules = dict(model.named_modules())
    checked = 0
    for node in compiled.nodes:
        if node.path in submodules:
            assert node.result is not None
            expected = per_module.get(node.path, 0)
            assert node.result.flops == expected, (
                f"{spec.name}: node {node.path}: torch {expected}, archspec {node.result.flops}"
            )
            checked += 1
    # every module node is checked (Swin's are a third of its nodes: the rest are tensor operations)
    modules = [n for n in compiled.nodes if not (n.layer.functional or n.layer.stored)]
    assert checked == len(modules) > 0


def test_resnet18_flops_are_torchs_published_figure() -> None:
    """FlopCounterMode on torchvision's resnet18 at 224x224 counts 3,628,146,688 (issue 11)."""
    assert archspec.load(ROOT / "specs" / "resnet18.yaml").flops == 3_628_146_688
