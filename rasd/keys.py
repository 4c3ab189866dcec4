"""Every Redis key rasd uses: the one module that builds their names.

All keys live under the namespace (``RASD_NAMESPACE``, written ``<ns>`` below), so that two
installations or two test runs can share one Redis, and ``rasd dev reset`` (or a test's
clean-up) can drop exactly one installation's keys with :attr:`RedisKeys.everything`.

Each key family is one attribute or method here, documented with its Redis type, the part that
writes it, the parts that read it, and what bounds it. The module that owns the family's
*content* (the record inside) is named too; it takes the name from here and no module joins
key strings itself. ARCHITECTURE.md ("Bounded state", "Redis keys") describes the same keys.

>>> keys = RedisKeys(Settings(namespace="desk"))
>>> keys.outbox
'desk:outbox'
>>> keys.feed_lease("bbc-ar")
'desk:feed:bbc-ar:lease'
"""

from __future__ import annotations

from rasd.settings import Settings


class RedisKeys:
    """The Redis key names of one namespace (cheap to build: take one per object)."""

    def __init__(self, settings: Settings) -> None:
        self.namespace = settings.namespace
        self.everything = f"{self.namespace}:*"  # SCAN pattern: every key of the namespace

        # -- the outbox and the alert state (content: rasd/outbox.py) ----------------------
        # stream, fields key/revision/alert. Written by the streams worker (Outbox.write) and
        # by the console's dead-letter retry (Outbox.retry); read by notify (consumer group
        # <ns>-notify) and the console (live alerts, health). Trimmed by Outbox.trim (age,
        # length, never past an unread or unacknowledged entry).
        self.outbox = self._join("outbox")
        # hash alert key -> the latest Alert JSON. Worker writes; the console reads;
        # Outbox.trim removes the oldest (age, count).
        self.alerts = self._join("alerts")
        # zset alert key -> created_at (epoch s), the index of `alerts`; same writer and bound.
        self.alerts_by_time = self._join("alerts", "by-time")
        # hash alert key -> the console's acknowledgement {"by", "at"}. Console writes and
        # reads; Outbox.trim removes it with its alert.
        self.alerts_acks = self._join("alerts", "acks")

        # -- notify (content: rasd/notify/ledger.py, history.py, inhibit.py, silences.py) --
        # zset group id -> next due time (epoch s), or lease end while a notifier sends it.
        self.notify_due = self._join("notify", "due")
        # prefix of notify_group(): the ledger's claim script appends the group id in Lua.
        self.notify_group_prefix = self._join("notify", "group", "")
        # zset source alert key -> end of its longest inhibition; notifier writes and reads,
        # expired members dropped when read (Inhibitor.active).
        self.notify_inhibitors = self._join("notify", "inhibitors")
        # hash source alert key -> {"seen", "labels"}; beside notify_inhibitors, same bound.
        self.notify_inhibitor_alerts = self._join("notify", "inhibitors", "alerts")
        # stream, field `attempt` (history.Attempt JSON): the delivery log. Notifier writes
        # (XADD MAXLEN ~ delivery.history); console and `rasd notify log` read.
        self.notify_attempts = self._join("notify", "attempts")
        # stream, field `dead` (history.DeadLetter JSON). Notifier writes (MAXLEN ~
        # delivery.dead_letters); console lists, retries (through Outbox.retry) and deletes.
        self.notify_dead = self._join("notify", "dead")
        # hash silence id -> Silence JSON. Written by `rasd silence` and the console; read by
        # the notifier every round; dropped by SilenceStore a while after they end (RETENTION).
        self.silences = self._join("silences")

        # -- connectors (content: rasd/connectors/health.py, leases.py, sink.py) ------------
        # set of every feed name, made equal to feeds.yaml's list when a connector starts;
        # read by `rasd connectors status` and the console.
        self.feeds = self._join("feeds")
        # zset connector id -> expiry (epoch ms, lease_ttl ahead): the live connectors, each
        # heartbeating; expired members dropped by every heartbeat.
        self.connectors_members = self._join("connectors", "members")

        # -- the streams workers' rules (content: rasd/streams/rulesync.py) ----------------
        # hash worker id (host:pid) -> the rule ids and versions it runs (JSON): whether all
        # workers agree. Workers write, and remove their field on stop; operators and the
        # tests read.
        self.rules_loaded = self._join("rules", "loaded")
        # hash rule file -> why it was refused (JSON list); workers write and clear; operators
        # and the tests read.
        self.rules_errors = self._join("rules", "errors")

        # -- the console (content: rasd/console/feedback.py) ------------------------------
        # stream, field `feedback` (Feedback JSON): verdicts on alerts; console writes and
        # reads, capped at 100,000 entries and 90 days.
        self.feedback = self._join("feedback")

    def _join(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    # -- the outbox ------------------------------------------------------------------------
    def alert_claim(self, alert_key: str, revision: int) -> str:
        """string: the idempotency claim of one alert revision (``unpublished``/``published``).

        Set NX by the worker's outbox script, TTL ``RASD_STREAMS_IDEMPOTENCY_TTL`` (7 days)."""
        return self._join("alert", alert_key, "rev", str(revision))

    def alert_retry_claim(self, alert_key: str, dead_letter_id: str) -> str:
        """string: the claim of one dead letter's retry (console, ``Outbox.retry``), same TTL."""
        return self._join("alert", alert_key, "retry", dead_letter_id)

    # -- notify ----------------------------------------------------------------------------
    def notify_group(self, group_id: str) -> str:
        """hash: a group's receiver, route, labels, intervals, attempts, last_flush,
        last_severity, lease, wanted, arrived_rank. Notifiers write and read (ledger scripts);
        expires ``max(group_interval, repeat_interval)`` after the group empties."""
        return self.notify_group_prefix + group_id

    def notify_group_alerts(self, group_id: str) -> str:
        """hash alert key -> Alert JSON, the group's alerts not yet handled (ledger)."""
        return self.notify_group(group_id) + ":alerts"

    def notify_group_revisions(self, group_id: str) -> str:
        """hash alert key -> the outbox revision waiting in the group (ledger)."""
        return self.notify_group(group_id) + ":revisions"

    def notify_sent(self, receiver: str, alert_key: str) -> str:
        """string ``{"at", "revision", "severity"}``: the story's last message to a receiver.

        Notifier writes (record stage) and reads (dedup, cooldown); TTL at least 7 days, longer
        when the story's quiet period is longer."""
        return self._join("notify", "sent", receiver, alert_key)

    def notify_status(self, alert_key: str) -> str:
        """hash receiver -> latest Attempt JSON for one alert; notifier writes, console reads;
        TTL ``delivery.status_ttl`` (14 days)."""
        return self._join("notify", "status", alert_key)

    # -- connectors ------------------------------------------------------------------------
    def seen(self, article_id: str) -> str:
        """string: ``pending:<connector>`` while one connector produces the article (TTL
        ``claim_ttl``), then ``1`` (TTL ``poller.seen_ttl``, 14 days). Connectors only."""
        return self._join("seen", article_id)

    def feed_health(self, feed: str) -> str:
        """hash: a feed's health fields (connectors/health.py). Connectors write; the console
        and ``rasd connectors status`` read; deleted when the feed leaves feeds.yaml."""
        return self._join("feed", feed, "health")

    def feed_lease(self, feed: str) -> str:
        """string: the id of the connector polling the feed, ``SET NX PX lease_ttl``, renewed
        and released by that connector's scripts only (connectors/leases.py)."""
        return self._join("feed", feed, "lease")

    # -- shared ----------------------------------------------------------------------------
    def minute_series(self, series: str, minute: int) -> str:
        """hash member -> value for one minute (since the epoch) of a series (timeseries.py):
        ``articles`` written by the connectors, ``lag`` by the console; TTL 2 h each."""
        return self._join("ts", series, str(minute))

    def config_states(self, config: str) -> str:
        """hash process id -> ReloadState JSON for ``feeds`` or ``receivers`` (configwatch.py).

        Every connector or notifier writes its own field (removed on stop; stale ones are
        ignored by readers); console and the CLIs read."""
        return self._join("config", config)

    # -- the console -----------------------------------------------------------------------
    def login_failures(self, kind: str, who: str) -> str:
        """zset of failed logins (score = time) per ``user`` or ``addr`` (console/login_limit.py);
        TTL ``console_login_window_seconds``."""
        return self._join("console", "login-failures", kind, who)

    def rule_history(self, path: str) -> str:
        """list of ``{path, by, at, diff}`` JSON, newest first, of the console's edits of one
        rule file (console/rulefiles.py, capped in length)."""
        return self._join("console", "rules", "history", path)

    # -- benchmarks and tests ----------------------------------------------------------------
    def scratch(self, name: str) -> str:
        """A key for a benchmark's or test's own use, inside the namespace so that dropping
        the namespace removes it."""
        return self._join("scratch", name)
