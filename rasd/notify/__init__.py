"""rasd notify: outbox -> route -> group -> silence -> inhibit -> dedup -> cooldown -> send
-> record.

Classes the console uses: :class:`SilenceStore`, :class:`DeliveryLog`, :class:`DeadLetters`,
:class:`Matcher` (the one matcher language of routes, silences and inhibitions).
"""

from rasd.notify.config import NotifyConfigBase, load_config, parse_config
from rasd.notify.history import Attempt, DeadLetter, DeadLetters, DeliveryLog
from rasd.notify.matchers import Matcher, alert_labels
from rasd.notify.notifier import Notifier
from rasd.notify.silences import Silence, SilenceMatcher, SilenceNotFound, SilenceStore

__all__ = [
    "Attempt",
    "DeadLetter",
    "DeadLetters",
    "DeliveryLog",
    "Matcher",
    "Notifier",
    "NotifyConfigBase",
    "Silence",
    "SilenceMatcher",
    "SilenceNotFound",
    "SilenceStore",
    "alert_labels",
    "load_config",
    "parse_config",
]
