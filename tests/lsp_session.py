"""Driving ``archspec lsp`` through pytest-lsp's client over stdio: open and edit buffers, wait for diagnostics."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parent.parent
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping each published version's diagnostics (pytest-lsp keeps the last per file)."""
    client = LanguageClient(converter_factory=default_converter)
    client.awaiting = {}  # type: ignore[attr-defined]
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, PUBLISH: _published_diagnostics})
    return client


def _published_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    future = client.awaiting.pop((params.uri, params.version), None)  # type: ignore[attr-defined]
    if future is not None and not future.done():
        future.set_result(list(params.diagnostics))


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "archspec", "lsp"],
    client_factory=make_client,
    server_env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout, whatever the venv's editable install
)


async def initialize(client: LanguageClient) -> None:
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri(), process_id=os.getpid()
    )
    await client.initialize_session(params)


def uri_of(name: str) -> str:
    return (ROOT / "tests" / "lsp-buffers" / name).as_uri()  # never written: the server reads buffers only


async def _published(client: LanguageClient, uri: str, version: int, send: Any) -> list[types.Diagnostic]:
    """Send a notification, then wait for the diagnostics of ``version`` of ``uri``."""
    future: asyncio.Future[list[types.Diagnostic]] = asyncio.get_running_loop().create_future()
    client.awaiting[uri, version] = future  # type: ignore[attr-defined]
    send()
    return await asyncio.wait_for(future, 30)


async def open_buffer(client: LanguageClient, uri: str, text: str, version: int = 1) -> list[types.Diagnostic]:
    item = types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text)
    return await _published(
        client, uri, version, lambda: client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    )


async def replace(client: LanguageClient, uri: str, text: str, version: int) -> list[types.Diagnostic]:
    """Replace the whole buffer (a full-text change)."""
    change = types.TextDocumentContentChangeWholeDocument(text=text)
    params = types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=version, uri=uri), [change]
    )
    return await _published(client, uri, version, lambda: client.text_document_did_change(params))


def close(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


def where(text: str, needle: str, *, occurrence: int = 0, offset: int = 0) -> types.Position:
    """The position of the ``occurrence``-th ``needle`` in ``text`` (plus ``offset`` characters)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    return types.Position(line, start - (text.rfind("\n", 0, start) + 1) + offset)


def text_at(text: str, range_: types.Range) -> str:
    lines = text.split("\n")
    assert range_.start.line == range_.end.line, range_
    return lines[range_.start.line][range_.start.character : range_.end.character]
