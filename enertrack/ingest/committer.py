"""The commit rule: a batch is decoded, written durably (retried while a database is away), then acked.

No MQTT in here: the daemon hands each closed batch to Committer.commit() and gives it an ack
callback; tests drive it with a fake store and a fake ack (CONVENTIONS.md principle 12).
docs/operations.md explains the log lines.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception, wait_exponential

from enertrack.ingest import users_db
from enertrack.ingest.arrival import ArrivalSeconds
from enertrack.ingest.batcher import (
    DeadLetter,
    HealthReport,
    Inbound,
    Plan,
    keep_latest,
    node_ids_in,
    plan_batch,
    refuse,
)
from enertrack.ingest.directory import NodeDirectory
from enertrack.ingest.isolate import write_isolating
from enertrack.ingest.payload import StatusUpdate, printable
from enertrack.ingest.stats import IngestStats, Throttle, rejection_key
from enertrack.store.base import StoreUnavailable, TimeseriesStore

log = logging.getLogger("enertrack.ingest.daemon")  # the daemon's logger: operators grep one name

SAY_ONCE_EVERY_S = 60.0  # outages and rejections are logged at most once a minute per kind
# Side records waiting for the users database (best effort, retried with the next batches).
UNRECORDED_LETTERS_MAX = 1000  # the dead-letter list keeps no more than this anyway
UNRECORDED_STATUSES_MAX = 10_000
UNRECORDED_HEALTH_MAX = 10_000  # nodes whose latest health waits (one report per node)

Ack = Callable[[Sequence[Inbound]], None]
RetryWait = Callable[[RetryCallState], float]


def retryable(error: BaseException) -> bool:
    """True when a batch failing with error is worth trying again as it is."""
    return isinstance(error, StoreUnavailable) or users_db.is_transient(error)


def failing_side(error: BaseException | None) -> str:
    """Which database a commit error came from, in the operator's words."""
    return "time-series store" if isinstance(error, StoreUnavailable) else "users database"


def backoff() -> RetryWait:
    """The wait between attempts at one batch: 0.25 s doubling up to 5 s."""
    return wait_exponential(multiplier=0.25, min=0.25, max=5)


class Committer:
    """Writes each batch to the store and the users database, then acks every message of it.

    ack(messages) is called once per committed batch, after both writes; a batch given up on (a
    stop while a database is away) is never acked, so the broker redelivers it.
    """

    def __init__(
        self,
        store: TimeseriesStore,
        directory: NodeDirectory,
        ack: Ack,
        *,
        sessions: sessionmaker[Session],
        prefix: str,
        clock: Callable[[], float] = time.time,
        stats: IngestStats | None = None,
        throttle: Throttle | None = None,
        retry_wait: RetryWait | None = None,
        held: Callable[[], int] = lambda: 0,
    ) -> None:
        self.store = store
        self.directory = directory
        self.ack = ack
        self.sessions = sessions
        self.prefix = prefix
        self.clock = clock
        self.stats = stats if stats is not None else IngestStats(clock())
        self.throttle = throttle if throttle is not None else Throttle(SAY_ONCE_EVERY_S)
        self.retry_wait = retry_wait if retry_wait is not None else backoff()
        self.held = held  # messages waiting behind this batch, for the outage message
        # A store that cannot be queried (InfluxDB without Flux, INFLUX_CHECK_EXISTING=false) is
        # not asked where a node's seconds continue after a restart.
        can_ask = getattr(store, "check_existing", True)
        self.arrivals = ArrivalSeconds(self._newest_stored_second) if can_ask else ArrivalSeconds()
        self.give_up_at = float("inf")  # set by a stop: retry an unavailable database until then
        self._unrecorded_letters: list[DeadLetter] = []
        self._unrecorded_statuses: list[StatusUpdate] = []
        self._unrecorded_health: dict[str, HealthReport] = {}
        self._outage_since: float | None = None
        self._outage_side = ""
        self._in_commit = 0

    def commit(self, messages: list[Inbound]) -> bool:
        """Store, record and ack one batch; False when a stop gave up on an unavailable database."""
        started = self.clock()
        self._in_commit = len(messages)
        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=self.retry_wait,
            stop=lambda _state: self.clock() >= self.give_up_at,
            before_sleep=self._before_retry,
            reraise=False,
        )
        try:
            plan, self.arrivals = retrying(self._write, messages)
        except RetryError:
            log.warning("stopping with the store still unavailable: %d messages left unacknowledged "
                        "for the broker to redeliver", len(messages) + self.held())
            return False
        finally:
            self._in_commit = 0
        if self._outage_since is not None:
            log.info("%s available again after %.0f s; draining the backlog", self._outage_side,
                     self.clock() - self._outage_since)
            self._outage_since = None
        self._record_side(plan)
        self.ack(messages)
        self._log_rejections(plan)
        self.stats.committed(
            stored=plan.stored, duplicates=plan.duplicates_in_batch, statuses=len(plan.statuses),
            ignored_keys=plan.ignored_keys,
            rejected=Counter(d.rejection.reason.value for d in plan.dead_letters),
            latency_s=self.clock() - started, untimed=plan.untimed, bad_health=plan.bad_health,
        )
        return True

    # ---- one attempt ---------------------------------------------------------------------

    def _refresh_directory(self, messages: list[Inbound]) -> None:
        names = node_ids_in(messages, self.prefix)
        if not self.directory.needs_refresh(names, self.clock()):
            return
        try:
            self.directory.replace(users_db.load_node_params(self.sessions), self.clock())
        except SQLAlchemyError as exc:
            if not self.directory.loaded or not users_db.is_transient(exc):
                raise  # with no node list at all, nothing can be judged: retry the batch
            allowed, _ = self.throttle.allow("directory", self.clock())
            if allowed:
                log.warning("cannot refresh the node list (%s); using the one loaded before", exc)

    def _newest_stored_second(self, node_id: str) -> int | None:
        """Where a node's ts-less seconds continue after a restart: its newest stored reading."""
        newest = self.store.latest([node_id]).get(node_id)
        return newest.ts if newest is not None else None

    def _write(self, messages: list[Inbound]) -> tuple[Plan, ArrivalSeconds]:
        """One attempt: decode against a fresh-enough node list, write the readings.

        ts-less readings are stamped on a copy of the arrival seconds, kept only once the
        batch is committed: a retried batch gets the same seconds again.
        """
        self._refresh_directory(messages)
        arrivals = self.arrivals.copy()
        plan = plan_batch(messages, self.prefix, self.directory.known, arrivals)
        params = self.directory.params({r.node_id for r in plan.readings})
        if plan.readings:
            # Readings the store refuses (StoreRejected) would fail the same way on every retry:
            # they are isolated, dead-lettered and acked with the rest; the rest is stored. Only a
            # store's own verdict on the data is StoreRejected (InfluxStore: InfluxDB's error JSON),
            # so however many readings or nodes it refuses, holding them would stall the stream.
            result = write_isolating(lambda part: self.store.write(part, params), plan.readings)
            plan.stored, plan.duplicates_in_batch = result.stored, plan.duplicates_in_batch + result.duplicates
            for refusal in result.refused:
                refuse(plan, refusal.index, str(refusal.error))
        return plan, arrivals

    def _before_retry(self, state: RetryCallState) -> None:
        self.stats.store_retry()
        now = self.clock()
        error = state.outcome.exception() if state.outcome else None
        if self._outage_since is None:
            self._outage_since = now
        self._outage_side = failing_side(error)
        allowed, _ = self.throttle.allow("store-unavailable", now)
        if allowed:
            log.error("%s unavailable for %.0f s (%s); holding %d messages unacknowledged and "
                      "retrying, nothing is lost", self._outage_side, now - self._outage_since, error,
                      self.held() + self._in_commit)

    # ---- after the readings are stored -------------------------------------------------------

    def _record_side(self, plan: Plan) -> None:
        """Dead letters, statuses and health into the users database: best effort, never holding readings back.

        The readings are stored by now. A users database that is away keeps the side records
        in memory (bounded) for the next batch; one that refuses an item for good (a data
        error) loses that item, logged with what it said.
        """
        letters = [*self._unrecorded_letters, *plan.dead_letters][-UNRECORDED_LETTERS_MAX:]
        statuses = [*self._unrecorded_statuses, *plan.statuses][-UNRECORDED_STATUSES_MAX:]
        health = self._unrecorded_health
        for report in plan.health.values():
            if report.node_id in health or len(health) < UNRECORDED_HEALTH_MAX:
                keep_latest(health, report)
        self._unrecorded_letters, self._unrecorded_statuses, self._unrecorded_health = [], [], {}
        if not letters and not statuses and not health:
            return
        try:
            users_db.record(self.sessions, letters, statuses, health=health)
            return
        except SQLAlchemyError as exc:
            if users_db.is_transient(exc):
                self._keep_unrecorded(letters, statuses, health, exc)
                return
        try:
            failed = users_db.record_each(self.sessions, letters, statuses, health=health)
        except SQLAlchemyError as exc:
            self._keep_unrecorded(letters, statuses, health, exc)  # transient after all
            return
        for item, error in failed:
            self._say_refused(item, error)

    def _say_refused(self, item: users_db.SideRecord, error: SQLAlchemyError) -> None:
        """Log a side record the users database refused for good (at most once a minute per kind)."""
        what = {DeadLetter: "dead letter", StatusUpdate: "status", HealthReport: "health report"}[type(item)]
        node = item.rejection.node_id if isinstance(item, DeadLetter) else item.node_id
        allowed, held = self.throttle.allow(f"unrecordable:{what}", self.clock())
        if allowed:
            more = f" (+{held} more since the last line)" if held else ""
            log.error("the users database refused a %s of node %s, dropped (the readings are stored "
                      "and acknowledged): %s%s", what, printable(node or "-", 70),
                      printable(str(getattr(error, "orig", None) or error), 300), more)

    def _keep_unrecorded(self, letters: list[DeadLetter], statuses: list[StatusUpdate],
                         health: dict[str, HealthReport], error: Exception) -> None:
        self._unrecorded_letters, self._unrecorded_statuses, self._unrecorded_health = letters, statuses, health
        allowed, _ = self.throttle.allow("unrecorded", self.clock())
        if allowed:
            log.warning("users database unavailable (%s): %d dead letters, %d statuses and %d health reports "
                        "kept in memory to record with the next batches; readings are stored and acknowledged "
                        "meanwhile", str(error)[:300], len(letters), len(statuses), len(health))

    def _log_rejections(self, plan: Plan) -> None:
        now = self.clock()
        for letter in plan.dead_letters:
            r = letter.rejection
            allowed, held = self.throttle.allow(rejection_key(r.reason), now)
            if allowed:
                more = f" (+{held} more rejected for this reason since the last line)" if held else ""
                # Node id, message and excerpt came from the network: no raw control characters.
                log.warning("rejected %s from node %s on %s: %s; payload: %s%s", r.reason,
                            printable(r.node_id or "-", 70), printable(letter.topic, 120),
                            printable(r.message, 1000), printable(r.excerpt), more)
