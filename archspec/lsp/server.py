"""The pygls server: documents in, compiles scheduled off the event loop, features answered from the latest compile.

Scheduling: every open or change records the buffer's newest text; one task per document
compiles it in a worker thread after a short debounce, and compiles again if the text changed
meanwhile. Versions typed during a compile are never compiled (only the newest text is), and
a result already stale when it arrives is not published: diagnostics always describe the
newest text the server has finished. Requests (hover, inlay hints...) wait for the compile of
the text they were asked about (at most :data:`WAIT_S`), so their positions match it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from archspec.lsp import complete, navigate, outline
from archspec.lsp.analysis import Analysis, analyze
from archspec.lsp.diagnostics import to_lsp, to_range
from archspec.lsp.hover import hover
from archspec.lsp.text import Lines, Pos, Span

DEBOUNCE_S = 0.0
"""Wait this long after an edit before compiling. Zero: the compile starts at once, and the edits that
arrive while it runs are coalesced into the next one (a burst of keystrokes compiles twice, not per key)."""
WAIT_S = 2.0
"""How long a request waits for the compile of its text before answering from the latest one."""
WARM_UP = (
    "archspec: 1\nname: w\ninput: {channels: 3, size: 8}\nlayers: [{type: Conv2d, out_channels: 4, kernel_size: 3}]"
)
T = TypeVar("T")


@dataclass
class Document:
    uri: str
    file: str
    text: str = ""
    version: int = 0
    analysis: Analysis | None = None
    analyzed: int = -1
    """The version ``analysis`` describes."""
    structure: Analysis | None = None
    """The newest analysis whose YAML parsed (completion reads its ids and parameters)."""
    task: asyncio.Task[None] | None = None
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)


class ArchspecServer(LanguageServer):
    def __init__(self) -> None:
        from archspec import __version__

        super().__init__("archspec", __version__)
        self.documents: dict[str, Document] = {}
        self.compiler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archspec-compile")

    # -- scheduling ---------------------------------------------------------------------------
    def update(self, uri: str) -> None:
        source = self.workspace.get_text_document(uri)
        document = self.documents.get(uri)
        if document is None:
            file = to_fs_path(uri) or uri
            document = self.documents[uri] = Document(uri, file)
        document.text, document.version = source.source, source.version or 0
        if document.task is None or document.task.done():
            document.task = asyncio.ensure_future(self._compile_loop(document))

    async def _compile_loop(self, document: Document) -> None:
        await asyncio.sleep(DEBOUNCE_S)
        while document.analyzed != document.version and self.documents.get(document.uri) is document:
            version = document.version
            try:
                await self._compile(document, version)
            except Exception:  # a bug in this module: logged, and the document still gets answers
                self.window_log_message(types.LogMessageParams(types.MessageType.Error, traceback.format_exc()))
                document.analyzed = version
            self._wake(document)

    async def _compile(self, document: Document, version: int) -> None:
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(self.compiler, analyze, document.text, document.file)
        if version == document.version and self.documents.get(document.uri) is document:
            self.publish(document, analysis, version)
        await loop.run_in_executor(self.compiler, analysis.warm)
        document.analysis, document.analyzed = analysis, version
        if analysis.tokens.complete or not analysis.is_spec:
            document.structure = analysis
        if analysis.internal_error:
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, analysis.internal_error))

    def publish(self, document: Document, analysis: Analysis, version: int) -> None:
        found = to_lsp(analysis, self.lines(analysis)) if analysis.is_spec else []
        params = types.PublishDiagnosticsParams(uri=document.uri, diagnostics=found, version=version)
        self.text_document_publish_diagnostics(params)

    def _wake(self, document: Document) -> None:
        waiting = []
        for version, future in document.waiters:
            if document.analyzed >= version and not future.done():
                future.set_result(None)
            elif not future.done():
                waiting.append((version, future))
        document.waiters = waiting

    async def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's newest text (or the latest one after :data:`WAIT_S`)."""
        document = self.documents.get(uri)
        if document is None:
            return None
        if document.analyzed < document.version:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            document.waiters.append((document.version, future))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(future), WAIT_S)
        analysis = document.analysis
        return analysis if analysis is not None and analysis.is_spec else None

    def close(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        if document is not None and document.task is not None:
            document.task.cancel()
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- positions ----------------------------------------------------------------------------
    def lines(self, analysis: Analysis) -> Lines:
        cached = analysis.cache.get("lines")
        if cached is None:
            cached = analysis.cache["lines"] = Lines(analysis.text, self.encoding())
        return cached

    def encoding(self) -> str:
        chosen = self.server_capabilities.position_encoding if self.protocol.server_capabilities else None
        return str(chosen or "utf-16")

    def pos(self, analysis: Analysis, position: types.Position) -> Pos:
        return self.lines(analysis).from_client(position.line, position.character)

    def range(self, analysis: Analysis, span: Span) -> types.Range:
        return to_range(span, self.lines(analysis))


server = ArchspecServer()


def _safe(default: Any) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
    """A feature that answers ``default`` (and logs the traceback) instead of failing the request."""

    def wrap(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(handler)
        async def safe(ls: ArchspecServer, params: Any) -> T:
            try:
                return await handler(ls, params)
            except Exception:
                ls.window_log_message(types.LogMessageParams(types.MessageType.Error, traceback.format_exc()))
                return default

        return safe

    return wrap


@server.feature(types.INITIALIZED)
def _initialized(ls: ArchspecServer, params: types.InitializedParams) -> None:
    ls.compiler.submit(analyze, WARM_UP, "<warm-up>")  # builds the validators a first compile needs


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _opened(ls: ArchspecServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.update(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _changed(ls: ArchspecServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.update(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _closed(ls: ArchspecServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.close(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@_safe(None)
async def _hover(ls: ArchspecServer, params: types.HoverParams) -> types.Hover | None:
    analysis = await ls.current(params.text_document.uri)
    if analysis is None:
        return None
    found = hover(analysis, ls.pos(analysis, params.position))
    if found is None:
        return None
    text, span = found
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text), ls.range(analysis, span))


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
@_safe([])
async def _inlay(ls: ArchspecServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    analysis = await ls.current(params.text_document.uri)
    if analysis is None:
        return []
    lines = ls.lines(analysis)
    hints = outline.inlay_hints(analysis, params.range.start.line, params.range.end.line)
    return [
        types.InlayHint(types.Position(*lines.to_client(pos)), label, kind=types.InlayHintKind.Type, padding_left=True)
        for pos, label in hints
    ]


_ITEM_KINDS = {
    "type": types.CompletionItemKind.Class,
    "block": types.CompletionItemKind.Module,
    "param": types.CompletionItemKind.Variable,
    "node": types.CompletionItemKind.Reference,
    "argument": types.CompletionItemKind.Property,
    "key": types.CompletionItemKind.Keyword,
}


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" ", "{", "[", ",", "-"]))
@_safe(None)
async def _complete(ls: ArchspecServer, params: types.CompletionParams) -> types.CompletionList | None:
    document = ls.documents.get(params.text_document.uri)
    if document is None or (document.structure is not None and not document.structure.is_spec):
        return None
    source = ls.workspace.get_text_document(params.text_document.uri)
    lines = Lines(source.source, ls.encoding())
    pos = lines.from_client(params.position.line, params.position.character)
    items = complete.complete(lines.lines, pos, document.structure)
    return types.CompletionList(
        is_incomplete=False,
        items=[
            types.CompletionItem(
                label=item.label,
                kind=_ITEM_KINDS.get(item.kind),
                detail=item.detail or None,
                documentation=item.documentation or None,
                insert_text=item.insert,
            )
            for item in items
        ],
    )


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@_safe(None)
async def _definition(ls: ArchspecServer, params: types.DefinitionParams) -> list[types.Location] | None:
    analysis = await ls.current(params.text_document.uri)
    if analysis is None:
        return None
    found = navigate.definitions(analysis, ls.pos(analysis, params.position))
    return [types.Location(params.text_document.uri, ls.range(analysis, o.span)) for o in found] or None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@_safe(None)
async def _references(ls: ArchspecServer, params: types.ReferenceParams) -> list[types.Location] | None:
    analysis = await ls.current(params.text_document.uri)
    if analysis is None:
        return None
    pos = ls.pos(analysis, params.position)
    found = navigate.references(analysis, pos, include_definition=params.context.include_declaration)
    return [types.Location(params.text_document.uri, ls.range(analysis, o.span)) for o in found] or None


_SYMBOL_KINDS = {
    "section": types.SymbolKind.Namespace,
    "param": types.SymbolKind.Variable,
    "block": types.SymbolKind.Class,
    "module": types.SymbolKind.Module,
    "layer": types.SymbolKind.Function,
}


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_safe(None)
async def _symbols(ls: ArchspecServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    analysis = await ls.current(params.text_document.uri)
    if analysis is None:
        return None
    return [_symbol(ls, analysis, entry) for entry in outline.outline(analysis)]


def _symbol(ls: ArchspecServer, analysis: Analysis, entry: outline.Entry) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=entry.name,
        detail=entry.detail or None,
        kind=_SYMBOL_KINDS[entry.kind],
        range=ls.range(analysis, entry.span),
        selection_range=ls.range(analysis, entry.selection),
        children=[_symbol(ls, analysis, child) for child in entry.children],
    )
