"""``archspec lsp`` end to end: a real LSP client (pytest-lsp) talking to the server over stdio."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_session import (
    ROOT,
    SERVER,
    close,
    initialize,
    open_buffer,
    replace,
    text_at,
    uri_of,
    where,
)
from lsprotocol import types
from pytest_lsp import LanguageClient

from archspec.compiler.pipeline import compile_spec
from archspec.errors import Diagnostic
from archspec.lsp.diagnostics import message_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESNET18 = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
SPEC_KEY = re.compile(r"^archspec\s*:", re.MULTILINE)


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    await initialize(lsp_client)
    yield
    await lsp_client.shutdown_session()


def _doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def _client_column(line: str, column: int) -> int:
    return len(line[: column - 1].encode("utf-16-le")) // 2


async def test_diagnostics_are_what_validate_prints(client: LanguageClient, tmp_path: Path) -> None:
    """Every bad input in tests/invalid, every shipped spec and a spec with warnings: the server
    publishes the diagnostics ``archspec validate --format json`` prints, all of them, at their positions."""
    warned = tmp_path / "warned.yaml"
    warned.write_text(
        "archspec: 1\nname: w\ninput: {channels: 3, size: 8}\nlayers:\n"
        "  - {id: a, type: Conv2d, out_channels: 4, kernel_size: 3}\n"
        "  - {id: dead, type: ReLU}\n"
        "  - {id: b, type: ReLU, inputs: [a]}\n",
        encoding="utf-8",
    )
    files = [*sorted((ROOT / "tests" / "invalid").glob("*.yaml")), *sorted((ROOT / "specs").glob("*.yaml")), warned]
    texts = {}
    for path in files:
        try:
            texts[path] = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue  # an editor could not show it as text either
    result = subprocess.run(
        [sys.executable, "-m", "archspec", "validate", "--format", "json", *map(str, texts)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    printed: dict[str, list[tuple[str, int, int, str]]] = {}
    for d in json.loads(result.stdout):
        line = texts[Path(d["file"])].split("\n")[d["line"] - 1] if d["line"] else ""
        shown = message_of(Diagnostic(**d))
        printed.setdefault(d["file"], []).append((d["code"], d["line"] - 1, _client_column(line, d["column"]), shown))
    assert any(code == "unused" for code, *_ in printed[str(warned)])  # warnings are part of it
    for path, text in texts.items():
        published = await open_buffer(client, path.as_uri(), text)
        close(client, path.as_uri())
        got = [(d.code, d.range.start.line, d.range.start.character, d.message) for d in published]
        expected = printed.get(str(path), []) if SPEC_KEY.search(text) else []
        assert got == expected, path.name
        assert all(
            d.severity == (types.DiagnosticSeverity.Warning if d.code == "unused" else types.DiagnosticSeverity.Error)
            for d in published
        )


async def test_diagnostics_underline_the_token(client: LanguageClient) -> None:
    text = RESNET18.replace("kernel_size: 7, stride: 2", "kernel_size: 700, stride: 2")
    uri = uri_of("underline.yaml")
    published = await open_buffer(client, uri, text)
    assert [d.code for d in published] == ["shape"]
    assert text_at(text, published[0].range) == "700"
    assert "hint: " in published[0].message and published[0].source == "archspec"
    close(client, uri)


async def test_ranges_count_utf16_code_units(client: LanguageClient) -> None:
    """LSP columns are UTF-16 code units by default: an emoji before the token counts twice."""
    line = '  - {doc: "😀 é", id: c, type: Conv2d, out_channels: 4, kernel_size: 700}'
    text = f"archspec: 1\nname: u\ninput: {{channels: 3, size: 8}}\nlayers:\n{line}\n"
    uri = uri_of("utf16.yaml")
    (published,) = await open_buffer(client, uri, text)
    start = line.index("700")
    assert (published.range.start.line, published.range.start.character) == (4, start + 1)  # + the emoji's 2nd unit
    assert published.range.end.character - published.range.start.character == 3
    hover = await _hover(client, uri, types.Position(4, line.index("Conv2d") + 1))
    assert "`Conv2d`" in hover
    close(client, uri)


async def test_every_error_not_the_first(client: LanguageClient) -> None:
    text = RESNET18.replace("out_channels: 64, kernel_size: 7", "out_channels: 64, kernel_size: 7, strid: 2")
    text = text.replace("type: AdaptiveAvgPool2d", "type: AdaptiveAvgPool3x")
    uri = uri_of("several.yaml")
    published = await open_buffer(client, uri, text)
    assert {(d.code, text_at(text, d.range)) for d in published} == {
        ("unknown-argument", "strid"),
        ("unknown-layer", "AdaptiveAvgPool3x"),
    }
    close(client, uri)


async def test_half_typed_buffer_gets_a_yaml_diagnostic_then_clears(client: LanguageClient) -> None:
    uri = uri_of("typing.yaml")
    assert await open_buffer(client, uri, RESNET18) == []
    half = RESNET18.replace("  - {id: flatten, type: Flatten}", "  - {id: flatten, type: Flat")
    published = await replace(client, uri, half, 2)
    assert [d.code for d in published] == ["yaml-syntax"]
    assert await replace(client, uri, RESNET18, 3) == []
    close(client, uri)


async def test_positions_past_the_text_get_empty_answers(client: LanguageClient) -> None:
    uri = uri_of("past.yaml")
    await open_buffer(client, uri, RESNET18)
    far = types.Position(10_000, 10_000)
    assert await client.text_document_hover_async(types.HoverParams(_doc(uri), far)) is None
    assert await client.text_document_definition_async(types.DefinitionParams(_doc(uri), far)) is None
    completion = await client.text_document_completion_async(types.CompletionParams(_doc(uri), far))
    assert completion is not None and isinstance(completion, types.CompletionList)  # the top-level keys
    assert {i.label for i in completion.items} >= {"archspec", "layers"}
    close(client, uri)


async def test_other_yaml_is_left_alone(client: LanguageClient) -> None:
    uri = uri_of("ci.yaml")
    text = "name: build\njobs: {test: {runs-on: linux, steps: [{uses: checkout}]}}\nlayers: 3\n"
    assert await open_buffer(client, uri, text) == []
    hover = await client.text_document_hover_async(types.HoverParams(_doc(uri), where(text, "layers")))
    assert hover is None
    assert await replace(client, uri, "name: [unclosed\n", 2) == []  # broken, but not a spec either
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(_doc(uri)))
    assert not symbols
    close(client, uri)


@pytest.fixture(scope="module")
def resnet18():
    compiled = compile_spec(ROOT / "specs" / "resnet18.yaml")
    return compiled


async def _hover(client: LanguageClient, uri: str, position: types.Position) -> str:
    found = await client.text_document_hover_async(types.HoverParams(_doc(uri), position))
    assert found is not None and isinstance(found.contents, types.MarkupContent)
    return found.contents.value


async def test_hover_on_a_node_shows_shapes_and_counts(client: LanguageClient, resnet18) -> None:
    uri = uri_of("hover.yaml")
    await open_buffer(client, uri, RESNET18)
    shown = await _hover(client, uri, where(RESNET18, "{id: conv1, type: Conv2d, out_channels: 64", offset=9))
    conv1 = resnet18.node("conv1")
    assert "`Conv2d`" in shown and "input `[3, 224, 224]` → output `[64, 112, 112]`" in shown
    assert f"params {conv1.result.params:,} · mult-adds {conv1.result.macs:,} · FLOPs {conv1.result.flops:,}" in shown
    close(client, uri)


async def test_hover_on_a_block_use_shows_its_parameters(client: LanguageClient, resnet18) -> None:
    uri = uri_of("hover-block.yaml")
    await open_buffer(client, uri, RESNET18)
    shown = await _hover(client, uri, where(RESNET18, "id: layer2", offset=5))
    layer2 = [n for n in resnet18.nodes if n.path.startswith("layer2.")]
    head, _, copies = shown.partition("2 copies of `block BasicBlock`:")
    assert head.startswith("**layer2** `group`") and "input `[64, 56, 56]` → output `[128, 28, 28]`" in head
    assert f"params {sum(n.result.params for n in layer2):,} · mult-adds {sum(n.result.macs for n in layer2):,}" in head
    rows = {line.split(" | ")[0].strip("| "): line for line in copies.splitlines() if line.startswith("| layer2")}
    assert set(rows) == {"layer2.0", "layer2.1"}
    assert "| block BasicBlock" not in rows["layer2.0"]  # the kind is in the header
    assert "channels=128, stride=2 | [64, 56, 56] | [128, 28, 28]" in rows["layer2.0"]
    assert "channels=128, stride=1 | [128, 28, 28] | [128, 28, 28]" in rows["layer2.1"]
    close(client, uri)


async def test_hover_on_a_block_node_lists_every_instance(client: LanguageClient, resnet18) -> None:
    uri = uri_of("hover-def.yaml")
    await open_buffer(client, uri, RESNET18)
    shown = await _hover(client, uri, where(RESNET18, "{id: conv1, type: Conv2d", offset=3))
    instances = [n for n in resnet18.nodes if n.path.endswith(".conv1")]
    assert f"{len(instances)} instances" in shown
    for node in instances:
        assert f"| {node.path} | " in shown and f"{node.result.macs:,}" in shown
    close(client, uri)


async def test_hover_on_an_expression_shows_its_value(client: LanguageClient) -> None:
    uri = uri_of("hover-expression.yaml")
    await open_buffer(client, uri, RESNET18)
    assert await _hover(client, uri, where(RESNET18, '"${num_classes}"', offset=3)) == "`${num_classes}` = `1000`"
    in_block = await _hover(client, uri, where(RESNET18, '"${channels}"', offset=3))
    assert in_block.startswith("`${channels}` = `64`, `64`, `128`, `128`, `256`, `256`, `512`, `512`")
    stride = await _hover(client, uri, where(RESNET18, '"${2 if i == 0 else 1}"', occurrence=0, offset=5))
    assert stride.startswith("`${2 if i == 0 else 1}` = `2`, `1`")
    override = RESNET18.replace("num_classes: 1000", "num_classes: 10")
    await replace(client, uri, override, 2)
    assert await _hover(client, uri, where(override, '"${num_classes}"', offset=3)) == "`${num_classes}` = `10`"
    close(client, uri)


async def test_inlay_hints_show_each_output_shape(client: LanguageClient, resnet18) -> None:
    uri = uri_of("inlay.yaml")
    await open_buffer(client, uri, RESNET18)
    lines = RESNET18.split("\n")
    whole = types.Range(types.Position(0, 0), types.Position(len(lines), 0))
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(_doc(uri), whole))
    by_line = {h.position.line: h for h in hints}
    for node_id, shape in (("fc", "[1000]"), ("flatten", "[512]"), ("layer2", "[128, 28, 28]"), ("conv1", None)):
        line = where(RESNET18, f"\n  - {{id: {node_id},").line + 1
        expected = shape or str(list(resnet18.node(node_id).shape))
        assert by_line[line].label == f"→ {expected}"
        assert by_line[line].position.character == len(lines[line].rstrip())
    block_conv = by_line[where(RESNET18, "{id: conv1, type: Conv2d").line]
    assert block_conv.label == "→ [64, 56, 56] | [128, 28, 28] | [256, 14, 14] | [512, 7, 7]"
    close(client, uri)


async def _labels(client: LanguageClient, uri: str, position: types.Position) -> dict[str, types.CompletionItem]:
    found = await client.text_document_completion_async(types.CompletionParams(_doc(uri), position))
    items = found.items if isinstance(found, types.CompletionList) else found or []
    return {item.label: item for item in items}


async def _complete_in(client: LanguageClient, text: str, marker: str) -> dict[str, types.CompletionItem]:
    """Completions where ``marker`` (``|``) stands in ``text`` (removed from the buffer), typed into a
    buffer that held resnet18.yaml (a half-typed line rarely parses: the last spec that did gives the names)."""
    uri = uri_of("complete.yaml")
    position = where(text, marker)
    await open_buffer(client, uri, RESNET18)
    await replace(client, uri, text.replace(marker, "", 1), 2)
    try:
        return await _labels(client, uri, position)
    finally:
        close(client, uri)


async def test_completion_of_layer_types_and_their_arguments(client: LanguageClient) -> None:
    text = RESNET18.replace("{id: fc, type: Linear,", "{id: fc, type: Lin|")
    assert {"Linear", "Conv2d", "LSTM", "add"} <= set(await _complete_in(client, text, "|"))
    text = RESNET18.replace("{id: maxpool, type: MaxPool2d, kernel_size: 3,", "{id: maxpool, type: MaxPool2d, |")
    arguments = await _complete_in(client, text, "|")
    assert {"kernel_size", "dilation", "ceil_mode", "return_indices", "repeat"} <= set(arguments)
    assert not {"stride", "padding", "type", "id"} & set(arguments)  # already written
    assert arguments["kernel_size"].detail == "required" and arguments["ceil_mode"].detail == "default: False"
    assert arguments["dilation"].insert_text == "dilation: "
    conv = RESNET18.replace("{id: conv1, type: Conv2d, out_channels: 64,", "{id: conv1, type: Conv2d, |")
    arguments = await _complete_in(client, conv, "|")
    assert arguments["out_channels"].detail == "required" and arguments["padding_mode"].detail == "default: zeros"
    assert arguments["in_channels"].detail == "inferred from the input when omitted"


async def test_completion_in_block_style_nodes(client: LanguageClient) -> None:
    text = RESNET18.replace("      - id: downsample\n", "      - id: downsample\n        |\n")  # a key of a group
    keys = await _complete_in(client, text, "|")
    assert {"repeat", "doc"} <= set(keys) and "id" not in keys and "when" not in keys
    text = RESNET18.replace("          - {type: BatchNorm2d}", "          - type: BatchNorm2d\n            |")
    arguments = await _complete_in(client, text, "|")
    assert {"eps", "momentum", "affine"} <= set(arguments) and arguments["eps"].detail == "default: 1e-05"
    text = RESNET18.replace("  - {id: fc,", "  - |\n  - {id: fc,")  # a new item: its own keys, not flatten's
    assert set(await _complete_in(client, text, "|")) == {
        "type",
        "use",
        "layers",
        "id",
        "inputs",
        "repeat",
        "when",
        "doc",
    }
    attention = "  - {id: attn, type: MultiheadAttention, num_heads: 2, inputs: {query: flatten, |}}\n  - {id: fc,"
    roles = await _complete_in(client, RESNET18.replace("  - {id: fc,", attention), "|")
    assert set(roles) == {"key", "value", "key_padding_mask", "attn_mask"}


async def test_completion_of_blocks_and_their_parameters(client: LanguageClient) -> None:
    text = RESNET18.replace("{id: layer1, use: BasicBlock,", "{id: layer1, use: B|")
    assert set(await _complete_in(client, text, "|")) == {"BasicBlock"}
    text = RESNET18.replace("{id: layer1, use: BasicBlock, channels: 64,", "{id: layer1, use: BasicBlock, |")
    params = await _complete_in(client, text, "|")
    assert params["channels"].detail == "required" and params["stride"].detail == "default: 1"


async def test_completion_of_node_ids_and_parameters(client: LanguageClient) -> None:
    text = RESNET18.replace("{id: add, type: add, inputs: [bn2, downsample]}", "{id: add, type: add, inputs: [bn2, |]}")
    ids = set(await _complete_in(client, text, "|"))
    assert {"input", "conv1", "bn1", "relu", "conv2", "bn2", "downsample"} <= ids
    assert not ids & {"add", "relu_out", "layer1", "fc"}  # later nodes, other scopes
    text = RESNET18.replace('out_features: "${num_classes}"', 'out_features: "${|"')
    assert set(await _complete_in(client, text, "|")) == {"num_classes", "depths"}
    text = RESNET18.replace('out_channels: "${channels}", kernel_size: 3, padding: 1', 'out_channels: "${|')
    names = set(await _complete_in(client, text, "|"))
    assert {"num_classes", "depths", "channels", "stride", "in_channels"} <= names


async def test_definition_and_references(client: LanguageClient) -> None:
    uri = uri_of("navigate.yaml")
    await open_buffer(client, uri, RESNET18)

    async def definition(position: types.Position) -> list[str]:
        found = await client.text_document_definition_async(types.DefinitionParams(_doc(uri), position))
        return [text_at(RESNET18, location.range) + f"@{location.range.start.line}" for location in found or []]

    async def references(position: types.Position) -> list[int]:
        context = types.ReferenceContext(include_declaration=True)
        params = types.ReferenceParams(context=context, text_document=_doc(uri), position=position)
        return [location.range.start.line for location in await client.text_document_references_async(params) or []]

    block_key = where(RESNET18, "  BasicBlock:", offset=2)
    assert await definition(where(RESNET18, "use: BasicBlock", offset=6)) == [f"BasicBlock@{block_key.line}"]
    uses = [where(RESNET18, "use: BasicBlock", occurrence=k).line for k in range(4)]
    assert await references(block_key) == [block_key.line, *uses]
    downsample = where(RESNET18, "id: downsample", offset=4)
    assert await definition(where(RESNET18, "inputs: [bn2, downsample]", offset=15)) == [
        f"downsample@{downsample.line}"
    ]
    depths = where(RESNET18, "depths: [2", offset=1)
    assert await definition(where(RESNET18, "${depths[2]}", offset=3)) == [f"depths@{depths.line}"]
    assert len(await references(depths)) == 5  # the declaration and four repeats
    channels = where(RESNET18, "params: {channels: null", offset=10)
    lines = await references(channels)
    assert channels.line in lines and where(RESNET18, "use: BasicBlock, channels: 64").line in lines
    close(client, uri)


async def test_document_symbols_are_the_node_tree(client: LanguageClient) -> None:
    uri = uri_of("symbols.yaml")
    await open_buffer(client, uri, RESNET18)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(_doc(uri)))
    assert symbols is not None
    sections = {s.name: s for s in symbols if isinstance(s, types.DocumentSymbol)}
    assert list(sections) == ["params", "blocks", "layers"]
    layers = sections["layers"].children or []
    assert [s.name for s in layers][:5] == ["conv1", "bn1", "relu", "maxpool", "layer1"]
    assert layers[-1].detail == "Linear → [1000]"
    block = (sections["blocks"].children or [])[0]
    downsample = next(s for s in block.children or [] if s.name == "downsample")
    assert [s.name for s in downsample.children or []] == ["#0", "#1"]
    close(client, uri)
