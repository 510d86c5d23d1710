"""Strides: where a view shares its input's storage, and where torch must copy instead.

What a backward keeps depends on it: ``reshape`` of a permuted tensor copies (the consumer keeps
the copy, a new storage), and ``matmul`` folds or batches its operands with ``reshape`` too.
Strides here count elements and include the batch dim, as torch's ``Tensor.stride()``.
"""

from __future__ import annotations

import math

Strides = tuple[int, ...]


def contiguous(shape: tuple[int, ...]) -> Strides:
    """Row-major strides (``torch.empty(shape).stride()``)."""
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: tuple[int, ...], strides: Strides) -> bool:
    """``Tensor.is_contiguous()``: size-1 dims may have any stride."""
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def view(shape: tuple[int, ...], strides: Strides, target: tuple[int, ...]) -> Strides | None:
    """The strides of ``x.view(target)``, or None where ``reshape`` must copy (ATen's ``computeStride``)."""
    if math.prod(shape) == 0 or not shape:
        return contiguous(target) if math.prod(shape) == 0 or not shape else None
    result = [0] * len(target)
    view_d = len(target) - 1
    base, tensor_numel, view_numel = strides[-1], 1, 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or target[view_d] == 1):
                result[view_d] = view_numel * base
                view_numel *= target[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base, tensor_numel, view_numel = strides[d - 1], 1, 1
    return tuple(result) if view_d == -1 else None


def follow(shape: tuple[int, ...], inputs: list[tuple[tuple[int, ...], Strides]]) -> Strides:
    """The strides TensorIterator gives an elementwise result of ``shape`` (``reorder_dimensions``):
    its dims ordered by the inputs' strides, the first input that tells two dims apart deciding, so
    ``gelu`` of a permuted tensor is permuted too. Broadcast dims (stride 0, or size 1 against a
    larger size) do not count; inputs of another rank are left out."""
    ranked = [
        tuple(0 if size == 1 and full != 1 else stride for size, full, stride in zip(s, shape, strides, strict=True))
        for s, strides in inputs
        if len(s) == len(shape)
    ]

    def swap(inner: int, outer: int) -> int:
        for strides in ranked:
            a, b = strides[inner], strides[outer]
            if a == 0 or b == 0:
                continue
            if a != b:
                return 1 if a > b else -1
            if shape[inner] > shape[outer]:
                return 1
        return 0

    perm = list(range(len(shape) - 1, -1, -1))  # innermost first
    for i in range(1, len(perm)):
        moving = i
        for j in range(i - 1, -1, -1):
            order = swap(perm[j], perm[moving])
            if order > 0:
                perm[j], perm[moving] = perm[moving], perm[j]
                moving = j
            elif order < 0:
                break
    result, step = [0] * len(shape), 1
    for d in perm:
        result[d] = step
        step *= max(shape[d], 1)
    return tuple(result)
