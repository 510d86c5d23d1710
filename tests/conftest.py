"""Fixtures shared across test files."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import hypothesis_profiles
import pytest

# pytest rewrites the asserts of every test module it imports, ~6 CPU-s per process (each xdist worker
# collects all of them), and caches the result beside the source only where bytecode may be written.
# PYTHONDONTWRITEBYTECODE (set in some containers) would make every run pay it again; the cache lives in
# git-ignored __pycache__ folders. Subprocesses the tests start keep the variable: they read, not write.
sys.dont_write_bytecode = False


def _a_share_of_the_cores_per_worker() -> None:
    """Under xdist each worker is a process with torch's default of one thread per core: make test's 2 workers
    ran 4 threads on 2 cores, and OpenMP's idle threads spin (test_parity alone: the same wall time, 20%
    more CPU time than on one thread). Each worker gets its share of the cores (at least one thread) unless
    OMP_NUM_THREADS says otherwise; the processes the tests start inherit it, as they would the user's."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers and "OMP_NUM_THREADS" not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:  # read at import: too late for the variable alone
            sys.modules["torch"].set_num_threads(threads)


_a_share_of_the_cores_per_worker()

hypothesis_profiles.load()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow`` tests first (in their order), then the rest: under ``-n 2 --dist worksteal`` (make test)
    the last tests a worker runs or steals are short ones, not a long export started while the other is idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _torch_on_one_thread() -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run torch on one thread (the trainer tests compare runs bit for bit, and CI has 2 cores)."""
    yield from _torch_on_one_thread()


@pytest.fixture(scope="module")
def module_one_thread() -> Iterator[None]:
    """One torch thread for a whole contract module: on tiny tensors torch's thread pool only adds
    wake-up latency (and oversubscribes the cores under xdist). Use with
    ``pytestmark = pytest.mark.usefixtures("module_one_thread")``."""
    yield from _torch_on_one_thread()


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Register test layers without leaking them into other tests (schema staleness etc.)."""
    from archspec.layers import registry

    registry.layer_types()  # load built-ins first, or the restore would empty the registry
    table = registry._layers
    saved = (dict(table.classes), dict(table.pending), list(table.names), set(registry._plugins))
    yield
    table.classes, table.pending, table.names = saved[0], saved[1], saved[2]
    registry._plugins.clear()
    registry._plugins.update(saved[3])
    registry._version += 1
