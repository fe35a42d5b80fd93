"""Run blocking work off the event loop, whether or not gevent is active.

Under gevent every greenlet shares one OS thread: a libusb write, an espeak
synthesis or a long SQLite query that blocks in C stops every connection for
its whole duration.  The helpers here are the one way Antre runs such work:

* :func:`call_blocking` runs a function in a real OS thread (gevent's native
  thread pool) and lets the calling greenlet wait cooperatively.  Without
  gevent (tests, the CLI) it just calls the function.
* :class:`SingleThreadWorker` runs every call it is given in *one* dedicated
  OS thread, in order: for devices that must not be touched from two threads
  (a pyttsx3 engine, a USB printer handle).
* :func:`spawn` starts a background loop: a greenlet under gevent, a daemon
  thread otherwise.  Such loops must do their blocking parts through
  :func:`call_blocking` or a :class:`SingleThreadWorker`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def gevent_active() -> bool:
    """True when gevent has monkey-patched this process."""
    if "gevent.monkey" not in sys.modules:
        return False
    from gevent import monkey

    return bool(monkey.is_module_patched("socket"))


def call_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` in gevent's native thread pool when gevent is active."""
    if gevent_active():
        import gevent

        ok, value = gevent.get_hub().threadpool.apply(_capture, (fn, args, kwargs))
        if ok:
            return value
        raise value
    return fn(*args, **kwargs)


def _capture(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, Any]:
    """Hand an exception back to the caller as a value.

    gevent's thread pool would otherwise also print every exception it
    carries (a refused ticket is a normal answer, not an error to log).
    """
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - re-raised in the calling greenlet
        return False, exc


def spawn(fn: Callable[..., Any], *args: Any, name: str = "antre-worker") -> Any:
    """Start a background loop (greenlet under gevent, else daemon thread)."""
    if gevent_active():
        import gevent

        return gevent.spawn(fn, *args)
    thread = threading.Thread(target=fn, args=args, name=name, daemon=True)
    thread.start()
    return thread


def sleep(seconds: float) -> None:
    """Sleep cooperatively."""
    if gevent_active():
        import gevent

        gevent.sleep(seconds)
    else:
        import time

        time.sleep(seconds)


class SingleThreadWorker:
    """Runs every submitted call in one dedicated OS thread, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool: Any = None
        self._lock = native_lock()

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                if gevent_active():
                    from gevent.threadpool import ThreadPool

                    self._pool = ThreadPool(1)
                else:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix=self.name
                    )
            return self._pool

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run ``fn`` in the worker thread and wait for its result.

        Raises :class:`TimeoutError` when ``timeout`` passes first (the call
        itself goes on in the worker; device code must bound its own waits).
        """
        pool = self._get_pool()
        if isinstance(pool, concurrent.futures.ThreadPoolExecutor):
            future = pool.submit(fn, *args)
            try:
                return future.result(timeout=timeout)
            except concurrent.futures.TimeoutError as exc:
                raise TimeoutError(f"{self.name}: no answer in {timeout} s") from exc
        result = pool.spawn(_capture, fn, args, {})
        import gevent

        try:
            ok, value = result.get(timeout=timeout)
        except gevent.Timeout as exc:
            raise TimeoutError(f"{self.name}: no answer in {timeout} s") from exc
        if ok:
            return value
        raise value

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        if isinstance(pool, concurrent.futures.ThreadPoolExecutor):
            pool.shutdown(wait=False, cancel_futures=True)
            return
        # A pool thread that used a socket has a gevent hub of its own; killing
        # the pool without destroying that hub from inside its thread crashes
        # the interpreter at exit about half the time.
        with contextlib.suppress(Exception):  # closing must not fail
            pool.apply(_destroy_thread_hub)
        pool.kill()


def _destroy_thread_hub() -> None:
    import gevent

    gevent.get_hub().destroy(destroy_loop=True)


def native_lock() -> Any:
    """A lock that works across real OS threads even under monkey-patching.

    Hold it only briefly and never across a cooperative wait.
    """
    if gevent_active():
        from gevent import monkey

        return monkey.get_original("_thread", "allocate_lock")()
    return threading.Lock()


def start_native_thread(fn: Callable[..., Any], *args: Any) -> None:
    """Start ``fn(*args)`` in a real OS thread, even under monkey-patching.

    For loops that only wait on :func:`native_lock` objects and call C code
    that releases the GIL (SQLite); they must not touch gevent objects.
    """
    if gevent_active():
        from gevent import monkey

        monkey.get_original("_thread", "start_new_thread")(fn, args)
        return
    threading.Thread(target=fn, args=args, name="antre-native", daemon=True).start()
