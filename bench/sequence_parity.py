"""Parity table: the shipped sequence specs against their references (issue 12's figures).

For ``vit_b_16`` and ``swin_t`` (torchvision), ``gpt_decoder`` (the nanoGPT-style ``GPT`` of
tests/test_gpt_decoder.py), ``lstm_classifier`` and ``gru_timeseries`` (the hand-written classes of
tests/test_recurrent_specs.py), at the spec's default size and batch 1, on CPU:

* parameters: the static total against ``sum(p.numel())`` of the reference;
* FLOPs: the static total against ``FlopCounterMode`` counting the reference's forward (eval mode,
  autograd on; the recurrent ones with oneDNN off, the convention docs/sequence-models.md explains);
* mult-adds: the static total against torchinfo's count of the reference (``--torchinfo``);
* the reference's ``state_dict`` loaded into ``archspec.build(spec)`` with ``strict=True``;
* the largest absolute difference of the eval-mode outputs, same weights, same input.

The test suite asserts the same (tests/test_vit.py, test_swin.py, test_gpt_decoder.py,
test_recurrent_specs.py); this prints the figures. Static shapes at every node are checked by
those tests and tests/test_torch_backend.py, not here.

Run: .venv/bin/python bench/sequence_parity.py [--threads 2] [--torchinfo] [--markdown] [SPEC...]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

NAMES = ["vit_b_16", "swin_t", "gpt_decoder", "lstm_classifier", "gru_timeseries"]
MACS_DIFFER = {
    "swin_t": "torchinfo counts no mult-adds for torchvision's qkv and proj, which its forward calls as F.linear "
    "(docs/sequence-models.md, Swin Transformer: Counts)",
}
"""Where torchinfo on the reference is not the mult-add reference, and why."""


def references() -> dict[str, tuple[Callable[[], Any], bool]]:
    """Each spec's reference constructor, and whether it is recurrent (counted with oneDNN off)."""
    import torchvision
    from test_gpt_decoder import GPT, GPTConfig
    from test_recurrent_specs import GRUForecaster, LSTMClassifier

    return {
        "vit_b_16": (torchvision.models.vit_b_16, False),
        "swin_t": (torchvision.models.swin_t, False),
        "gpt_decoder": (lambda: GPT(GPTConfig()), False),
        "lstm_classifier": (LSTMClassifier, True),
        "gru_timeseries": (GRUForecaster, True),
    }


def measure(name: str, make: Callable[[], Any], recurrent: bool, with_torchinfo: bool) -> dict[str, Any]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    import archspec
    from archspec.backends.export import example_inputs

    started = time.process_time()
    torch.manual_seed(0)
    compiled = archspec.load(ROOT / "specs" / f"{name}.yaml")
    reference = make().eval()
    model = archspec.build(compiled).eval()
    try:
        model.load_state_dict(reference.state_dict(), strict=True)
        strict = "OK"
    except RuntimeError as exc:
        strict = f"FAILED: {str(exc).splitlines()[0]}"
    inputs = example_inputs(compiled, batch=1, seed=1)
    native = torch.backends.mkldnn.flags(enabled=False) if recurrent else contextlib.nullcontext()
    with warnings.catch_warnings(), native, FlopCounterMode(display=False) as counter:
        warnings.simplefilter("ignore")
        expected = reference(*inputs)  # eval, autograd on: the static count's convention
    with torch.no_grad():
        actual = model(*inputs)
    row = {
        "spec": name,
        "input": " ".join(f"{list(t.shape[1:])} {str(t.dtype).removeprefix('torch.')}" for t in inputs),
        "params": compiled.params_total,
        "ref_params": sum(p.numel() for p in reference.parameters()),
        "flops": compiled.flops,
        "ref_flops": counter.get_total_flops(),
        "strict": strict,
        "max_abs_diff": (actual - expected.detach()).abs().max().item(),
    }
    if with_torchinfo:
        import torchinfo

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = torchinfo.summary(reference, input_data=list(inputs), verbose=0, device="cpu")
        row["macs"], row["ref_macs"] = compiled.macs, stats.total_mult_adds
    row["cpu_s"] = time.process_time() - started
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", metavar="SPEC", help=f"some of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torchinfo", action="store_true", help="also compare mult-adds with torchinfo")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    unknown = sorted(set(args.specs) - set(NAMES))
    if unknown:
        parser.error(f"unknown spec {', '.join(unknown)}: choose from {', '.join(NAMES)}")

    import torch

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # torch's notes about oneDNN and TF32 are not results
    made = references()
    args.specs = args.specs or NAMES
    rows = [measure(name, *made[name], args.torchinfo) for name in args.specs]
    columns = ["spec", "input", "params", "ref_params", "flops", "ref_flops"]
    columns += ["macs", "ref_macs"] if args.torchinfo else []
    columns += ["strict", "max_abs_diff", "cpu_s"]

    def cell(row: dict[str, Any], key: str) -> str:
        value = row[key]
        if key == "max_abs_diff":
            return f"{value:.3g}"
        if key == "cpu_s":
            return f"{value:.1f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    table = [[cell(row, key) for key in columns] for row in rows]
    if args.markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for line in table:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(c), *(len(line[i]) for line in table)) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for line in table:
            print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
    exact = all(
        r["params"] == r["ref_params"]
        and r["flops"] == r["ref_flops"]
        and (r.get("macs") == r.get("ref_macs") or r["spec"] in MACS_DIFFER)
        and r["strict"] == "OK"
        and r["max_abs_diff"] <= 1e-5
        for r in rows
    )
    for name, why in MACS_DIFFER.items():
        if args.torchinfo and name in args.specs:
            print(f"{name} mult-adds: {why}")
    print("all exact" if exact else "NOT all exact")
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
