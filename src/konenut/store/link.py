"""The wire between a node's writer process and its HTTP worker processes: frames, and how a
command's `Decide` (a closure built by a handler) crosses it.

Both ends run the same installed code, so a closure travels as a reference to its code (module,
qualified name, first line) plus the values it captured; exceptions travel as their class and
fields. The socket is private to the node (store/writer_link.py), which is why pickle is safe
here: only processes of this node's own user can connect.
"""

from __future__ import annotations

import importlib
import io
import pickle
import socket
import struct
import types
from collections.abc import Iterator
from functools import cache
from typing import Any

HEADER = struct.Struct("!I")  # each frame: its length, then a pickle
MAX_FRAME_BYTES = 256 * 1024 * 1024  # a registry import of a whole town is a few MiB


class LinkClosed(Exception):
    """The other end of the link went away."""


# --- frames ------------------------------------------------------------------------------------
def frame(message: object) -> bytes:
    """A message that holds no closure nor exception (events) as one frame: plain pickle."""
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def command_frame(message: object) -> bytes:
    """A message that may hold closures (a command's Decide) or exceptions, as one frame."""
    buffer = io.BytesIO()
    buffer.write(HEADER.pack(0))
    _Pickler(buffer, pickle.HIGHEST_PROTOCOL).dump(message)
    data = buffer.getbuffer()
    HEADER.pack_into(data, 0, len(data) - HEADER.size)
    return bytes(data)


def read_frames(sock: socket.socket) -> Iterator[object]:
    """The messages arriving on `sock`, in order, until it closes (then LinkClosed)."""
    pending = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise LinkClosed("the other end closed the link")
        pending += chunk
        while len(pending) >= HEADER.size:
            (length,) = HEADER.unpack_from(pending)
            if length > MAX_FRAME_BYTES:
                raise LinkClosed(f"a frame of {length} bytes is over the limit")
            end = HEADER.size + length
            if len(pending) < end:
                break
            message = pickle.loads(memoryview(pending)[HEADER.size : end])
            del pending[:end]
            yield message


# --- closures and exceptions -------------------------------------------------------------------
class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
            return _closure_reduction(obj)
        if isinstance(obj, BaseException):
            return _rebuild_exception, (type(obj), obj.args, dict(vars(obj)))
        return NotImplemented


def _closure_reduction(function: types.FunctionType) -> tuple[Any, ...]:
    code = function.__code__
    cells = tuple(cell.cell_contents for cell in function.__closure__ or ())
    where = (function.__module__, code.co_qualname, code.co_firstlineno)
    return _rebuild_closure, (where, cells, function.__defaults__, function.__kwdefaults__)


def _rebuild_closure(
    where: tuple[str, str, int],
    cells: tuple[object, ...],
    defaults: tuple[object, ...] | None,
    kwdefaults: dict[str, object] | None,
) -> types.FunctionType:
    module_name, qualname, _line = where
    module = importlib.import_module(module_name)
    closure = tuple(types.CellType(value) for value in cells)
    function = types.FunctionType(
        _code_of(where), vars(module), qualname.rsplit(".", 1)[-1], defaults, closure or None
    )
    function.__kwdefaults__ = kwdefaults
    function.__qualname__ = qualname
    return function


@cache
def _code_of(where: tuple[str, str, int]) -> types.CodeType:
    """The code object of a nested function, found in its module's functions' constants."""
    module_name, qualname, line = where
    module = importlib.import_module(module_name)
    outer = getattr(module, qualname.split(".", 1)[0])
    roots = [getattr(outer, "__code__", None)]
    if isinstance(outer, type):  # a method's closure: search every function of the class
        roots = [getattr(m, "__code__", None) for m in vars(outer).values()]
    pending: list[types.CodeType] = [code for code in roots if isinstance(code, types.CodeType)]
    while pending:
        code = pending.pop()
        if code.co_qualname == qualname and code.co_firstlineno == line:
            return code
        pending.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    raise LookupError(f"no code for {qualname} (line {line}) in {module_name}")


def _rebuild_exception(
    kind: type[BaseException], args: tuple[object, ...], fields: dict[str, object]
) -> BaseException:
    """An exception as it was raised, whatever its constructor takes."""
    exception = kind.__new__(kind)
    exception.args = args
    vars(exception).update(fields)
    return exception
