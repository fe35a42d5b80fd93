"""Printing off the request path.

A kiosk request must return within a second or two whatever the printer does,
so ticket printing happens here: :meth:`PrintWorker.submit` queues a job and
returns at once; one lane per printer URI prints its jobs in order and
reports each one through ``on_result(job_id, outcome, detail)``.

For each job a lane asks the printer's status, refuses to print when the
printer is out of paper or offline, sends the job, and asks again (paper can
run out during a ticket).  Outcomes:

``printed``    sent and the printer is fine afterwards (``detail`` may say
               "paper low" or that the status afterwards is unknown);
``paper_out``  out of paper before (not printed) or after (maybe incomplete);
``offline``    unreachable or offline (cover open, unplugged, refused);
``timeout``    the printer did not answer or take the job in time;
``error``      anything else (bad URI, driver error).

Device calls never run on the event loop: each lane has its own
:class:`antre.blocking.SingleThreadWorker`, so a printer handle (a USB handle
in particular) is opened, used and closed in one OS thread, and the lane's
loop itself (:func:`antre.blocking.spawn`: a greenlet under gevent, a thread
otherwise) only waits cooperatively.  The status before a job, its "sent"
mark and its bytes go to the device thread as *one* call: each hand-off
between threads costs a tap a wake-up, and on a busy two-core machine a
wake-up can wait milliseconds for a core.

A job id whose bytes were handed to the printer is remembered and never sent
again, even if sending failed half-way: a visitor must never get two tickets
for one number.  A job refused *before* sending (paper out, offline) may be
submitted again.  Pass ``printed_ids`` (anything with ``in`` and ``add``,
e.g. a set backed by the database) to keep that memory across restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from antre.blocking import SingleThreadWorker, gevent_active, native_lock, spawn
from printing.backends import Printer, open_printer
from printing.status import PaperOut, PrinterError, PrinterOffline, PrinterStatus, PrinterTimeout

__all__ = ["OUTCOMES", "Outcome", "PrintJob", "PrintWorker"]

logger = logging.getLogger("antre.printing")

Outcome = Literal["printed", "paper_out", "offline", "timeout", "error"]
OUTCOMES: tuple[Outcome, ...] = ("printed", "paper_out", "offline", "timeout", "error")
ResultCallback = Callable[[str, str, str], None]
Opener = Callable[[str, float], Printer]


@dataclass(frozen=True)
class PrintJob:
    """One ticket to print on one printer."""

    id: str
    printer_uri: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("job id must be a non-empty string")
        if not isinstance(self.printer_uri, str) or not self.printer_uri:
            raise ValueError("printer_uri must be a non-empty string")
        if not isinstance(self.data, bytes | bytearray) or not self.data:
            raise ValueError("job data must be non-empty bytes")


class IdMemory(Protocol):
    """The "already sent" memory.  ``add`` is called in a lane's device thread, just before the
    bytes go out, and may block (a database commit): it must return only once the id is kept."""

    def __contains__(self, job_id: object) -> bool: ...

    def add(self, job_id: str) -> None: ...


class _RecentIds:
    """The last ``limit`` job ids, in insertion order (a day of tickets is ~4,000)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids

    def add(self, job_id: str) -> None:
        with self._lock:
            self._ids[job_id] = None
            self._ids.move_to_end(job_id)
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)


def _captured(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """Run ``fn`` and hand back its result or its exception.

    Device errors are expected; raised inside gevent's thread pool they would
    also be printed as tracebacks by the hub.  The lane re-raises them.
    """
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - re-raised by PrintWorker._device_call
        return False, exc


class _Failed(Exception):
    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.phase: str | None = None  # "before" or "send" for a job's status-and-send call


class _InPhase(Exception):
    """A device error of :meth:`PrintWorker._check_and_send`, with the phase it happened in."""

    def __init__(self, phase: str, error: Exception) -> None:
        super().__init__(phase, error)
        self.phase = phase
        self.error = error


class _Attempt:
    """One job's status-and-send call, shared by the lane (waiting) and its device thread (working).

    When the lane stops waiting (its guard timed out, the job is reported as
    not printed) the device thread must not start sending it any more: the
    job may be retried, and a late send would print the ticket twice.
    """

    def __init__(self, job: PrintJob) -> None:
        self.job = job
        self._lock = native_lock()
        self._sending = False
        self._abandoned = False

    def start_sending(self) -> bool:
        """In the device thread: False when the lane has given up on this attempt."""
        with self._lock:
            if self._abandoned:
                return False
            self._sending = True
            return True

    def abandon(self) -> bool:
        """In the lane: give up on the attempt; True when its bytes had already started out."""
        with self._lock:
            self._abandoned = True
            return self._sending


class _Lane:
    """The queue, device thread and printer handle of one printer URI."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.queue: deque[PrintJob] = deque()
        self.device = SingleThreadWorker(f"printer:{uri}")
        self.printer: Printer | None = None  # used only inside self.device's thread
        self.current: PrintJob | None = None
        self.handle: Any = None


class PrintWorker:
    """Prints jobs in the background, in order per printer.  See the module docstring.

    Create it after gevent's monkey-patching (if any), and call :meth:`submit`
    from the event loop or, without gevent, from any thread.  ``on_result`` is
    called from the lane's loop; it must not block for long.
    """

    def __init__(
        self,
        on_result: ResultCallback,
        *,
        timeout: float = 5.0,
        opener: Opener = open_printer,
        printed_ids: IdMemory | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = timeout
        self._on_result = on_result
        self._opener = opener
        self._sent: IdMemory = printed_ids if printed_ids is not None else _RecentIds()
        # A device call bounds itself by `timeout`; this outer bound only
        # catches a driver that does not.
        self._guard = 2 * timeout + 1.0
        self._cond = threading.Condition()
        self._lanes: dict[str, _Lane] = {}
        self._active: set[str] = set()  # ids queued or being printed
        self._stopping = False
        self._drain = True

    # --------------------------------------------------------------- public
    def submit(self, job: PrintJob) -> bool:
        """Queue ``job`` and return at once.

        Returns False (and queues nothing) when a job with this id is already
        queued, being printed, or was sent to a printer before.
        """
        if not isinstance(job, PrintJob):
            raise TypeError(f"expected a PrintJob, got {type(job).__name__}")
        with self._cond:
            if self._stopping:
                raise RuntimeError("PrintWorker is stopped")
            if job.id in self._active or job.id in self._sent:
                logger.info("print job %s is a duplicate: not queued again", job.id)
                return False
            lane = self._lanes.get(job.printer_uri)
            if lane is None:
                lane = self._lanes[job.printer_uri] = _Lane(job.printer_uri)
                lane.handle = spawn(self._run_lane, lane, name=f"print-lane:{job.printer_uri}")
            lane.queue.append(job)
            self._active.add(job.id)
            self._cond.notify_all()
        return True

    def was_sent(self, job_id: str) -> bool:
        """True when the job's bytes were handed to a printer (it may be on paper)."""
        return job_id in self._sent

    def pending(self, printer_uri: str | None = None) -> int:
        """Jobs queued or being printed (on one printer, or on all)."""
        with self._cond:
            lanes = [self._lanes[printer_uri]] if printer_uri in self._lanes else []
            if printer_uri is None:
                lanes = list(self._lanes.values())
            return sum(len(lane.queue) + (lane.current is not None) for lane in lanes)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queue is empty and no job is printing; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while any(lane.queue or lane.current for lane in self._lanes.values()):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def stop(self, timeout: float = 10.0, *, drain: bool = True) -> list[PrintJob]:
        """Stop accepting jobs and end the lanes.

        With ``drain`` the queued jobs are printed first (for up to
        ``timeout`` seconds); without, only the job being printed finishes.
        Returns the jobs that were not printed, for the caller to keep.
        """
        leftover: list[PrintJob] = []
        with self._cond:
            self._stopping = True
            self._drain = drain
            if not drain:
                leftover.extend(self._take_queues())
            self._cond.notify_all()
            handles = [lane.handle for lane in self._lanes.values()]
        end = time.monotonic() + timeout
        for handle in handles:
            handle.join(max(0.0, end - time.monotonic()))
        with self._cond:
            self._drain = False
            leftover.extend(self._take_queues())
            self._cond.notify_all()
        return leftover

    def _take_queues(self) -> list[PrintJob]:
        jobs: list[PrintJob] = []
        for lane in self._lanes.values():
            jobs.extend(lane.queue)
            for job in lane.queue:
                self._active.discard(job.id)
            lane.queue.clear()
        return jobs

    # ----------------------------------------------------------------- lane
    def _run_lane(self, lane: _Lane) -> None:
        try:
            while True:
                with self._cond:
                    while not lane.queue and not self._stopping:
                        self._cond.wait()
                    if not lane.queue or (self._stopping and not self._drain):
                        return
                    job = lane.queue.popleft()
                    lane.current = job
                outcome, detail = self._print(lane, job)
                try:
                    self._on_result(job.id, outcome, detail)
                except Exception:
                    logger.exception("on_result failed for print job %s", job.id)
                with self._cond:
                    lane.current = None
                    self._active.discard(job.id)
                    self._cond.notify_all()
        finally:
            try:
                lane.device.call(_captured, self._finish_device_thread, lane, timeout=1.0)
            except TimeoutError:
                logger.warning("printer %s did not close in time", lane.uri)
            lane.device.close()

    def _print(self, lane: _Lane, job: PrintJob) -> tuple[Outcome, str]:
        if job.id in self._sent:
            return "printed", "already sent to the printer before; not sent again"
        # Status, "sent" mark and bytes in one trip to the device thread: a tap
        # waits for no hand-off between them (see _check_and_send).
        attempt = _Attempt(job)
        try:
            before = self._device_call(lane, self._check_and_send, lane, attempt, guard=2 * self._guard,
                                       attempt=attempt)
        except _Failed as failed:
            if failed.phase == "send":
                return failed.outcome, f"{failed.detail} (while sending; the ticket may be partly printed)"
            return failed.outcome, f"{failed.detail} (before printing; not printed)"
        if before is PrinterStatus.PAPER_OUT:
            return "paper_out", "printer is out of paper; not printed"
        if before is PrinterStatus.OFFLINE:
            return "offline", "printer is offline; not printed"

        try:
            after = self._device_call(lane, self._status, lane)
        except _Failed as failed:
            return failed.outcome, f"job sent, but no status afterwards: {failed.detail}"
        if after is PrinterStatus.PAPER_OUT:
            return "paper_out", "paper ran out; the ticket may be incomplete"
        if after is PrinterStatus.OFFLINE:
            return "offline", "printer went offline after the job was sent; the ticket may not have printed"
        if after is PrinterStatus.PAPER_LOW:
            return "printed", "paper low"
        if after is PrinterStatus.UNKNOWN:
            return "printed", "printer status unknown after printing"
        return "printed", ""

    def _device_call(self, lane: _Lane, fn: Callable[..., Any], *args: Any, guard: float | None = None,
                     attempt: _Attempt | None = None) -> Any:
        """Run ``fn`` in the lane's device thread; map failures to outcomes.

        A failure raised in a phase of :meth:`_check_and_send` keeps its phase;
        when the outer guard gives up on the call, ``attempt`` is abandoned
        (the device thread will not start sending it any more) and the phase
        is whether the bytes had already started out.
        """
        phase = None
        try:
            ok, value = lane.device.call(_captured, fn, *args, timeout=guard or self._guard)
            if ok:
                return value
            if isinstance(value, _InPhase):
                phase, value = value.phase, value.error
            raise value
        except PaperOut as exc:
            failure = _Failed("paper_out", str(exc))
        except PrinterOffline as exc:
            failure = _Failed("offline", str(exc))
        except PrinterTimeout as exc:
            failure = _Failed("timeout", str(exc))
        except TimeoutError as exc:
            failure = _Failed("timeout", f"printer call did not return: {exc}")
        except PrinterError as exc:
            failure = _Failed("error", str(exc))
        except ValueError as exc:  # open_printer: bad URI
            failure = _Failed("error", str(exc))
        except Exception as exc:
            logger.exception("printer %s: unexpected error", lane.uri)
            failure = _Failed("error", f"{type(exc).__name__}: {exc}")
        if phase is None and attempt is not None:
            phase = "send" if attempt.abandon() else "before"
        failure.phase = phase
        # Start afresh with the next call: reopen the device.
        try:
            lane.device.call(self._close_printer, lane, timeout=min(1.0, self._guard))
        except TimeoutError:
            logger.warning("printer %s is stuck; its handle is closed later", lane.uri)
        raise failure

    # -------------------------------------------- in the lane's device thread
    def _printer(self, lane: _Lane) -> Printer:
        if lane.printer is None:
            lane.printer = self._opener(lane.uri, self.timeout)
        return lane.printer

    def _status(self, lane: _Lane) -> PrinterStatus:
        return self._printer(lane).status()

    def _check_and_send(self, lane: _Lane, attempt: _Attempt) -> PrinterStatus:
        """The status before printing, then (if the printer can print) the "sent" mark, then the bytes.

        Returns the status before; a printer out of paper or offline is sent
        nothing.  ``printed_ids.add`` runs here, in this device thread, and
        returns once the mark is kept (durably, with a database-backed memory):
        only then do the bytes go out.  Failures come back wrapped in
        :class:`_InPhase` ("before": nothing was sent; "send": maybe on paper).
        """
        job = attempt.job
        try:
            before = self._printer(lane).status()
        except Exception as exc:  # noqa: BLE001 - classified by the lane (_device_call)
            raise _InPhase("before", exc) from exc
        if before in (PrinterStatus.PAPER_OUT, PrinterStatus.OFFLINE):
            return before
        if not attempt.start_sending():
            raise _InPhase("before", TimeoutError("the lane gave up on this job before it was sent"))
        self._sent.add(job.id)  # from here on the ticket may be on paper
        try:
            self._printer(lane).print_bytes(bytes(job.data))
        except Exception as exc:  # noqa: BLE001 - classified by the lane (_device_call)
            raise _InPhase("send", exc) from exc
        return before

    @classmethod
    def _finish_device_thread(cls, lane: _Lane) -> None:
        """Last call in a lane's device thread: close the printer, free the thread's hub.

        Under gevent, a pool thread that used a cooperative socket has a hub of
        its own; killing the pool with that hub alive made the interpreter
        crash (SIGSEGV) at exit in 8 of 15 runs here.  Destroying it from
        inside its own thread first: 0 of 20.
        """
        cls._close_printer(lane)
        if gevent_active():
            import gevent

            gevent.get_hub().destroy(destroy_loop=True)

    @staticmethod
    def _close_printer(lane: _Lane) -> None:
        printer, lane.printer = lane.printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:
                logger.exception("closing printer %s failed", lane.uri)
