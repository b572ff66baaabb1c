"""Which process did a piece of work, and is it still alive: how a run tells killed work apart.

A run or trial records ``this_process()``; a later run on the same host treats work whose
process is gone (``kill -9``, a power cut) as failed instead of waiting for it forever.
"""

from __future__ import annotations

import os
import socket


def this_process() -> dict[str, str | int]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_alive(pid: int) -> bool:
    """True unless no process ``pid`` exists on this host (another user's process is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
