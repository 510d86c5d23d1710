"""``archspec docs``: a page per spec and an index, rewritten only where something changed."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from archspec.backends.docs import GENERATED, Page, index_markdown
from archspec.cli import main
from archspec.compiler.pipeline import compile_spec

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """File name -> (mtime_ns, content)."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    for spec in SPECS:
        shutil.copy(spec, folder / spec.name)
    return folder


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One ``archspec docs`` run over copies of the shipped specs, read by several tests:
    (the specs' folder, the output folder beside it, what the run printed)."""
    root = tmp_path_factory.mktemp("generated")
    folder = root / "specs"
    folder.mkdir()
    for spec in SPECS:
        shutil.copy(spec, folder / spec.name)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["docs", str(folder), "-o", str(root / "docs")])
    assert code == 0
    return folder, root / "docs", printed.getvalue()


@needs_dot
def test_pages_index_and_diagrams(generated: tuple[Path, Path, str]) -> None:
    _, out, printed = generated
    assert f"{len(SPECS)} spec(s), {2 * len(SPECS) + 1} file(s) written, 0 unchanged" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {"index.md"} | {f"{p.stem}.md" for p in SPECS} | {f"{p.stem}.svg" for p in SPECS}
    for spec in SPECS:
        compiled = compile_spec(spec)
        page = (out / f"{spec.stem}.md").read_text()
        assert page.startswith(GENERATED)
        assert f"\n# {compiled.name}\n" in page
        if compiled.description:
            assert compiled.description.strip() in page
        assert f"![{compiled.name} diagram]({spec.stem}.svg)" in page
        assert f"({Path('..', 'specs', spec.name).as_posix()})" in page  # a relative link to the spec
        header = (
            "| id | type | args | output shape | params | mult-adds | FLOPs | receptive field | jump | activations |"
        )
        assert header in page
        assert f"{compiled.params_total:,} params · {compiled.macs:,} mult-adds · {compiled.flops:,} FLOPs" in page
        block = re.search(r"```yaml\n(.*?)\n```\n", page, re.S)
        assert block and block.group(1) == spec.read_text().rstrip("\n")
        assert (out / f"{spec.stem}.svg").read_bytes().lstrip().startswith(b"<?xml")
    index = (out / "index.md").read_text()
    for spec in SPECS:
        compiled = compile_spec(spec)
        assert f"| [{compiled.name}]({spec.stem}.md) |" in index
        assert (
            f"| {len(compiled.nodes):,} | {compiled.params_total:,} | {compiled.macs:,} | {compiled.flops:,} |" in index
        )


@needs_dot
def test_rerun_rewrites_only_what_changed(
    generated: tuple[Path, Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = tmp_path / "specs", tmp_path / "docs"  # the shared run's files, times kept, side by side again
    shutil.copytree(generated[0], specs)
    shutil.copytree(generated[1], out)
    before = snapshot(out)
    assert before == snapshot(generated[1])
    assert main(["docs", str(specs), "-o", str(out)]) == 0
    assert "0 file(s) written" in capsys.readouterr().out
    assert snapshot(out) == before  # not even touched

    lenet = specs / "lenet5.yaml"
    lenet.write_text(lenet.read_text().replace("num_classes: 10", "num_classes: 12"))
    assert main(["docs", str(specs), "-o", str(out)]) == 0
    after = snapshot(out)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"lenet5.md", "lenet5.svg", "index.md"}

    (specs / "vgg16.yaml").write_text(
        (specs / "vgg16.yaml").read_text().replace("description:", "# a comment\ndescription:")
    )
    assert main(["docs", str(specs), "-o", str(out)]) == 0
    again = snapshot(out)
    assert {name for name in again if again[name] != after[name]} == {"vgg16.md"}  # same diagram, same index


def test_no_diagrams_needs_no_dot(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "docs"
    assert main(["docs", str(specs / "lenet5.yaml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "--no-diagrams" in err
    assert not out.exists()
    assert main(["docs", str(specs / "lenet5.yaml"), "-o", str(out), "--no-diagrams"]) == 0
    assert {p.name for p in out.iterdir()} == {"index.md", "lenet5.md"}
    assert ".svg" not in (out / "lenet5.md").read_text()


def test_invalid_specs_are_reported_and_skipped(
    specs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(ROOT / "tests" / "invalid" / "add_mismatch.yaml", specs / "broken.yaml")
    out = tmp_path / "docs"
    assert main(["docs", str(specs / "lenet5.yaml"), str(specs / "broken.yaml"), "-o", str(out), "--no-diagrams"]) == 1
    assert "error[shape]" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {"index.md", "lenet5.md"}


def test_usage_errors(specs: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["docs", str(empty), "-o", str(tmp_path / "out"), "--no-diagrams"]) == 2
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(specs / "lenet5.yaml", other / "lenet5.yaml")
    both = [str(specs / "lenet5.yaml"), str(other / "lenet5.yaml")]
    assert main(["docs", *both, "-o", str(tmp_path / "out"), "--no-diagrams"]) == 2
    assert main(["docs", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "out"), "--no-diagrams"]) == 2


def test_yaml_fence_survives_backticks(tmp_path: Path) -> None:
    spec = tmp_path / "ticks.yaml"
    spec.write_text(
        "archspec: 1\nname: ticks\ndescription: 'has ``` inside'\ninput: {channels: 1, size: [4]}\n"
        "layers:\n  - {type: Conv1d, out_channels: 2, kernel_size: 1}\n"
    )
    out = tmp_path / "docs"
    assert main(["docs", str(spec), "-o", str(out), "--no-diagrams"]) == 0
    assert "````yaml\n" in (out / "ticks.md").read_text()


def test_committed_index_is_current() -> None:
    """docs/models/ is generated by `make docs`; its index must match the shipped specs."""
    committed = ROOT / "docs" / "models" / "index.md"
    if not committed.exists():
        pytest.skip("docs/models has not been generated")
    pages = [Page(spec.stem, spec, compile_spec(spec)) for spec in SPECS]
    assert committed.read_text() == index_markdown(pages), "run `make docs` to regenerate docs/models"


def test_docs_does_not_import_torch(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom archspec.cli import main\ncode = main(sys.argv[1:])\n"
        "print('TORCH', any(m == 'torch' or m.startswith('torch.') for m in sys.modules))\nsys.exit(code)\n"
    )
    args = ["docs", str(ROOT / "specs" / "lenet5.yaml"), "-o", str(tmp_path / "d")]
    if not HAS_DOT:
        args.append("--no-diagrams")
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "TORCH False" in result.stdout


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "archspec-validate")
    assert hook["entry"] == "archspec validate --skip-non-specs"
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("specs/resnet18.yaml") and files.search("model.yml")
    assert not files.search("setup.json") and not files.search("yaml.txt")


NOT_SPECS = {
    "workflow.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make test}]\n",
    ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks: [{id: x, name: x, entry: x, language: system}]\n",
    "gitlab-ci.yml": "include: !reference [.setup, script]\n",
    "two-documents.yaml": "a: 1\n---\nb: 2\n",
    "empty.yaml": "",
}


def test_pre_commit_hook_skips_other_yaml_and_reports_broken_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hook's entry on the files a commit touches: other YAML passes untouched, a broken spec fails."""
    for name, text in NOT_SPECS.items():
        (tmp_path / name).write_text(text)
    good = tmp_path / "model.yaml"
    good.write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    others = [str(tmp_path / name) for name in NOT_SPECS]
    assert main(["validate", "--skip-non-specs", "--quiet", *others, str(good)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out == ""
    broken = tmp_path / "broken.yaml"
    broken.write_text("archspec: 1\nname: b\ninput: {channels: 3, size: [4, 4]}\nlayers: [{type: Conv2d}]\n")
    assert main(["validate", "--skip-non-specs", "--quiet", *others, str(broken)]) == 1
    assert "broken.yaml:4" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "workflow.yml")]) == 1  # named without the flag: reported
