"""Ctrl-C that is not lost while a command runs.

Python swallows a KeyboardInterrupt raised inside a finalizer (`__del__`, e.g. of an asyncio
loop left behind by the prompt that the garbage collector happens to reclaim mid-command):
it prints "Exception ignored in ..." and the command keeps running. While a command runs,
the REPL installs a SIGINT handler that notices when it fires inside a finalizer and
re-sends the signal a moment later, when ordinary code runs again.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

RETRY_SECONDS = 0.02


def _in_finalizer(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _handler(signum, frame):
    if _in_finalizer(frame):
        t = threading.Timer(RETRY_SECONDS, os.kill, (os.getpid(), signal.SIGINT))
        t.daemon = True
        t.start()
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def reliable_sigint():
    """Install the finalizer-aware SIGINT handler for the duration (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGINT, _handler)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
