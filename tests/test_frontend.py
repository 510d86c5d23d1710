"""The second-edition front-end: typed placeholders, typed parameters, budgets, wiring warnings, ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archspec
from archspec.cli import main
from archspec.compiler.pipeline import compile_spec
from archspec.errors import SpecError, UsageError
from archspec.frontend.budget import Budget

HEADER = "archspec: 1\nname: t\ninput: {channels: 16, size: [8, 8]}\n"


def codes(error: SpecError | UsageError) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in error.diagnostics]


def load_error(text: str, error: type[Exception] = SpecError, **overrides: object) -> SpecError:
    with pytest.raises(error) as info:
        archspec.load(text, **overrides)
    return info.value  # type: ignore[return-value]


# -- one typed pass ------------------------------------------------------------------------------


def test_an_invalid_node_is_a_placeholder_and_the_rest_is_still_checked() -> None:
    error = load_error(
        HEADER + "layers:\n"
        "  - {type: Conv2d, out_channels: 4, kernal_size: 3}\n"  # line 5: validation
        "  - {id: big, type: Conv2d, out_channels: 4, kernel_size: 99, inputs: [input]}\n"  # line 6: shape
        "  - {type: ReLU, inputs: [big]}\n"
    )
    assert codes(error) == [("unknown-argument", 5), ("shape", 6)]


def test_a_node_with_no_expressions_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from archspec.frontend import quick
    from archspec.layers.registry import layer_types

    conv = layer_types()["Conv2d"]
    calls: list[object] = []
    original = conv.model_validate.__func__  # type: ignore[attr-defined]
    checker = quick.model_checker(conv)

    def counting(cls: type, value: object, **kwargs: object) -> object:
        calls.append(value)
        return original(cls, value, **kwargs)

    def counting_quick(value: object, context: quick.Context) -> object:
        calls.append(value)
        return checker(value, context)

    # the quick checker answers for valid nodes (Pydantic, for the others, would count twice)
    monkeypatch.setattr(conv, "model_validate", classmethod(counting))
    monkeypatch.setitem(quick._checkers, conv, counting_quick)
    compiled = archspec.load(
        HEADER + "params: {w: 8}\nlayers:\n"
        "  - {type: Conv2d, out_channels: 4, kernel_size: 3, repeat: 3}\n"
        "  - {type: Conv2d, out_channels: '${w}', kernel_size: 1, repeat: 2}\n"
    )
    assert compiled.ok and len(compiled.nodes) == 5
    # two validations of the written nodes, then one per instance of the node with an expression
    assert len(calls) == 2 + 2


def test_a_file_without_the_archspec_key_is_not_a_spec() -> None:
    error = load_error("name: ci\njobs: {build: {}}\n")
    assert [(d.code, d.message) for d in error.diagnostics] == [
        ("not-a-spec", "this YAML file is not an archspec spec: it has no 'archspec:' key")
    ]


def test_bad_values_say_what_the_argument_needs() -> None:
    error = load_error(HEADER + "layers:\n  - {type: Conv2d, out_channels: 4, kernel_size: -1}\n")
    (diagnostic,) = error.diagnostics
    assert diagnostic.message == (
        "invalid value -1 for 'kernel_size': expected an integer >= 1, a list of 2 integers >= 1, "
        "or an expression '${...}'"
    )
    assert "valid string" not in diagnostic.format()


def test_a_float_from_a_division_suggests_floor_division() -> None:
    error = load_error(
        HEADER + "params: {w: 16}\nlayers:\n  - {type: Conv2d, out_channels: '${w / 4}', kernel_size: 1}\n"
    )
    (diagnostic,) = error.diagnostics
    assert "expected an integer >= 1" in diagnostic.message and "expression" not in diagnostic.message
    assert diagnostic.hint is not None and "'//'" in diagnostic.hint


def test_a_diagnostic_repeated_by_nested_repeats_is_printed_once() -> None:
    error = load_error(
        HEADER + "layers:\n"
        "  - id: outer\n    repeat: 3\n    layers:\n"
        "      - {type: Conv2d, out_channels: '${bogus}', kernel_size: 1, repeat: 2}\n"
    )
    assert codes(error) == [("expression", 8)]


def test_did_you_mean_prefers_the_same_word_in_another_case() -> None:
    error = load_error(HEADER + "layers:\n  - {type: conv2D, out_channels: 4, Kernel_size: 1}\n")
    (diagnostic,) = error.diagnostics
    assert diagnostic.hint == "did you mean 'Conv2d'?"
    error = load_error(HEADER + "layers:\n  - {type: Conv2d, out_channels: 4, Kernel_size: 1}\n")
    assert error.diagnostics[0].hint == "did you mean 'kernel_size'?"


def test_broadcast_errors_count_per_sample_dims_and_keep_input_order() -> None:
    error = load_error(
        HEADER + "layers:\n"
        "  - {id: a, type: Conv2d, out_channels: 32, kernel_size: 1}\n"
        "  - {id: s, type: add, inputs: [a, input]}\n"
    )
    (diagnostic,) = error.diagnostics
    assert "per-sample dim 0 (batch excluded) has sizes 32, 16 in input order" in diagnostic.message


# -- typed parameters ----------------------------------------------------------------------------

TYPED = (
    "archspec: 1\nname: t\ninput: {channels: 3, size: [8, 8]}\n"
    "params:\n"
    "  version: {default: '1_0', choices: ['1_0', '1_1']}\n"
    "  reduction: {default: 4, type: int, minimum: 1, maximum: 16}\n"
    "  scale: 1.0\n"
    "  width: 8\n"
    "layers:\n"
    "  - {type: Conv2d, out_channels: '${width * (2 if version == \"1_1\" else 1)}', kernel_size: 1}\n"
)


def test_typed_parameters_accept_declared_values() -> None:
    assert archspec.load(TYPED).output_shape == (8, 8, 8)
    assert archspec.load(TYPED, version="1_1").output_shape == (16, 8, 8)
    assert archspec.load(TYPED, scale=2).params["scale"] == 2.0  # an integer where a float is declared


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"version": 10}, "override version=10: expected a string, got the integer 10"),
        ({"version": "1_2"}, "override version='1_2': expected one of '1_0', '1_1', got '1_2'"),
        ({"reduction": 128}, "override reduction=128: expected at most 16, got 128"),
        ({"reduction": True}, "override reduction=true: expected an integer, got the boolean true"),
        ({"width": "${2 * 4}"}, "override width='${2 * 4}': expected an integer, got the string '${2 * 4}'"),
    ],
)
def test_an_override_that_does_not_fit_its_declaration_is_a_usage_error(
    overrides: dict[str, object], message: str
) -> None:
    error = load_error(TYPED, UsageError, **overrides)
    (diagnostic,) = error.diagnostics
    assert (diagnostic.code, diagnostic.message) == ("bad-override", message)
    assert diagnostic.line in (5, 6, 8)  # at the declaration


def test_a_default_that_does_not_fit_its_declaration() -> None:
    error = load_error(HEADER + "params:\n  k: {default: 3, type: str}\nlayers:\n  - {type: ReLU}\n")
    assert [(d.code, d.message) for d in error.diagnostics] == [
        ("bad-param", "parameter 'k': expected a string, got the integer 3")
    ]


def test_a_required_parameter_must_be_set() -> None:
    text = HEADER + "params:\n  k: {type: int}\nlayers:\n  - {type: Conv2d, out_channels: 4, kernel_size: '${k}'}\n"
    assert codes(load_error(text)) == [("missing-argument", 5)]
    assert archspec.load(text, k=3).output_shape == (4, 6, 6)


def test_block_parameters_are_typed_and_point_at_their_declaration() -> None:
    error = load_error(
        HEADER + "blocks:\n  B:\n    params: {stride: 1}\n    layers:\n"
        "      - {type: Conv2d, out_channels: 4, kernel_size: 1, stride: '${stride}'}\n"
        "layers:\n  - {use: B, stride: [2, 2]}\n"
    )
    (diagnostic,) = error.diagnostics
    assert diagnostic.message == "block 'B' parameter 'stride': expected an integer, got a list"
    assert (diagnostic.line, diagnostic.hint) == (10, "'stride' is declared on line 6 as int")


def test_cli_set_errors_say_they_come_from_the_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "typed.yaml"
    spec.write_text(TYPED)
    assert main(["validate", str(spec), "--set", "reduction=128"]) == 2
    assert "--set reduction=128: expected at most 16, got 128" in capsys.readouterr().err


def test_cli_set_values_keep_their_text_for_string_parameters(tmp_path: Path) -> None:
    spec = tmp_path / "typed.yaml"
    spec.write_text(TYPED)
    assert main(["validate", str(spec), "--set", "version=1_0"]) == 0  # YAML 1.1 would read the integer 10
    assert main(["validate", str(spec), "--set", "version=1_1", "--set", "width=1_0"]) == 2  # not 10


def test_expression_budget_flags_reach_every_expression() -> None:
    text = HEADER + "params: {n: 3000}\nlayers:\n  - {type: Conv2d, out_channels: '${len(range(n))}', kernel_size: 1}\n"
    assert compile_spec(text).nodes[0].shape == (3000, 8, 8)
    diagnostics = load_error_with_budget(text, Budget(max_value_size=1000))
    assert [d.code for d in diagnostics] == ["expression"]


# -- a language that says what people mean ------------------------------------------------------


@pytest.mark.parametrize("reader", ["inputs: [skip]", "type: ReLU"], ids=["explicit", "implicit"])
def test_a_dropped_node_passes_its_first_input_through_for_every_reader(reader: str) -> None:
    text = (
        HEADER + "layers:\n"
        "  - {id: a, type: Conv2d, out_channels: 8, kernel_size: 1}\n"
        "  - {id: skip, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [input], when: false}\n"
        f"  - {{id: out, {reader if reader.startswith('type') else 'type: ReLU, ' + reader}}}\n"
    )
    compiled = archspec.load(text)
    assert compiled.node("out").sources == ["input"]  # the dropped node's input, not 'a'


def test_parallel_branches_missing_their_input_get_a_warning() -> None:
    branch = "  - id: b{n}\n    {inputs}layers: [{{type: Conv2d, out_channels: 8, kernel_size: 1}}]\n"
    merge = "  - {id: cat, type: concat, inputs: [b1, b2]}\n"
    wrong = HEADER + "layers:\n" + branch.format(n=1, inputs="") + branch.format(n=2, inputs="") + merge
    right = (
        HEADER
        + "layers:\n"
        + branch.format(n=1, inputs="")
        + branch.format(n=2, inputs="inputs: [input]\n    ")
        + merge
    )
    (warning,) = archspec.load(wrong).warnings
    assert (warning.code, warning.line, warning.severity) == ("branch-input", 7, "warning")
    assert "'b2' takes its input from 'b1'" in warning.message and "inputs: [input]" in (warning.hint or "")
    assert archspec.load(right).warnings == []


def test_a_residual_around_one_module_is_not_a_forgotten_branch_input() -> None:
    """MobileNetV3's ``result = self.block(input); result += input``: the block reads the input implicitly."""
    block = "  - id: block\n    layers: [{type: Conv2d, out_channels: 16, kernel_size: 1}]\n"
    for merge in ("add, inputs: [block, input]", "concat, inputs: [input, block]"):
        text = HEADER + "layers:\n" + block + f"  - {{id: merge, type: {merge}}}\n"
        assert archspec.load(text).warnings == []


def test_linear_on_a_feature_map_gets_a_warning_and_never_changes_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "noflat.yaml"
    spec.write_text(
        HEADER
        + "layers:\n  - {type: Conv2d, out_channels: 1, kernel_size: 8}\n  - {id: fc, type: Linear, out_features: 10}\n"
    )
    (warning,) = archspec.load(spec).warnings
    assert warning.code == "no-flatten"
    assert warning.message == "Linear acts on the last dimension only: input [1, 1, 1] gives output [1, 1, 10]"
    assert main(["validate", str(spec)]) == 0
    flat = HEADER + "layers:\n  - {type: Flatten}\n  - {type: Linear, out_features: 10}\n"
    assert archspec.load(flat).warnings == []
    image = HEADER + "layers:\n  - {type: Linear, out_features: 10}\n"
    assert [w.code for w in archspec.load(image).warnings] == ["no-flatten"]
    sequence = "archspec: 1\nname: s\ninput: {shape: [16, 8]}\nlayers:\n  - {type: Linear, out_features: 10}\n"
    assert archspec.load(sequence).warnings == []  # a token sequence: Linear per position is the point


def test_totals_count_what_the_output_depends_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "aux.yaml"
    spec.write_text(
        HEADER + "layers:\n"
        "  - {id: stem, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}\n"
        "  - {id: aux, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}\n"  # nothing reads it
        "  - {id: head, type: Conv2d, out_channels: 4, kernel_size: 1, inputs: [stem]}\n"
    )
    compiled = archspec.load(spec)
    aux = compiled.node("aux").result
    assert aux is not None and compiled.unreachable == {"aux"}
    assert compiled.macs == sum(n.result.macs for n in compiled.nodes if n.result) - aux.macs
    assert compiled.unreachable_macs == aux.macs == (8 * 8 * 9 + 8) * 64  # torchinfo: params x positions
    assert compiled.unreachable_flops == aux.flops == 2 * 8 * 8 * 9 * 64  # FlopCounterMode: weights x positions x 2
    assert compiled.flops == sum(n.result.flops for n in compiled.nodes if n.result) - aux.flops
    assert compiled.params_total == sum(n.result.params for n in compiled.nodes if n.result)  # params: all
    assert main(["summary", str(spec), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unreachable"] == ["aux"] and data["unreachable_macs"] == aux.macs
    assert data["flops"] == compiled.flops and data["unreachable_flops"] == aux.flops


def test_the_copy_index_can_name_each_copy() -> None:
    compiled = archspec.load(
        HEADER + "layers:\n  - {id: 'denselayer${i + 1}', type: Conv2d, out_channels: 4, kernel_size: 1, repeat: 3}\n"
    )
    assert [n.path for n in compiled.nodes] == ["denselayer1", "denselayer2", "denselayer3"]


def test_nested_repeats_name_their_index() -> None:
    compiled = archspec.load(
        HEADER + "layers:\n"
        "  - id: stage\n    repeat: {count: 2, as: s}\n    layers:\n"
        "      - {id: 'conv${s}_${i}', type: Conv2d, out_channels: '${4 * (s + 1) + i}', kernel_size: 1, repeat: 2}\n"
    )
    assert [(n.path, n.shape[0]) for n in compiled.nodes if n.shape] == [
        ("stage.0.conv0_0", 4),
        ("stage.0.conv0_1", 5),
        ("stage.1.conv1_0", 8),
        ("stage.1.conv1_1", 9),
    ]


def test_a_layer_type_can_come_from_a_parameter() -> None:
    text = HEADER + "params: {act: ReLU}\nlayers:\n  - {type: '${act}', inplace: true}\n"
    assert archspec.load(text).nodes[0].type == "ReLU"
    assert archspec.load(text, act="SiLU").nodes[0].type == "SiLU"
    error = load_error(text, act="Relu")
    assert [(d.code, d.hint) for d in error.diagnostics] == [("unknown-layer", "did you mean 'ReLU'?")]
    error = load_error(text, act="Sigmoid")  # Sigmoid takes no 'inplace'
    assert [d.code for d in error.diagnostics] == ["unknown-argument"]


IDS = HEADER + (
    "layers:\n"
    "  - {id: block1-0, type: Conv2d, out_channels: 4, kernel_size: 1}\n"
    "  - {id: 0, type: ReLU}\n"
    "  - {id: lambda, type: Conv2d, out_channels: 4, kernel_size: 1}\n"
    "  - {id: out, type: add, inputs: [block1-0, lambda]}\n"
)


def test_ids_are_whatever_add_module_accepts() -> None:
    compiled = archspec.load(IDS)
    assert [n.path for n in compiled.nodes] == ["block1-0", "0", "lambda", "out"]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("{id: 'a.b', type: ReLU}", "id 'a.b' contains '.'"),
        ("{id: forward, type: ReLU}", "id 'forward' is reserved (torch's nn.Module uses it)"),
        ("{id: input, type: ReLU}", "id 'input' is reserved: it names the scope's input"),
    ],
)
def test_ids_add_module_refuses_are_errors(node: str, message: str) -> None:
    error = load_error(HEADER + f"layers:\n  - {node}\n")
    assert [(d.code, d.message) for d in error.diagnostics] == [("bad-id", message)]


def test_a_numeric_id_clashing_with_a_position_is_a_duplicate() -> None:
    error = load_error(HEADER + "layers:\n  - {id: 1, type: ReLU}\n  - {type: ReLU}\n")
    assert codes(error) == [("duplicate-id", 6)]


# -- bounded work ----------------------------------------------------------------------------------


def test_a_huge_repeat_is_refused_from_its_first_copy() -> None:
    block = "blocks:\n  B:\n    layers:\n" + "      - {type: ReLU}\n" * 10
    error = load_error(HEADER + block + "layers:\n  - {use: B, repeat: 99999}\n")
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "too-large" and "(99,999 copies of at least 2 node(s) each)" in diagnostic.message
    assert "--max-nodes" in (diagnostic.hint or "")
    error = load_error(HEADER + block + "layers:\n  - {use: B, repeat: 999999}\n")  # more copies than the budget
    assert [(d.code, d.line, d.column) for d in error.diagnostics] == [("too-large", 18, 22)]


def test_exponential_block_nesting_is_refused_early() -> None:
    lines = ["blocks:", "  B0:", "    layers:", *["      - {type: ReLU}"] * 10]
    for level in range(1, 9):
        lines += [f"  B{level}:", "    layers:", f"      - {{use: B{level - 1}, inline: true, repeat: 10}}"]
    text = HEADER + "\n".join(lines) + "\nlayers:\n  - {use: B8}\n"
    error = load_error(text)
    assert [d.code for d in error.diagnostics] == ["too-large"]
    with pytest.raises(SpecError):
        compile_spec(text, budget=Budget(max_nodes=1_000))


def test_the_node_budget_can_be_raised() -> None:
    text = HEADER + "layers:\n  - {type: ReLU, repeat: 50}\n"
    assert [d.code for d in load_error_with_budget(text, Budget(max_nodes=20))] == ["too-large"]
    assert len(compile_spec(text, budget=Budget(max_nodes=50)).nodes) == 50


def load_error_with_budget(text: str, budget: Budget) -> list:
    with pytest.raises(SpecError) as info:
        compile_spec(text, budget=budget)
    return info.value.diagnostics


def test_thousands_of_errors_stop_at_the_error_budget() -> None:
    text = HEADER + "layers:\n" + "  - {type: Conv2D, out_channels: 4}\n" * 3000
    diagnostics = load_error_with_budget(text, Budget(max_errors=20))
    assert [d.code for d in diagnostics] == ["unknown-layer"] * 20 + ["too-many-errors"]
    assert [d.line for d in diagnostics[:3]] == [5, 6, 7]


def test_budget_flags_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "r.yaml"
    spec.write_text(HEADER + "layers:\n  - {type: ReLU, repeat: 50}\n")
    assert main(["validate", str(spec), "--max-nodes", "20"]) == 1
    assert "error[too-large]" in capsys.readouterr().err
    assert main(["validate", str(spec), "--max-nodes", "50"]) == 0
    assert main(["validate", str(spec), "--max-nodes", "-3"]) == 2
    assert "--max-nodes -3: expected a whole number" in capsys.readouterr().err


# -- validate a folder ---------------------------------------------------------------------------


def test_validate_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "good.yaml").write_text(HEADER + "layers:\n  - {type: ReLU}\n")
    (tmp_path / "nested" / "bad.yml").write_text(HEADER + "layers:\n  - {type: Relu}\n")
    (tmp_path / "ci.yaml").write_text("jobs: {}\n")  # other YAML in the folder is skipped
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.yaml").write_text("archspec: 1\n")
    assert main(["validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "ok " + str(tmp_path / "good.yaml") in out and "skipped 1 YAML file(s)" in out
    assert "bad.yml:5:12: error[unknown-layer]" in err and ".hidden" not in out + err
    assert main(["validate", str(tmp_path / "ci.yaml")]) == 1  # named explicitly: not a spec
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", str(empty)]) == 2


# -- hostile specs in a fresh process, with time and memory limits ---------------------------------

BOUNDED_RUN = (  # VmHWM: this process's own peak; ru_maxrss is inherited through fork+exec from the test process
    "import atexit, resource, sys\n"
    "def peak():\n"
    "    try:\n"
    "        status = open('/proc/self/status').read()\n"
    "        return int(status.split('VmHWM:')[1].split()[0])\n"
    "    except (OSError, IndexError):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "atexit.register(lambda: print('MAXRSS', peak(), file=sys.stderr))\n"
    "from archspec.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
CPU_SECONDS, MEGABYTES = 10, 200
"""The targets are 2 s and 200 MB (timed in bench/); the CPU-time guard only catches a blow-up."""


def run_bounded(*args: str) -> tuple[int, str]:
    import resource
    import subprocess
    import sys

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED_RUN, *args], capture_output=True, text=True, timeout=CPU_SECONDS * 6
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    rss = int(done.stderr.rsplit("MAXRSS", 1)[1]) // 1024
    print(f"{args}: rc {done.returncode}, {cpu:.2f} s CPU, {rss} MB")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-2000:]
    assert cpu < CPU_SECONDS and rss < MEGABYTES
    return done.returncode, done.stderr


def exponential_blocks(levels: int = 8, width: int = 10) -> str:
    lines = ["blocks:", "  B0:", "    layers:", *["      - {type: ReLU}"] * width]
    for level in range(1, levels + 1):
        lines += [f"  B{level}:", "    layers:", f"      - {{use: B{level - 1}, repeat: {width}}}"]
    return HEADER + "\n".join(lines) + f"\nlayers:\n  - {{use: B{levels}}}\n"


HOSTILE_SPECS = {
    "exponential_blocks": exponential_blocks(),
    "repeat_999999": HEADER + "blocks:\n  B:\n    layers:\n" + "      - {type: ReLU}\n" * 10 + "layers:\n"
    "  - {use: B, repeat: 999999}\n",
    "thousands_of_errors": HEADER + "layers:\n" + "  - {type: Conv2D, out_channels: 4}\n" * 5000,
    "chained_parameters": HEADER
    + "params:\n  p0: 1\n"
    + "".join(f"  p{i}: '${{p{i - 1} + 1}}'\n" for i in range(1, 20_000))
    + "layers:\n  - {type: ReLU}\n",
    "deep_distinct_blocks": HEADER
    + "blocks:\n"
    + "".join(f"  B{i}:\n    layers:\n      - {{use: B{i + 1}}}\n" for i in range(40))
    + "  B40:\n    layers:\n      - {type: ReLU}\n"
    + "layers:\n  - {use: B0}\n",
}


@pytest.mark.parametrize("name", HOSTILE_SPECS)
def test_hostile_specs_fail_fast_in_bounded_memory(name: str, tmp_path: Path) -> None:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(HOSTILE_SPECS[name])
    rc, err = run_bounded("validate", str(spec))
    expected = {"chained_parameters": 0, "deep_distinct_blocks": 0}.get(name, 1)
    assert rc == expected, err[-2000:]
    if name == "deep_distinct_blocks":
        assert "recursive" not in err  # 40 distinct blocks, one inside the next, are not a recursion
