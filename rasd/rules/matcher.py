"""Match articles against rules with an index from analysed token to terms.

Compilation turns every term (and every gazetteer name) into a sequence of analysed keys and
indexes it under its first key. For an article, each token's readings are looked up in that
index; phrases are checked on the few candidates found; then only the rules that use a term
that was found are evaluated. The cost therefore grows with the article's length and the
number of rules that could match, not with the number of rules loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rasd.models import Article, ArticleField, Match, TermHit
from rasd.rules.gazetteer import Gazetteer, default_gazetteer
from rasd.rules.schema import Condition, Near, Rule
from rasd.text import analyse, base_lang
from rasd.text.analysis import detect_lang


@dataclass(frozen=True, slots=True)
class _Hit:
    field: ArticleField
    position: int
    start: int
    end: int


# A compiled condition: ("term", id) | ("any"|"all"|"none", [nodes]) | ("near", [[ids]], within)
_Node = tuple


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    tree: _Node
    positive: frozenset[int]
    term_text: dict[int, str]
    fields: frozenset[str]
    langs: frozenset[str] | None
    outlets: frozenset[str] | None
    places: frozenset[str] | None


class Matcher:
    """Compiled rules; ``match(article)`` returns one Match per matching rule.

    >>> from rasd.rules import parse_rules
    >>> rules = parse_rules("id: w\\ntitle: W\\nmatch: {any: [انسحاب]}\\n", "w.yaml").rules
    >>> from rasd.models import Article
    >>> a = Article(id="1", outlet="o", feed="f", lang="ar", title="القوات انسحبت من كركوك")
    >>> [(m.rule_id, m.places) for m in Matcher(rules).match(a)]
    [('w', ('kirkuk', 'iraq'))]
    """

    def __init__(self, rules: Iterable[Rule], gazetteer: Gazetteer | None = None) -> None:
        self._gazetteer = gazetteer or default_gazetteer()
        self._terms: dict[tuple[str, ...], int] = {}
        self._index: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        self._term_rules: dict[int, list[int]] = defaultdict(list)
        self._term_places: dict[int, list[str]] = defaultdict(list)
        self._rules: list[_CompiledRule] = []
        for place in self._gazetteer.places:
            for name in place.names:
                term_id = self._term_id(name)
                if term_id is not None:
                    self._term_places[term_id].append(place.id)
        for rule in rules:
            if rule.enabled:
                self._add(rule)
        self._fields = frozenset(f for r in self._rules for f in r.fields)

    @property
    def rules(self) -> list[Rule]:
        return [c.rule for c in self._rules]

    def _term_id(self, text: str) -> int | None:
        keys = tuple(t.key for t in analyse(text, detect_lang(text), as_term=True))
        if not keys:
            return None
        if keys not in self._terms:
            self._terms[keys] = len(self._terms)
            self._index[keys[0]].append((self._terms[keys], keys))
        return self._terms[keys]

    def _add(self, rule: Rule) -> None:
        term_text: dict[int, str] = {}
        positive: set[int] = set()

        def term(text: str, negated: bool) -> _Node:
            term_id = self._term_id(text)
            if term_id is None:
                return ("any", [])
            term_text.setdefault(term_id, text)
            if not negated:
                positive.add(term_id)
            return ("term", term_id)

        def near(spec: Near, negated: bool) -> _Node:
            entries = []
            for entry in spec.terms:
                alternatives = (entry,) if isinstance(entry, str) else entry
                ids = [term(t, negated)[1] for t in alternatives]
                entries.append([i for i in ids if isinstance(i, int)])
            return ("near", entries, spec.within)

        def group(cond: Condition, negated: bool) -> _Node:
            parts: list[_Node] = []
            if cond.all is not None:
                parts.append(("all", [item(i, negated) for i in cond.all]))
            if cond.any is not None:
                parts.append(("any", [item(i, negated) for i in cond.any]))
            if cond.near is not None:
                parts.append(near(cond.near, negated))
            if cond.none is not None:
                parts.append(("none", [item(i, not negated) for i in cond.none]))
            return ("all", parts)

        def item(value: str | Condition, negated: bool) -> _Node:
            return term(value, negated) if isinstance(value, str) else group(value, negated)

        tree = group(rule.match, False)
        index = len(self._rules)
        self._rules.append(
            _CompiledRule(
                rule=rule,
                tree=tree,
                positive=frozenset(positive),
                term_text=term_text,
                fields=frozenset(rule.fields),
                langs=frozenset(rule.lang) if rule.lang else None,
                outlets=frozenset(o.casefold() for o in rule.outlets) if rule.outlets else None,
                places=frozenset(rule.places) if rule.places else None,
            )
        )
        for term_id in positive:
            self._term_rules[term_id].append(index)

    def _find(self, article: Article) -> tuple[dict[int, list[_Hit]], dict[str, str]]:
        hits: dict[int, list[_Hit]] = defaultdict(list)
        texts: dict[str, str] = {}
        for field in ("title", "summary", "body"):
            text = getattr(article, field)
            if field not in self._fields or not text:
                continue
            texts[field] = text
            tokens = analyse(text, article.lang)
            count = len(tokens)
            for token in tokens:
                found: set[int] = set()
                for form in token.forms:
                    for term_id, keys in self._index.get(form, ()):
                        if term_id in found:
                            continue
                        last = token.position + len(keys) - 1
                        if last >= count or any(
                            keys[k] not in tokens[token.position + k].forms
                            for k in range(1, len(keys))
                        ):
                            continue
                        found.add(term_id)
                        hits[term_id].append(
                            _Hit(field, token.position, token.start, tokens[last].end)
                        )
        return hits, texts

    def match(self, article: Article) -> list[Match]:
        hits, texts = self._find(article)
        candidates = sorted({r for term_id in hits for r in self._term_rules.get(term_id, ())})
        lang = base_lang(article.lang)
        matches: list[Match] = []
        for index in candidates:
            compiled = self._rules[index]
            if compiled.langs is not None and lang not in compiled.langs:
                continue
            if compiled.outlets is not None and article.outlet.casefold() not in compiled.outlets:
                continue
            scoped = {
                term_id: [h for h in found if h.field in compiled.fields]
                for term_id, found in hits.items()
            }
            used = _satisfied(compiled.tree, scoped)
            if used is None:
                continue
            places = self._places(scoped)
            if compiled.places is not None and not compiled.places.intersection(places):
                continue
            terms = sorted(
                (
                    TermHit(
                        term=compiled.term_text[term_id],
                        field=hit.field,
                        start=hit.start,
                        end=hit.end,
                        text=texts[hit.field][hit.start : hit.end],
                    )
                    for term_id in used
                    for hit in scoped.get(term_id, ())
                ),
                key=lambda t: (("title", "summary", "body").index(t.field), t.start),
            )
            rule = compiled.rule
            matches.append(
                Match(
                    article_id=article.id,
                    rule_id=rule.id,
                    rule_version=rule.version,
                    severity=rule.severity,
                    tags=rule.tags,
                    places=tuple(places),
                    terms=tuple(terms),
                )
            )
        return matches

    def _places(self, hits: dict[int, list[_Hit]]) -> list[str]:
        """Places found, in order of first mention, then the places that contain them."""
        found = sorted(
            (min((h.field != "title", h.position) for h in hits[term_id]), place)
            for term_id, place_ids in self._term_places.items()
            if hits.get(term_id)
            for place in place_ids
        )
        places = list(dict.fromkeys(place for _, place in found))
        for place in list(places):
            for parent in self._gazetteer.ancestors(place):
                if parent not in places:
                    places.append(parent)
        return places


def _satisfied(node: _Node, hits: dict[int, list[_Hit]]) -> set[int] | None:
    """The term ids that make ``node`` true (for highlighting), or None when it is false."""
    kind = node[0]
    if kind == "term":
        return {node[1]} if hits.get(node[1]) else None
    if kind == "none":
        return None if any(_satisfied(child, hits) is not None for child in node[1]) else set()
    if kind == "near":
        return _near(node[1], node[2], hits)
    used: set[int] = set()
    holds = kind == "all"
    for child in node[1]:
        found = _satisfied(child, hits)
        if found is None:
            if kind == "all":
                return None
            continue
        holds = True
        used |= found
    return used if holds else None


def _near(entries: list[list[int]], within: int, hits: dict[int, list[_Hit]]) -> set[int] | None:
    """One hit of every entry inside a window of ``within`` tokens, in one field.

    Returns the term ids of the first such window, or None.
    """
    events: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for entry, term_ids in enumerate(entries):
        for term_id in term_ids:
            for hit in hits.get(term_id, ()):
                events[hit.field].append((hit.position, entry, term_id))
    need = len(entries)
    for field_events in events.values():
        field_events.sort()
        counts = [0] * need
        covered = 0
        left = 0
        for right, (position, entry, _) in enumerate(field_events):
            if counts[entry] == 0:
                covered += 1
            counts[entry] += 1
            while position - field_events[left][0] > within:
                gone = field_events[left][1]
                counts[gone] -= 1
                if counts[gone] == 0:
                    covered -= 1
                left += 1
            if covered == need:
                return {term_id for _, _, term_id in field_events[left : right + 1]}
    return None
