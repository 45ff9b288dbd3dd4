"""CPU-heavy work (images, sheets, exports) on a few worker threads, never on the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

# Decoding a picture or a sheet holds a core: more at once than a small node has cores would
# only make each slower (and hold more memory), while requests and the stream keep the loop.
CPU_WORKERS = 2
_POOL = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="konenut-cpu")

P = ParamSpec("P")
T = TypeVar("T")


async def off_the_loop(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`work(*args, **kwargs)` on a CPU worker thread (queued while all are busy)."""
    call = functools.partial(contextvars.copy_context().run, work, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_POOL, call)
