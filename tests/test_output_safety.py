"""No command loses or clobbers a file: inputs, devices, FIFOs, directories and symlinks as ``-o`` (issue 10)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from archspec import fileio
from archspec.cli import main
from archspec.errors import WriteError

ROOT = Path(__file__).parent.parent
LENET = (ROOT / "specs" / "lenet5.yaml").read_text()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(LENET)
    return path


@pytest.fixture
def guard_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail, never damage: an ``os.replace`` onto a device would replace the machine's ``/dev/null``.

    These tests run as root in CI and containers, where an unguarded regression (or running
    them against an older archspec) would turn ``/dev/null`` into a regular file for everyone.
    """
    real = os.replace

    def replace(src: str, dst: str, *args: object, **kwargs: object) -> None:
        target = os.path.realpath(dst)
        if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
            raise AssertionError(f"os.replace onto '{target}', which is not a regular file")
        real(src, dst, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)


def _refused(capsys: pytest.CaptureFixture[str], args: list[str], *expected: str) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


# -- an output that is an input ------------------------------------------------------------


@pytest.mark.parametrize("command", ["codegen", "export", "diagram"])
def test_writing_over_the_spec_is_refused(command: str, spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = spec
    if command == "diagram":  # diagram picks the format from the name: the spec as x.dot
        target = spec.with_suffix(".dot")
        spec.rename(target)
        spec = target
    _refused(capsys, [command, str(spec), "-o", str(target)], f"it is the input '{spec}'")
    assert spec.read_text() == LENET


def test_hard_links_and_symlinks_to_the_spec_are_the_spec(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hard = spec.with_name("hard.py")
    os.link(spec, hard)
    soft = spec.with_name("soft.py")
    soft.symlink_to(spec.name)
    for output in (hard, soft):
        _refused(capsys, ["codegen", str(spec), "-o", str(output)], f"cannot write '{output}': it is the input")
    assert spec.read_text() == LENET and soft.is_symlink()


def test_export_refuses_to_overwrite_its_weights(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    weights = tmp_path / "w.pt"
    assert main(["export", str(spec), "-o", str(weights)]) == 0
    before = weights.read_bytes()
    _refused(capsys, ["export", str(spec), "--weights", str(weights), "-o", str(weights)], "it is the input")
    assert weights.read_bytes() == before


def test_docs_refuses_a_spec_named_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "index.yaml").write_text(LENET)
    (specs / "other.yaml").write_text(LENET.replace("name: lenet5", "name: other"))
    _refused(
        capsys, ["docs", str(specs), "-o", str(tmp_path / "out"), "--no-diagrams"], "'index.md', which is the index"
    )
    assert not (tmp_path / "out").exists()


def test_docs_refuses_to_replace_a_spec_with_its_own_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "model.md"  # a spec file that happens to end in .md, docs written next to it
    spec.write_text(LENET)
    _refused(capsys, ["docs", str(spec), "-o", str(tmp_path), "--no-diagrams"], f"it is the input '{spec}'")
    assert spec.read_text() == LENET
    assert not (tmp_path / "index.md").exists()  # refused before writing anything


def test_check_outputs_refuses_two_outputs_that_are_one_file(tmp_path: Path) -> None:
    link = tmp_path / "b.md"
    link.symlink_to("a.md")
    (tmp_path / "a.md").write_text("x")
    with pytest.raises(WriteError, match="two outputs of this run are the same file"):
        fileio.check_outputs([tmp_path / "a.md", link])


# -- what -o names -------------------------------------------------------------------------


@pytest.mark.usefixtures("guard_devices")
def test_a_character_device_is_refused_and_left_alone(capsys: pytest.CaptureFixture[str], spec: Path) -> None:
    before = os.stat("/dev/null")
    for args in (["schema", "-o", "/dev/null"], ["codegen", str(spec), "-o", "/dev/null"]):
        _refused(capsys, args, "cannot write '/dev/null': it is a character device, not a regular file")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_directory_is_refused(spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out.svg"
    folder.mkdir()
    _refused(capsys, ["diagram", str(spec), "-o", str(folder)], "it is a directory, not a regular file")
    _refused(capsys, ["codegen", str(spec), "-o", str(tmp_path)], "it is a directory")


def test_a_fifo_is_refused_without_hanging(spec: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.dot"
    os.mkfifo(fifo)
    out = tmp_path / "docs"
    out.mkdir()
    os.mkfifo(out / "net.md")  # docs reads an existing page first, to skip unchanged files: that read would block
    for args in (["diagram", str(spec), "-o", str(fifo)], ["docs", str(spec), "-o", str(out), "--no-diagrams"]):
        result = subprocess.run(
            [sys.executable, "-m", "archspec", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert result.returncode == 2, result.stderr
        assert "it is a FIFO (named pipe), not a regular file" in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_to_a_regular_file_is_written_through(spec: Path, tmp_path: Path) -> None:
    real = tmp_path / "real" / "model.py"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "model.py"
    link.symlink_to(real)
    assert main(["codegen", str(spec), "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "class Lenet5(nn.Module)" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # the replaced file keeps its permissions
    assert [p.name for p in real.parent.iterdir()] == ["model.py"]  # no temp file left behind


@pytest.mark.usefixtures("guard_devices")
@pytest.mark.parametrize(
    ("target", "message"),
    [("nowhere.py", "it is a dangling symlink (to 'nowhere.py')"), ("/dev/null", "a symlink to a character device")],
)
def test_other_symlinks_are_refused(
    spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    link = tmp_path / "link.py"
    link.symlink_to(target)
    _refused(capsys, ["codegen", str(spec), "-o", str(link)], message)
    assert link.is_symlink() and os.readlink(link) == target


@pytest.mark.parametrize("command", ["diagram", "codegen", "schema"])
def test_a_parent_that_is_a_file_is_named(command: str, spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = spec / "deeper" / "x.dot"
    args = [command, "-o", str(target)] if command == "schema" else [command, str(spec), "-o", str(target)]
    _refused(capsys, args, f"cannot write '{target}': its parent '{spec}' is a file, not a folder")
    assert spec.read_text() == LENET


def test_docs_output_folder_that_is_a_file(spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["docs", str(spec), "-o", str(spec), "--no-diagrams"], f"-o '{spec}' is a file, not a folder")


def test_make_dir_on_a_read_only_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(WriteError, match=r"cannot create --out '.*run': Read-only file system"):
        fileio.make_dir(tmp_path / "run")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_the_umask_and_archspec_never_changes_it(umask: int, tmp_path: Path) -> None:
    """A new file gets 0666 less the process umask, like any other file the process creates; importing
    archspec and compiling a spec leave the umask and the garbage collector as they were."""
    code = (
        "import gc, os, sys\n"
        f"os.umask({umask})\n"
        "import archspec\n"
        "from archspec import fileio\n"
        "archspec.load('archspec: 1\\nname: t\\ninput: {channels: 1, size: [4, 4]}\\nlayers: [{type: ReLU}]\\n')\n"
        "fileio.write_text_atomic(sys.argv[1], 'x')\n"
        "print(oct(os.umask(0)), gc.isenabled())\n"
    )
    target = tmp_path / "new.txt"
    result = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, check=True)
    assert result.stdout.split() == [oct(umask), "True"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "kept.txt"
    target.write_text("old")
    target.chmod(0o640)
    fileio.write_text_atomic(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
