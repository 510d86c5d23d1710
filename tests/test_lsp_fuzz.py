"""``archspec lsp`` never crashes and never falls behind: every bad input of tests/invalid, then random edits
(hypothesis), sent through a real client as an editor would, each followed by every kind of request.

The client runs on an event loop in a thread of its own, so hypothesis drives it from plain test functions.
After each burst of edits the server's diagnostics must be those of the text the edits make (which checks
incremental sync and that only the newest text is reported) and must not include an internal error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_session import ROOT, SERVER, initialize, open_buffer, uri_of
from lsprotocol import types
from pytest_lsp import LanguageClient

from archspec.lsp.analysis import analyze
from archspec.lsp.diagnostics import message_of

RESNET18 = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
Run = Callable[..., Any]


@pytest.fixture(scope="module")
def session() -> Iterator[tuple[LanguageClient, Run]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)

    async def start() -> LanguageClient:
        client = await SERVER.start()
        await initialize(client)
        return client

    client = run(start())
    yield client, run
    run(client.shutdown_session())
    run(client.stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


class Buffer:
    """The client's copy of one open buffer, edited as an editor edits (incremental changes, UTF-16 positions)."""

    def __init__(self, client: LanguageClient, run: Run, name: str, text: str) -> None:
        self.client, self.run, self.uri, self.text, self.version = client, run, uri_of(name), text, 1
        self.published = run(open_buffer(client, self.uri, text))

    def position(self, offset: int) -> types.Position:
        line = self.text.count("\n", 0, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        return types.Position(line, len(self.text[start:offset].encode("utf-16-le")) // 2)

    def edit(self, start: int, end: int, inserted: str) -> None:
        self.version += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(self.position(start), self.position(end)), text=inserted
        )
        self.text = self.text[:start] + inserted + self.text[end:]
        document = types.VersionedTextDocumentIdentifier(version=self.version, uri=self.uri)
        awaiting = self.client.awaiting  # type: ignore[attr-defined]

        async def send() -> asyncio.Future[list[types.Diagnostic]]:  # on the client's loop: it is not thread-safe
            future = asyncio.get_running_loop().create_future()
            for key in [k for k in awaiting if k[0] == self.uri]:
                del awaiting[key]  # earlier versions of a burst: the server need not report them
            awaiting[self.uri, document.version] = future
            self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))
            return future

        self.pending = self.run(send())

    def settle(self) -> list[types.Diagnostic]:
        """Wait for the diagnostics of the newest version (none of the versions before it need arrive)."""
        return self.run(asyncio.wait_for(self.pending, 30))  # type: ignore[no-any-return]

    def close(self) -> None:
        async def send() -> None:
            self.client.text_document_did_close(
                types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(self.uri))
            )

        self.run(send())

    def ask_everything(self, offset: int) -> None:
        """Every request kind at one place; each must answer (None or a result), never an error."""
        document = types.TextDocumentIdentifier(self.uri)
        position = self.position(offset)
        whole = types.Range(types.Position(0, 0), self.position(len(self.text)))
        client = self.client

        async def ask() -> None:
            await client.text_document_hover_async(types.HoverParams(document, position))
            await client.text_document_inlay_hint_async(types.InlayHintParams(document, whole))
            await client.text_document_completion_async(types.CompletionParams(document, position))
            await client.text_document_definition_async(types.DefinitionParams(document, position))
            context = types.ReferenceContext(include_declaration=True)
            await client.text_document_references_async(
                types.ReferenceParams(context=context, text_document=document, position=position)
            )
            await client.text_document_document_symbol_async(types.DocumentSymbolParams(document))

        self.run(ask())


def expected(text: str) -> list[tuple[str | int | None, str]]:
    analysis = analyze(text, "buffer.yaml")
    return [(d.code, message_of(d)) for d in analysis.diagnostics] if analysis.is_spec else []


def got(published: list[types.Diagnostic]) -> list[tuple[str | int | None, str]]:
    return [(d.code, d.message) for d in published]


def test_every_invalid_input_through_one_buffer(session: tuple[LanguageClient, Run]) -> None:
    client, run = session
    buffer = Buffer(client, run, "fuzz-invalid.yaml", RESNET18)
    for path in sorted((ROOT / "tests" / "invalid").glob("*.yaml")):
        text = path.read_bytes().decode("utf-8-sig", "replace")
        buffer.edit(0, len(buffer.text), text)
        published = buffer.settle()
        assert "internal" not in {d.code for d in published}, path.name
        assert got(published) == expected(text), path.name
        for offset in range(0, len(text), max(len(text) // 4, 1)):
            buffer.ask_everything(offset)
    buffer.close()
    assert client.error is None


EDIT_TEXT = st.text(alphabet=st.sampled_from(list("abcxyz019 _-:,{}[]$#&*!|>'\"\n\t.é😀")), max_size=12)


@st.composite
def edits(draw: Any, size: int) -> list[tuple[float, float, str]]:
    """A burst of edits, each (where, how much to delete, what to type), places as fractions of the text."""
    count = draw(st.integers(1, 6))
    where = st.floats(0, 1, allow_nan=False)
    return [(draw(where), draw(st.floats(0, 0.02)), draw(EDIT_TEXT)) for _ in range(count)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(burst=edits(len(RESNET18)), probe=st.floats(0, 1))
def test_random_edits_never_crash_and_report_the_newest_text(
    session: tuple[LanguageClient, Run], burst: list[tuple[float, float, str]], probe: float
) -> None:
    client, run = session
    buffer = Buffer(client, run, "fuzz-edits.yaml", RESNET18)
    for where, length, inserted in burst:
        start = int(where * len(buffer.text))
        end = min(len(buffer.text), start + int(length * len(buffer.text)))
        buffer.edit(start, end, inserted)  # no waiting: a burst of keystrokes
    published = buffer.settle()
    assert got(published) == expected(buffer.text)
    assert "internal" not in {d.code for d in published}
    buffer.ask_everything(int(probe * len(buffer.text)))
    buffer.close()
    assert client.error is None
