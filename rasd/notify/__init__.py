"""rasd notify: outbox -> route -> group -> silence -> cooldown -> dedup -> send -> record.

Classes the console uses: :class:`SilenceStore`, :class:`DeliveryLog`, :class:`DeadLetters`.
"""

from rasd.notify.config import NotifyConfigBase, load_config, parse_config
from rasd.notify.history import Attempt, DeadLetter, DeadLetters, DeliveryLog
from rasd.notify.notifier import Notifier
from rasd.notify.silences import Silence, SilenceMatcher, SilenceNotFound, SilenceStore

__all__ = [
    "Attempt",
    "DeadLetter",
    "DeadLetters",
    "DeliveryLog",
    "Notifier",
    "NotifyConfigBase",
    "Silence",
    "SilenceMatcher",
    "SilenceNotFound",
    "SilenceStore",
    "load_config",
    "parse_config",
]
