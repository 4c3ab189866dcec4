"""Rules: the YAML rule language, its loader, the gazetteer and the matcher.

>>> from rasd.rules import load_rules, Matcher
>>> result = load_rules(Path("rules"))            # doctest: +SKIP
>>> matcher = Matcher(result.rules)               # doctest: +SKIP
>>> matcher.match(article)                        # doctest: +SKIP
"""

from rasd.rules.gazetteer import Gazetteer, Place, default_gazetteer
from rasd.rules.loader import LoadResult, RuleError, load_rules, parse_rules
from rasd.rules.matcher import Matcher
from rasd.rules.schema import Condition, Escalate, Near, Rule, RuleSpec

__all__ = [
    "Condition",
    "Escalate",
    "Gazetteer",
    "LoadResult",
    "Matcher",
    "Near",
    "Place",
    "Rule",
    "RuleError",
    "RuleSpec",
    "default_gazetteer",
    "load_rules",
    "parse_rules",
]
