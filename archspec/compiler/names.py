"""Node names: an id is any name ``nn.Module.add_module`` accepts, minus names torch already uses.

torchvision's RegNet names blocks ``block1-0`` and ``nn.Sequential`` numbers its children, so
ids are not limited to identifiers; generated code reaches such children with ``getattr``.
"""

from __future__ import annotations

RESERVED_IDS = frozenset(
    {
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
        "input",
    }
)
"""Names torch's ``nn.Module`` already uses (``add_module`` refuses them), plus ``input``."""


def id_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot be a child module's name, with the fix; None when it can."""
    if not name:
        return "an id cannot be empty", "write a name, or leave 'id' out to number the node"
    if "." in name:
        return f"id {name!r} contains '.'", "'.' separates module paths in state_dict keys; use '_' or '-'"
    if not name.isprintable():
        return f"id {name!r} contains control characters", "use printable characters only"
    if name == "input":
        return "id 'input' is reserved: it names the scope's input", "rename it, e.g. 'input_'"
    if name in RESERVED_IDS:
        return f"id '{name}' is reserved (torch's nn.Module uses it)", f"rename it, e.g. '{name}_'"
    return None
