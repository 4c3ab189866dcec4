"""rasd (رصد): a streaming news-monitoring alert pipeline."""

from rasd.models import Alert, Article, Match, Severity, StoryArticle, TermHit
from rasd.settings import Settings, get_settings

__all__ = [
    "Alert",
    "Article",
    "Match",
    "Settings",
    "Severity",
    "StoryArticle",
    "TermHit",
    "get_settings",
]
__version__ = "0.1.0"
