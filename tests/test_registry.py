"""The open layer registry: duplicates are errors; plug-ins register through entry points."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from archspec.layers import registry
from archspec.layers.base import Layer, LayerResult, Shape
from archspec.layers.registry import layer_types, register

ROOT = Path(__file__).parent.parent


def test_duplicate_name_is_an_error(scratch_registry: None) -> None:
    class Conv2d(Layer):
        type: Literal["Conv2d"]

    with pytest.raises(ValueError, match="already registered"):
        register(Conv2d)


def test_every_layer_has_a_family_and_a_docstring() -> None:
    for name, cls in layer_types().items():
        assert cls.family != "other" or cls.functional, name
        assert cls.__dict__.get("__doc__"), f"'{name}' has no docstring of its own"


PLUGIN = '''
from typing import Literal
from archspec.layers.base import Layer, LayerResult, PositiveInt

class Squash(Layer):
    """Keeps the shape; a stand-in for any third-party layer."""
    family = "activation"
    type: Literal["Squash"]
    power: PositiveInt = 2

    def infer(self, inputs):
        return LayerResult(inputs[0])
'''


def test_entry_point_plugin_is_picked_up(tmp_path: Path) -> None:
    (tmp_path / "squash_plugin.py").write_text(PLUGIN)
    info = tmp_path / "squash_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: squash-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[archspec.layers]\nsquash = squash_plugin:Squash\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "archspec: 1\nname: t\ninput: {channels: 3, size: [4, 4]}\n"
        "layers:\n  - {type: Conv2d, out_channels: 2, kernel_size: 1}\n  - {type: Squash, power: 3}\n"
    )
    code = textwrap.dedent(
        """
        import json, sys
        from archspec.cli import main
        from archspec.frontend.schema import spec_schema
        print(json.dumps("Squash" in spec_schema()["$defs"]["Layer"]["else"]["properties"]["type"]["enum"]))
        sys.exit(main(["validate", sys.argv[1]]))
        """
    )
    env_path = f"{tmp_path}:{ROOT}"
    result = subprocess.run(
        [sys.executable, "-c", code, str(spec)], capture_output=True, text=True, env={"PYTHONPATH": env_path}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert json.loads(lines[0]) is True
    assert lines[1].startswith("ok ")


def test_custom_layer_registered_in_process_validates(scratch_registry: None) -> None:
    @register
    class Doubler(Layer):
        """Doubles the channels (a test layer)."""

        family = "shape"
        type: Literal["TestDoubler"]

        def infer(self, inputs: list[Shape]) -> LayerResult:
            return LayerResult((inputs[0][0] * 2, *inputs[0][1:]))

    import archspec

    spec = archspec.load(
        "archspec: 1\nname: t\ninput: {channels: 3, size: [4, 4]}\nlayers: [{type: TestDoubler}, {type: TestDoubler}]\n"
    )
    assert spec.output_shape == (12, 4, 4)


def test_variants_are_made_on_first_use_and_names_need_no_class() -> None:
    """N-d variants and aliases are registered lazily: a spec pays only for the types it uses."""
    table = registry._layers
    layer_types()
    assert "ReplicationPad3d" in table and "ReplicationPad3d" in list(layer_types())
    if "ReplicationPad3d" in table.pending:
        cls = layer_types()["ReplicationPad3d"]
        assert cls.type_name() == "ReplicationPad3d" and "ReplicationPad3d" not in table.pending
    assert layer_types()["ReplicationPad3d"] is layer_types()["ReplicationPad3d"]
    with pytest.raises(ValueError, match="already registered"):
        registry.register_lazy("Conv2d", lambda: layer_types()["Conv2d"])


@pytest.mark.parametrize("module", registry.BUILTIN_MODULES)
def test_every_family_imports_on_its_own(module: str) -> None:
    """A plug-in may import a family first (``from archspec.layers.activation import Elementwise``):
    loading the registry from there must not meet a half-initialised module."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
