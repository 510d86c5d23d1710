"""Every file archspec writes goes through here: checked, then written atomically.

A write is a temp file in the target's folder, then ``os.replace``, so a crash or a full disk
loses nothing. Before that, :func:`output_target` decides what may be replaced:

* a missing file, or a regular file: written;
* a symlink to a regular file: written *through* (the link stays, its target gets the content);
* a directory, a device (``-o /dev/null``, even as root), a FIFO, a socket, a dangling symlink
  or a symlink to any of those: refused, saying which;
* a path under a regular file (``-o spec.yaml/x.svg``): refused, naming the file.

:func:`check_outputs` adds the checks that need the whole command: no output may be one of the
command's inputs (``codegen S -o S`` would replace the spec with Python), and no two outputs
of one run may be the same file. Every refusal and every failed write raises
:class:`WriteError` naming the path, so every command exits 2 with a message.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from archspec.errors import Diagnostic, WriteError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """``"a directory"``, ``"a FIFO (named pipe)"``...: what a non-regular file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def refuse(path: str | Path, message: str, hint: str | None = None) -> WriteError:
    """The error for an output that must not be written (exit 2)."""
    return WriteError([Diagnostic("output", message, str(path), hint=hint)])


def output_target(path: str | Path) -> Path:
    """The file a write to ``path`` replaces: ``path``, or the regular file a symlink points to."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        check_parent(path)
        return path
    except NotADirectoryError:  # a component of the parent is a file
        check_parent(path)
        raise refuse(path, f"cannot write '{path}': a parent is not a folder") from None
    if stat.S_ISREG(info.st_mode):
        return path
    if not stat.S_ISLNK(info.st_mode):
        raise refuse(path, f"cannot write '{path}': it is {file_kind(info.st_mode)}, not a regular file")
    return _symlink_target(path)


def _symlink_target(link: Path) -> Path:
    real = Path(os.path.realpath(link))
    try:
        info = os.stat(link)
    except OSError as exc:
        what = "a symlink loop" if exc.errno == errno.ELOOP else "a dangling symlink"
        message = f"cannot write '{link}': it is {what} (to '{os.readlink(link)}')"
        raise refuse(link, message, hint="remove the link, or point it at a regular file") from None
    if not stat.S_ISREG(info.st_mode):
        raise refuse(link, f"cannot write '{link}': it is a symlink to {file_kind(info.st_mode)} '{real}'")
    return real


def check_parent(path: Path) -> None:
    """Refuse ``path`` when its nearest existing ancestor is not a folder (``spec.yaml/x.svg``)."""
    for parent in path.parents:
        try:
            info = os.stat(parent)
        except FileNotFoundError:
            continue
        except NotADirectoryError:  # a file higher up; the loop reaches it
            continue
        except OSError:
            return  # unreadable: the write itself will say why
        if not stat.S_ISDIR(info.st_mode):
            what = "a file" if stat.S_ISREG(info.st_mode) else file_kind(info.st_mode)
            raise refuse(path, f"cannot write '{path}': its parent '{parent}' is {what}, not a folder")
        return


def check_output_dir(path: str | Path, flag: str = "--out") -> Path:
    """A folder a command will fill (``train --out``): it may exist as a folder, or be creatable."""
    path = Path(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        check_parent(path)
        return path
    if not stat.S_ISDIR(info.st_mode):
        what = "a file" if stat.S_ISREG(info.st_mode) else file_kind(info.st_mode)
        raise refuse(path, f"{flag} '{path}' is {what}, not a folder", hint=f"choose another {flag}")
    return path


def make_dir(path: Path, flag: str = "--out") -> None:
    """``mkdir -p`` with a message (a read-only file system, no permission) instead of a traceback."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise refuse(path, f"cannot create {flag} '{path}': {exc.strerror or exc}") from None


def check_outputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path] = ()) -> None:
    """Refuse before any work: an output that is an input, two outputs that are one file, a bad target."""
    sources = [Path(p) for p in inputs]
    seen: dict[str, Path] = {}
    for output in map(Path, outputs):
        target = output_target(output)
        for source in sources:
            if _same_file(target, source):
                message = f"cannot write '{output}': it is the input '{source}' (refusing to overwrite it)"
                raise refuse(output, message, hint="choose another output name")
        key = os.path.normcase(os.path.realpath(target))
        if key in seen:
            message = f"two outputs of this run are the same file: '{seen[key]}' and '{output}'"
            raise refuse(output, message, hint="rename one of the inputs they are named after")
        seen[key] = output


def _same_file(a: Path, b: Path) -> bool:
    """The same file on disk (same inode, so hard links and symlinks count), or the same real path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist yet
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` (or the regular file it links to) with ``data``, all or nothing."""
    path = Path(path)
    target = output_target(path)
    try:
        _write(target, data)
    except OSError as exc:
        message = f"cannot write '{path}': {exc.strerror or exc}"
        raise WriteError([Diagnostic("io", message, str(path))]) from None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)  # a replaced file keeps its permissions
    except OSError:
        mode = None  # a new file: 0666 less the umask, which the kernel applies at creation
    fd, tmp = _temp_file(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _temp_file(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path``, created with mode 0666 so the process umask applies as to
    any new file (``mkstemp`` would make it 0600, and reading the umask means changing it)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
