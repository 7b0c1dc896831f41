"""The rating window's sweep (群众评事): issues left unrated for RATING_WINDOW_DAYS in resident
review close as closed_unrated, once an hour, in a background thread of the app's process.

Why a thread, and not page set-up or cron alone:
- In page set-up the sweep ran inside whichever visitor's page happened to be the first of the
  hour: that page waited for the writes (and failed with them), and a page should only read.
- Cron alone (`python -m gongzhi close-unrated`, kept for sites that want it, and for
  PostgreSQL replicas that run no app) would leave a fresh install showing issues past their
  window until someone sets it up; the README promises that the app does it by itself.
- One daemon thread per process and database, started when the app first prepares that
  database: it sweeps at once, then every SWEEP_INTERVAL, never blocks a page, logs (counts
  only, no personal data) and survives any error, and dies with the process. Several processes
  sweeping at the same time are harmless: each issue is re-checked under its version in the
  write transaction, and a sweep that loses a race is rolled back and retried the next hour.
"""

import logging
import threading
from datetime import timedelta

from gongzhi.db import get_engine, read_session, write_session
from gongzhi.lifecycle import close_expired_reviews, expired_reviews
from gongzhi.permissions import SYSTEM_ACTOR

SWEEP_INTERVAL = timedelta(hours=1)
log = logging.getLogger(__name__)
_lock = threading.Lock()
_threads: dict[str, threading.Thread] = {}


def sweep_once(url: str) -> int:
    """Close every issue whose rating window is over, as the system; how many. Writes (and
    bumps the data revision) only when there is something to close."""
    engine = get_engine(url)
    with read_session(engine) as session:
        if not expired_reviews(session=session):
            return 0
    with write_session(engine, actor=SYSTEM_ACTOR) as session:
        return close_expired_reviews(session=session, actor=SYSTEM_ACTOR)


def _run(url: str, interval: float, stop: threading.Event) -> None:
    while True:
        try:
            closed = sweep_once(url)
            if closed:
                log.info("closed %d issue(s) left unrated past the rating window", closed)
        except Exception:  # a failed sweep must not end the thread: the next hour tries again
            log.exception("the hourly sweep of unrated reviews failed")
        if stop.wait(interval):
            return


def start_hourly_sweep(url: str, *, interval: timedelta = SWEEP_INTERVAL) -> threading.Thread:
    """Start the sweep thread for the database at `url`, unless this process runs one already
    (cheap to call on every page)."""
    with _lock:
        thread = _threads.get(url)
        if thread is None or not thread.is_alive():
            stop = threading.Event()
            thread = threading.Thread(target=_run, args=(url, interval.total_seconds(), stop),
                                      name="gongzhi-sweep", daemon=True)
            thread.stop = stop  # type: ignore[attr-defined]  # for tests and shutdown
            _threads[url] = thread
            thread.start()
        return thread


def stop_hourly_sweep(url: str) -> None:
    """Stop this process's sweep thread for `url` (after its current sweep) and wait for it."""
    with _lock:
        thread = _threads.pop(url, None)
    if thread is not None:
        thread.stop.set()
        thread.join()
