"""Benchmark: how soon after an edit does ``archspec lsp`` publish the new diagnostics?

Starts ``archspec lsp`` as an editor does (a subprocess speaking LSP over stdio, driven by
pygls's client), opens a ResNet-50 (Bottleneck blocks, depths [3, 4, 6, 3]: 175 layers,
25,557,032 params; ``specs/resnet50.yaml`` when the repository ships one), then makes edits
that change shapes all the way down (a stage's width, the class count) or break and mend the
spec, one at a time as incremental changes, and times each from sending ``didChange`` to
receiving ``publishDiagnostics`` for that version. Prints the median and p90 (target: median
<= 100 ms), and the in-process compile time of the same text for comparison.

Run: .venv/bin/python bench/lsp.py [--edits 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESNET50 = """\
archspec: 1
name: resnet50
description: ResNet-50 with torchvision's module names (Bottleneck blocks, depths [3, 4, 6, 3]).
input: {channels: 3, size: [224, 224]}
params: {num_classes: 1000, depths: [3, 4, 6, 3]}
blocks:
  Bottleneck:
    params: {width: null, stride: 1}
    layers:
      - {id: conv1, type: Conv2d, out_channels: "${width}", kernel_size: 1, bias: false}
      - {id: bn1, type: BatchNorm2d}
      - {id: relu1, type: ReLU, inplace: true}
      - {id: conv2, type: Conv2d, out_channels: "${width}", kernel_size: 3, stride: "${stride}", padding: 1,
         bias: false}
      - {id: bn2, type: BatchNorm2d}
      - {id: relu2, type: ReLU, inplace: true}
      - {id: conv3, type: Conv2d, out_channels: "${width * 4}", kernel_size: 1, bias: false}
      - {id: bn3, type: BatchNorm2d}
      - id: downsample
        when: "${stride != 1 or in_channels != width * 4}"
        inputs: [input]
        layers:
          - {type: Conv2d, out_channels: "${width * 4}", kernel_size: 1, stride: "${stride}", bias: false}
          - {type: BatchNorm2d}
      - {id: add, type: add, inputs: [bn3, downsample]}
      - {id: relu, type: ReLU, inplace: true}
layers:
  - {id: conv1, type: Conv2d, out_channels: 64, kernel_size: 7, stride: 2, padding: 3, bias: false}
  - {id: bn1, type: BatchNorm2d}
  - {id: relu, type: ReLU, inplace: true}
  - {id: maxpool, type: MaxPool2d, kernel_size: 3, stride: 2, padding: 1}
  - {id: layer1, use: Bottleneck, width: 64, repeat: "${depths[0]}"}
  - {id: layer2, use: Bottleneck, width: 128, stride: "${2 if i == 0 else 1}", repeat: "${depths[1]}"}
  - {id: layer3, use: Bottleneck, width: 256, stride: "${2 if i == 0 else 1}", repeat: "${depths[2]}"}
  - {id: layer4, use: Bottleneck, width: 512, stride: "${2 if i == 0 else 1}", repeat: "${depths[3]}"}
  - {id: avgpool, type: AdaptiveAvgPool2d, output_size: [1, 1]}
  - {id: flatten, type: Flatten}
  - {id: fc, type: Linear, out_features: "${num_classes}"}
"""

EDITS = (
    ("width: 64,", "width: 96,"),  # every shape after layer1 changes
    ("width: 96,", "width: 64,"),
    ("num_classes: 1000", "num_classes: 10"),
    ("num_classes: 10", "num_classes: 1000"),
    ("kernel_size: 7, stride: 2", "kernel_size: 700, stride: 2"),  # a shape error, then mended
    ("kernel_size: 700, stride: 2", "kernel_size: 7, stride: 2"),
)


def spec_text() -> str:
    shipped = ROOT / "specs" / "resnet50.yaml"
    return shipped.read_text(encoding="utf-8") if shipped.exists() else RESNET50


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("archspec-bench", "1")
        self.waiting: dict[int, asyncio.Future[float]] = {}


def make_client() -> Client:
    client = Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        future = client.waiting.pop(params.version or 0, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    return client


def position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))  # the spec is ASCII


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


async def measure(edits: int) -> tuple[list[float], str, float]:
    client = make_client()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "archspec", "lsp", env=env)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri, text, version = (ROOT / "bench-resnet50.yaml").as_uri(), spec_text(), 1
    loop = asyncio.get_running_loop()
    client.waiting[version] = loop.create_future()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "yaml", version, text)))
    await asyncio.wait_for(client.waiting.get(version) or asyncio.sleep(0), 30)
    times = []
    pid = client._server.pid if client._server else None  # pygls keeps the server's process here
    cpu_before = 0.0
    for step in range(edits + 6):  # the first round warms caches and is not counted
        old, new = EDITS[step % len(EDITS)]
        start = text.index(old)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(position(text, start), position(text, start + len(old))), text=new
        )
        text, version = text[:start] + new + text[start + len(old) :], version + 1
        future = client.waiting[version] = loop.create_future()
        sent = time.perf_counter()
        document = types.VersionedTextDocumentIdentifier(version=version, uri=uri)
        client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))
        if step == len(EDITS):
            cpu_before = cpu_seconds(pid)
        arrived = await asyncio.wait_for(future, 30)
        if step >= len(EDITS):
            times.append(arrived - sent)
    await asyncio.sleep(0.2)  # the work after publishing (tokens for hovers) belongs to the last edit
    cpu_per_edit = (cpu_seconds(pid) - cpu_before) / max(len(times), 1)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times, text, cpu_per_edit


def compile_ms(text: str, runs: int = 20) -> float:
    from archspec.lsp.analysis import analyze

    analyze(text, "warm.yaml")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        analyze(text, "bench.yaml")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=60, help="timed edits (default 60)")
    args = parser.parse_args()
    times, text, cpu_per_edit = asyncio.run(measure(args.edits))
    ms = sorted(t * 1000 for t in times)
    p90 = statistics.quantiles(ms, n=10)[-1]
    median = statistics.median(ms)
    print(f"archspec lsp, ResNet-50 spec ({len(text.splitlines())} lines), {len(ms)} edits over stdio:")
    print(f"  edit -> diagnostics: median {median:.1f} ms, p90 {p90:.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms")
    print(f"  server CPU time per edit (all its threads, on any core): {cpu_per_edit * 1000:.1f} ms")
    print(f"  in-process compile of the same text (what the server runs per edit): median {compile_ms(text):.1f} ms")
    print(f"  target: median <= 100 ms: {'met' if median <= 100 else 'NOT met'}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  machine: {os.cpu_count()} CPUs, load average {load:.1f} (times grow with other work on the CPUs)")


if __name__ == "__main__":
    main()
