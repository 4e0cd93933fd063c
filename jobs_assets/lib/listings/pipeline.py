"""The threads that let a large window use both cores: read ahead, normalise two chunks
at once, write the previous chunk (see `upsert.upsert_window` for when they are used)."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

_DONE = object()
T = TypeVar("T")
R = TypeVar("R")


class Worker:
    """A thread fed through a one-slot queue, so the producer runs at most one item ahead.

    The first error stops it and is re-raised in the producer by `put` or `close`.
    """

    def __init__(self, name: str, handle: Callable[[object], None]) -> None:
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self.error is None:
                try:
                    self._handle(item)
                except BaseException as err:  # re-raised in the producer
                    self.error = err

    def put(self, item: object) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(item)

    def close(self, raise_error: bool = True) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if raise_error and self.error is not None:
            raise self.error


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """`items` read one ahead in a thread (the database works while the caller computes).

    Closing this generator stops and joins the thread, which closes `items`.
    """
    stop = threading.Event()
    slot: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slot.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as err:
            failure.append(err)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # ends the COPY in this thread
        offer(_DONE)

    thread = threading.Thread(target=produce, name="read_staged", daemon=True)
    thread.start()
    try:
        while (item := slot.get()) is not _DONE:
            yield item
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()


def mapped_in_order(items: Iterator[tuple], work: Callable[..., R], threads: int) -> Iterator[R]:
    """`work(*item)` for each item, in order, `threads` at a time: worth it when `work`
    is mostly Arrow kernels, which release the GIL."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="normalise") as pool:
        pending: deque[Future] = deque()
        try:
            for item in items:
                pending.append(pool.submit(work, *item))
                if len(pending) >= threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for waiting in pending:
                waiting.cancel()
