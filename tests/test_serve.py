"""``archspec serve``: the HTTP endpoints (a real server on port 0 in a thread), the watcher, the CLI."""

from __future__ import annotations

import http.client
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archspec.cli import main
from archspec.compiler.pipeline import compile_spec
from archspec.serve import Running, Specs, preview, start

ROOT = Path(__file__).parent.parent
RESNET = ROOT / "specs" / "resnet18.yaml"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

SMALL = """\
archspec: 1
name: small
input: {channels: 3, size: [16, 16]}
blocks:
  Unit:
    layers:
      - {id: conv, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
      - {id: act, type: ReLU}
layers:
  - {id: stem, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}
  - {id: units, use: Unit, repeat: 2}
  - {id: pool, type: AdaptiveAvgPool2d, output_size: 1}
  - {id: flat, type: Flatten}
  - {id: fc, type: Linear, out_features: 10}
"""


def save(path: Path, text: str) -> None:
    """Save as editors do: a new file renamed over the old one (a new mtime, new content)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


@pytest.fixture
def served(spec: Path) -> Iterator[Running]:
    running = start([spec], port=0, interval=0.05)
    yield running
    running.stop()


def get(running: Running, route: str, host: str | None = None) -> tuple[int, str, bytes]:
    url = urlsplit(running.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    connection.request("GET", route, headers={"Host": host} if host else {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type") or "", body


def get_json(running: Running, route: str) -> object:
    status, kind, body = get(running, route)
    assert status == 200 and kind == "application/json"
    return json.loads(body)


# -- the page and its assets ------------------------------------------------------------------


def test_page_and_assets_are_served_by_archspec_itself(served: Running) -> None:
    assert served.url.startswith("http://127.0.0.1:")
    for route, kind, marker in [
        ("/", "text/html", b'<script src="/app.js"'),
        ("/app.js", "text/javascript", b"EventSource"),
        ("/app.css", "text/css", b"#diagram"),
    ]:
        status, got, body = get(served, route)
        assert status == 200 and got.startswith(kind), route
        assert marker in body
        assert b"http://" not in body and b"https://" not in body and b"//cdn" not in body, f"{route} loads nothing"


def test_unknown_routes_and_specs_are_404_and_foreign_hosts_403(served: Running) -> None:
    assert get(served, "/nope")[0] == 404
    assert get(served, "/api/spec/1")[0] == 404
    assert get(served, "/api/spec/-1")[0] == 404
    assert get(served, "/../../etc/passwd")[0] == 404
    assert get(served, "/", host="attacker.example:80")[0] == 403  # DNS rebinding
    assert get(served, "/", host=f"localhost:{urlsplit(served.url).port}")[0] == 200


def test_spec_list(served: Running, spec: Path) -> None:
    assert get_json(served, "/api/specs") == [
        {"index": 0, "file": str(spec), "name": "small", "ok": True, "version": 1}
    ]


@needs_dot
def test_spec_data_has_diagram_table_totals_and_click_targets(served: Running, spec: Path) -> None:
    page = get_json(served, "/api/spec/0")
    assert isinstance(page, dict)
    compiled = compile_spec(spec)
    assert page["ok"] is True and page["version"] == 1 and page["diagnostics"] == []
    assert page["svg"].startswith("<svg") and "<title>units</title>" in page["svg"]  # the folded repeat
    assert [row["id"] for row in page["rows"]] == [n.path for n in compiled.nodes]
    fc = page["rows"][-1]
    assert fc == {
        "id": "fc",
        "type": "Linear",
        "args": "8->10",
        "shape": "[10]",
        "params": 90,
        "macs": 90,  # torchinfo counts the bias too
        "flops": 160,
        "activations": "40 B",
        "error": False,
    }
    assert page["totals"]["params"] == compiled.params_total and page["totals"]["flops"] == compiled.flops
    assert page["source"] == SMALL.splitlines()
    assert page["boxes"]["fc"] == {"rows": ["fc"], "lines": [[14, 14]]}
    assert page["boxes"]["units"] == {
        "rows": ["units.0.conv", "units.0.act", "units.1.conv", "units.1.act"],
        "lines": [[11, 11]],
    }


# -- updates ----------------------------------------------------------------------------------


class Events:
    """A client of ``/events`` reading one message at a time."""

    def __init__(self, running: Running) -> None:
        url = urlsplit(running.url)
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        self.connection.request("GET", "/events")
        self.response = self.connection.getresponse()
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next(self) -> object:
        while True:
            line = self.response.fp.readline().decode()
            if line.startswith("data: "):
                return json.loads(line[len("data: ") :])

    def close(self) -> None:
        self.connection.close()


def test_a_save_is_pushed_as_an_event_and_the_new_data_served(served: Running, spec: Path) -> None:
    events = Events(served)
    try:
        assert events.next() == {"versions": [1]}
        save(spec, SMALL.replace("out_features: 10", "out_features: 7"))
        assert events.next() == {"versions": [2]}  # within the socket's 10 s timeout; the poll is 0.05 s
        page = get_json(served, "/api/spec/0")
        assert isinstance(page, dict) and page["version"] == 2 and page["rows"][-1]["shape"] == "[7]"
    finally:
        events.close()


def test_touch_without_change_does_not_rebuild(spec: Path) -> None:
    built: list[Path] = []

    def build(path: Path) -> object:
        built.append(path)
        return preview(path)

    specs = Specs([spec], build=build)  # type: ignore[arg-type]
    assert specs.poll() is False
    os.utime(spec, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert specs.poll() is False and len(built) == 1
    save(spec, SMALL + "# a comment\n")
    assert specs.poll() is True and specs.versions() == [2] and len(built) == 2


@needs_dot
def test_a_shape_error_shows_the_diagram_up_to_it_and_the_error_with_its_line(served: Running, spec: Path) -> None:
    save(spec, SMALL.replace("{id: flat, type: Flatten}", "{id: flat, type: Flatten, start_dim: 5}"))
    page = wait_for_version(served, 2)
    assert page["ok"] is False
    assert "<title>stem</title>" in page["svg"] and "<title>flat</title>" in page["svg"]
    [error] = page["diagnostics"]
    assert error["severity"] == "error" and error["line"] == 13 and error["node"] == "flat"
    assert error["source_line"] == "  - {id: flat, type: Flatten, start_dim: 5}"
    assert [row["id"] for row in page["rows"] if row["error"]] == ["flat"]


def test_a_spec_that_does_not_load_still_gives_a_page(served: Running, spec: Path) -> None:
    save(spec, SMALL.replace("layers:\n  - {id: stem", "layers:\n  - {id: stem: ["))
    page = wait_for_version(served, 2)
    assert page["ok"] is False and page["svg"] is None and "does not load" in page["diagram_note"]
    assert page["diagnostics"] and page["diagnostics"][0]["line"] == 10
    assert page["diagnostics"][0]["source_line"] is not None
    assert len(page["source"]) == len(SMALL.splitlines())
    spec.unlink()
    page = wait_for_version(served, 3)
    assert page["ok"] is False and page["diagnostics"] and page["source"] == []


def wait_for_version(running: Running, version: int) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = get_json(running, "/api/spec/0")
        assert isinstance(page, dict)
        if page["version"] == version:
            return page
        time.sleep(0.05)
    raise AssertionError(f"version {version} never came")


def test_without_dot_the_page_says_so_and_keeps_the_rest(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(spec.parent))
    assert shutil.which("dot") is None
    page = preview(spec)
    assert page.svg is None and page.diagram_note is not None and "Graphviz" in page.diagram_note
    assert page.ok and len(page.rows) == 8 and page.totals["params"] > 0


# -- the command ------------------------------------------------------------------------------


def test_usage_errors_exit_2(tmp_path: Path, spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", str(tmp_path)]) == 2
    assert main(["serve", str(spec), "--port", "70000"]) == 2
    assert "argument --port: expected an integer from 0 to 65,535, got '70000'" in capsys.readouterr().err
    assert main(["serve", str(spec), "--port", "9" * 5000]) == 2
    running = start([spec])
    try:
        port = urlsplit(running.url).port
        assert main(["serve", str(spec), "--port", str(port)]) == 2
        assert "cannot listen" in capsys.readouterr().err
    finally:
        running.stop()


PROBE = """
import sys
from pathlib import Path
from archspec.serve import preview, start
page = preview(Path(sys.argv[1]))
running = start([Path(sys.argv[1])])
running.stop()
heavy = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
print("TORCH_MODULES", len(heavy), page.ok)
"""


def test_serve_does_not_import_torch(spec: Path) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "TORCH_MODULES 0 True" in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_stops_cleanly(spec: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "archspec", "serve", str(spec), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the server listens
        assert line.startswith("archspec serve: http://127.0.0.1:"), line
        url = urlsplit(line.split()[2])
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        connection.request("GET", "/events")  # an open event stream must not hold the exit up
        assert connection.getresponse().status == 200
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_right_after_the_address_is_printed_stops_cleanly(
    spec: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Ctrl-C handler is in place before the address is printed: a SIGINT delivered the moment the
    line is out (what test_ctrl_c_stops_cleanly does from outside, racing the server) stops it with 0."""
    from archspec.commands import serve as command

    def print_then_interrupt(*args: object, **kwargs: object) -> None:
        print(*args, **kwargs)
        if str(args[0]).startswith("archspec serve: http"):
            signal.raise_signal(signal.SIGINT)  # handled before raise_signal returns

    monkeypatch.setattr(command, "print", print_then_interrupt, raising=False)
    assert main(["serve", str(spec), "--port", "0"]) == 0
    assert "archspec serve: stopped" in capsys.readouterr().err


def test_several_specs_are_listed_with_their_state(tmp_path: Path, spec: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        SMALL.replace("out_channels: 8, kernel_size: 3, padding: 1}\n  - {id: units", "bad: 1}\n  - {id: units")
    )
    running = start([spec, broken], port=0)
    try:
        listed = get_json(running, "/api/specs")
        assert [(s["index"], s["name"], s["ok"]) for s in listed] == [(0, "small", True), (1, "small", False)]  # type: ignore[index]
        page = get_json(running, "/api/spec/1")
        assert isinstance(page, dict) and page["diagnostics"][0]["code"] == "missing-argument"
    finally:
        running.stop()


def test_an_archspec_bug_is_a_diagnostic_and_the_watch_goes_on(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preview_module = importlib.import_module("archspec.serve.preview")  # the package exports the function

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(preview_module, "compile_spec", broken)
    specs = Specs([spec])
    page = specs.page(0)[1]
    assert page.ok is False and page.diagnostics[0]["code"] == "internal" and "boom" in page.diagnostics[0]["message"]
    monkeypatch.undo()
    save(spec, SMALL + "# fixed\n")
    assert specs.poll() is True and specs.page(0)[1].ok is True


@needs_dot
def test_expand_draws_every_copy(spec: Path) -> None:
    running = start([spec], expand=True)
    try:
        page = get_json(running, "/api/spec/0")
        assert isinstance(page, dict)
        assert "<title>units.1.conv</title>" in page["svg"] and "<title>units</title>" not in page["svg"]
        assert page["boxes"]["units.1.conv"] == {"rows": ["units.1.conv"], "lines": [[7, 7]]}
    finally:
        running.stop()


def test_a_diagram_dot_cannot_lay_out_in_time_leaves_a_note(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preview_module = importlib.import_module("archspec.serve.preview")
    slow = spec.parent / "dot"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{spec.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(preview_module, "DOT_SECONDS", 0.5)
    page = preview(spec)
    assert page.svg is None and page.diagram_note is not None and "more than 0.5 s" in page.diagram_note
    assert page.ok and len(page.rows) == 8
    slow.write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 1\n")
    page = preview(spec)
    assert page.svg is None and page.diagram_note == "Graphviz's 'dot' failed (exit 1): Error: syntax error in line 1"


def test_ipv6_loopback(spec: Path) -> None:
    try:
        running = start([spec], host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    try:
        assert running.url.startswith("http://[::1]:")
        assert get(running, "/")[0] == 200
    finally:
        running.stop()
