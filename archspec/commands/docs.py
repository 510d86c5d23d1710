"""``archspec docs SPEC_OR_DIR... -o DIR``: a Markdown page per spec plus ``index.md``.

Files whose content would not change are not rewritten. Invalid specs are reported and
left out (exit 1); the others are still written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archspec.backends.docs import Page, write_docs
from archspec.backends.graphviz import require_dot
from archspec.compiler.pipeline import compile_spec
from archspec.errors import ArchspecError, Diagnostic, SpecError, UsageError
from archspec.fileio import check_output_dir, check_outputs
from archspec.safetext import escape_controls

INDEX = "index"
"""The stem of the index page; no spec may take it."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "docs",
        help="write Markdown docs: a page per spec (diagram, layer table, spec) and an index",
        description="Write one Markdown page per spec and an index.md; unchanged files are left alone.",
    )
    parser.add_argument("specs", nargs="+", metavar="SPEC_OR_DIR", help="spec files, or folders of *.yaml specs")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the pages (created if needed)")
    parser.add_argument("--depth", type=int, default=None, metavar="N", help="diagram depth (see archspec diagram)")
    parser.add_argument("--expand", action="store_true", help="draw every copy of a repeated block")
    parser.add_argument("--no-diagrams", action="store_true", help="leave out the SVG diagrams (no Graphviz needed)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(run=run)


def spec_files(items: list[str]) -> list[Path]:
    """Spec files in the order given; a folder contributes its ``*.yaml``/``*.yml`` files, sorted."""
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                raise UsageError([Diagnostic("usage", f"no *.yaml specs in folder '{item}'", "<command line>")])
            files += found
        else:
            files.append(path)
    stems: dict[str, Path] = {}
    for path in files:
        if path.stem == INDEX:
            message = f"the spec '{path}' would get the page '{INDEX}.md', which is the index of all specs"
            raise UsageError([Diagnostic("usage", message, "<command line>", hint="rename the spec file")])
        if path.stem in stems and stems[path.stem].resolve() != path.resolve():
            message = f"two specs would share the page '{path.stem}.md': {stems[path.stem]} and {path}"
            raise UsageError([Diagnostic("usage", message, "<command line>", hint="rename one of the files")])
        stems[path.stem] = path
    unique = {p.resolve(): p for p in files}
    return list(unique.values())


def check_docs_outputs(files: list[Path], out: Path, *, diagrams: bool) -> None:
    """Refuse before writing anything: a page that would replace a spec, or two pages that are one file."""
    check_output_dir(out, "-o")
    suffixes = (".md", ".svg") if diagrams else (".md",)
    outputs = [out / f"{path.stem}{suffix}" for path in files for suffix in suffixes]
    check_outputs([*outputs, out / f"{INDEX}.md"], inputs=files)


def run(args: argparse.Namespace) -> int:
    if not args.no_diagrams:
        require_dot("svg", instead="pass --no-diagrams")
    worst = 0
    pages: list[Page] = []
    files = spec_files(args.specs)
    check_docs_outputs(files, Path(args.output), diagrams=not args.no_diagrams)
    for path in files:
        try:
            compiled = compile_spec(path)
        except ArchspecError as exc:
            print(exc.format(), file=sys.stderr)
            worst = max(worst, 1 if isinstance(exc, SpecError) else 2)
            continue
        pages.append(Page(path.stem, path, compiled))
    out = Path(args.output)
    written = write_docs(pages, out, diagrams=not args.no_diagrams, depth=args.depth, expand=args.expand)
    if not args.quiet:
        for path in written.changed:
            print(f"wrote {escape_controls(str(path))}")
        print(
            f"{escape_controls(str(out))}: {len(pages)} spec(s), {len(written.changed)} file(s) written, "
            f"{len(written.unchanged)} unchanged"
        )
    return worst
