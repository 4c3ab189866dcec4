"""Match articles against rules with an index from analysed token to terms.

Compilation turns every term (and every gazetteer name) into a sequence of analysed keys and
indexes it under its first key. For an article, each token's readings are looked up in that
index; phrases are checked on the few candidates found; then only the rules that use a term
that was found are evaluated. The cost therefore grows with the article's length and the
number of rules that could match, not with the number of rules loaded.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate, compress, islice, repeat
from operator import is_, itemgetter
from typing import NamedTuple

from rasd.models import Article, ArticleField, Match, TermHit
from rasd.rules.gazetteer import Gazetteer, default_gazetteer
from rasd.rules.schema import WORD_CLASSES, Condition, Near, Rule
from rasd.text import analyse, base_lang
from rasd.text.analysis import (
    chunk_core,
    has_no_symbol,
    read_chunk_word,
    read_word,
    split_symbol_chunk,
    split_text,
    stemmer_lang,
    written_form,
)


class NearMiss(NamedTuple):
    """A rule that did not match although some of its terms were found (for `rules eval`)."""

    rule_id: str
    tags: tuple[str, ...]
    found: tuple[str, ...]
    vetoed_by: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        found = ", ".join(self.found)
        veto = f"; vetoed by {', '.join(self.vetoed_by)}" if self.vetoed_by else ""
        return f"{self.rule_id}: found {found}{veto} ({self.reason})"

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule_id,
            "found": list(self.found),
            "vetoed_by": list(self.vetoed_by),
            "reason": self.reason,
        }


class _Hit(NamedTuple):
    """A term found: its field, its first token's position, where it starts (in the text's
    chunk ``chunk``) and ends (in chunk ``last``); `_Spans` gives the offsets in the text."""

    field: ArticleField
    position: int
    chunk: int
    start: int
    last: int
    end: int


# Terms by their first key: the one-word terms' ids, and the phrases by their second key, so a
# phrase is only checked when the next token reads as its second word (many place names start
# with محافظة, مدينة, Kafr or Al).
_Phrases = dict[str, tuple[tuple[int, tuple[str, ...]], ...]]
_Lookup = dict[str, tuple[tuple[int, ...], _Phrases]]

# A chunk as the matcher reads it: each word's readings (with its written form when some rule
# uses "="), each word's end in the chunk, and the words whose readings start a term: (index in
# the chunk, start, end, one-word term ids, phrases by second key).
_Found = tuple[int, int, int, tuple[int, ...], _Phrases]
_Chunk = tuple[tuple[tuple[str, ...], ...], tuple[int, ...], tuple[_Found, ...]]

_FORMS = itemgetter(0)
_FOUND = itemgetter(2)


class _ChunkCache:
    """The chunks one Matcher has read in one language, bounded, in two parts.

    What a chunk's words meet in the index only changes with the rules, so a chunk seen before
    costs one dictionary lookup, done in C for the whole text. ``kept`` takes every chunk read
    while it has room (at most ``size``) and is not reordered or evicted chunk by chunk: a
    recency policy (an LRU, or generations dropped when full) over a text stream whose
    distinct chunks outnumber it (a backtest or a catch-up over long bodies that come round
    again) evicts each chunk before it comes back, misses every time and pays the eviction too.
    Once ``kept`` is full, a new chunk goes to ``recent``, two generations of ``recent`` chunks
    (the older dropped when the newer is full; a chunk of the older moved to the newer when seen
    again), which holds a story's new names while they are in the news. So that ``kept`` does
    not hold a process's first texts for ever, its older half (by admission) is dropped once it
    has missed ``4 * size`` chunks since it filled or was last aged, and the recent chunks join
    the rest; the next chunks read take the room left. At most ``size + 2 * recent`` chunks.
    Most entries are shared (`_PLAIN`: a word in no term), so a chunk costs about its key.
    """

    def __init__(self, read: Callable[[str], _Chunk], size: int = 262_144, recent: int = 16_384):
        self._read = read
        self._size = size
        self._recent = recent
        self._kept: dict[str, _Chunk] = {}
        self._new: dict[str, _Chunk] = {}
        self._old: dict[str, _Chunk] = {}
        self._missed = 0  # chunks read while ``kept`` was full, since it was last aged

    def read_all(self, chunks: list[str]) -> list[_Chunk]:
        kept = self._kept
        values = list(map(kept.get, chunks))
        if None in values:
            read = self._read
            # Only the chunks not found, picked in C (a first pass has a few per text).
            for i in compress(range(len(values)), map(is_, values, repeat(None))):
                chunk = chunks[i]
                value = kept.get(chunk)
                if value is None:
                    if len(kept) < self._size:  # room (a first pass), so no recent chunks
                        value = kept[chunk] = read(chunk)
                    elif (value := self._new.get(chunk)) is None:
                        value = self._old.get(chunk) or read(chunk)
                        self.keep(chunk, value)
                        kept = self._kept  # a new dict when it was aged
                values[i] = value
        return values  # type: ignore[return-value]

    def known(self, chunk: str) -> _Chunk | None:
        return self._kept.get(chunk) or self._new.get(chunk) or self._old.get(chunk)

    def keep(self, chunk: str, value: _Chunk) -> None:
        """Keep a chunk read (by `read_all`, or a word of a longer chunk on the way)."""
        kept = self._kept
        if len(kept) < self._size:
            kept[chunk] = value
            return
        new = self._new
        new[chunk] = value
        if len(new) >= self._recent:
            self._old, self._new = new, {}
        self._missed += 1
        if self._missed >= 4 * self._size:
            # The older half out, in C; what is still in use comes back as it is read again.
            # The recent chunks join the rest: only a full ``kept`` has recent chunks.
            self._kept = dict(islice(kept.items(), len(kept) // 2, None))
            self._kept.update(self._old)
            self._kept.update(self._new)
            self._old, self._new = {}, {}
            self._missed = 0


class _ChunkReader:
    """How one Matcher reads a chunk it has not seen, in one language, into its `_ChunkCache`.

    A chunk without symbols is one word (most are): its readings and what they start in the
    index. A longer chunk is split, and each word is read as the chunk of that word alone
    would be, through the cache: the chunks around a word (القوات، and (القوات) share it.
    """

    def __init__(
        self, lang: str, lookup: _Lookup, term_keys: frozenset[str], classes: bool
    ) -> None:
        self._lang = lang
        self._lookup = lookup
        self._keys = lookup.keys()
        self._term_keys = term_keys
        # The words written "=word" in some term, as their written forms.
        self._exact = frozenset(k[1:] for k in term_keys if k.startswith(EXACT))
        self._classes = classes
        self.cache = _ChunkCache(self.read)

    def read(self, chunk: str) -> _Chunk:
        word = read_chunk_word(chunk, self._lang)
        if word is not None:
            return self._entry(chunk, word)
        cache = self.cache
        core = chunk_core(chunk)
        if core is not None:  # a word between marks (القوات، "(AFP)"): that word's entry
            start, word = core
            entry = cache.known(word)
            if entry is None:
                entry = self._entry(word, read_word(word, self._lang))
                cache.keep(word, entry)
            if not start or not entry[0]:
                return entry
            forms, (end,), found = entry  # after the marks before it
            if found:
                ((_, _, _, singles, phrases),) = found
                found = ((0, start, start + end, singles, phrases),)
            return forms, (start + end,), found
        words: list[tuple[int, int, _Chunk]] = []
        for start, end, word in split_symbol_chunk(chunk):
            # A word of one character (punctuation mostly) is that chunk alone too.
            plain = len(word) == 1 or has_no_symbol(word)
            entry = cache.known(word) if plain else None
            if entry is None:
                entry = self._entry(word, read_word(word, self._lang))
                if plain:
                    cache.keep(word, entry)
            if entry[0]:
                words.append((start, end, entry))
        if len(words) == 1 and words[0][0] == 0 and words[0][2][1][0] == words[0][1]:
            # One word, then marks (القوات،, Biden,): the chunk reads as the word alone.
            return words[0][2]
        readings: list[tuple[str, ...]] = []
        ends: list[int] = []
        found: list[_Found] = []
        for start, end, entry in words:
            if entry[2]:
                _, _, _, singles, phrases = entry[2][0]
                found.append((len(readings), start, end, singles, phrases))
            readings.append(entry[0][0])
            ends.append(end)
        return tuple(readings), tuple(ends), tuple(found)

    def _entry(self, word: str, read: tuple[tuple[str, ...], str, str]) -> _Chunk:
        """The chunk that is ``word`` alone, from its `read_word`."""
        forms, _, written = read
        if not forms:
            return _NO_WORDS
        if written in self._exact:
            forms = (*forms, EXACT + written)
        if self._classes and _CLASS_LOW <= word < _CLASS_HIGH:
            forms = (*forms, *word_classes(word))
        end = len(word)
        # Readings are only ever compared with the terms' keys: a word with none of them (most
        # words) is a word without readings, one entry shared by every such word of its length
        # (nothing to allocate, keep or track per chunk but the cache's key).
        if self._term_keys.isdisjoint(forms):
            return _PLAIN[end] if end < _LONG else (((),), (end,), ())
        # A tuple, as read_word gives it: the garbage collector stops tracking a tuple of
        # strings.
        if self._keys.isdisjoint(forms):  # a word of a term, but starts none
            return (forms,), _ENDS[end] if end < _LONG else (end,), ()
        starts = list(filter(None, map(self._lookup.get, forms)))
        return (forms,), (end,), (_found(end, starts),)


# The ends of one-word chunks, shared.
_LONG = 64
_ENDS = tuple((n,) for n in range(_LONG))
# A one-word chunk, ``n`` long, whose word has none of the terms' keys among its readings.
_PLAIN: tuple[_Chunk, ...] = tuple((((),), (n,), ()) for n in range(_LONG))
_NO_WORDS: _Chunk = ((), (), ())


def _found(end: int, starts: list[tuple[tuple[int, ...], _Phrases]]) -> _Found:
    """What a word (the first of its chunk, ``end`` long) whose readings start terms finds:
    one-word term ids, and phrases by their second key."""
    singles = tuple(term_id for entry in starts for term_id in entry[0])
    phrases = [entry[1] for entry in starts if entry[1]]
    if len(phrases) > 1:
        merged: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {}
        for by_second in phrases:
            for second, terms in by_second.items():
                merged[second] = merged.get(second, ()) + terms
        phrases = [merged]
    return 0, 0, end, singles, phrases[0] if phrases else {}


# A compiled condition: ("any"|"all"|"none", term ids, [sub-conditions]) with the plain terms of
# a list as one frozenset (set operations instead of one call per term), or
# ("near", [[term ids of each entry]], within, ((veto term ids, veto distance), ...),
# (frozenset of each entry's term ids, ...)).
_Node = tuple


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    tree: _Node
    positive: frozenset[int]
    term_ids: frozenset[int]
    required: tuple[frozenset[int], ...]
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
        self._classes = False
        self._ancestors = {p.id: self._gazetteer.ancestors(p.id) for p in self._gazetteer.places}
        for place in self._gazetteer.places:
            for name in place.names:
                term_id = self._term_id(name)
                if term_id is not None:
                    self._term_places[term_id].append(place.id)
        for rule in rules:
            if rule.enabled:
                self._add(rule)
        self._fields = frozenset(f for r in self._rules for f in r.fields)
        self._anchors = frozenset(self._term_rules)
        self._lookup = _lookup(self._index)
        self._term_keys = frozenset(key for keys in self._terms for key in keys)
        self._readers: dict[str, _ChunkCache] = {}

    @property
    def rules(self) -> list[Rule]:
        return [c.rule for c in self._rules]

    def _term_id(self, text: str) -> int | None:
        keys = term_keys(text)
        if any(k in WORD_CLASSES for k in keys):
            self._classes = True
        if not keys:
            return None
        if keys not in self._terms:
            self._terms[keys] = len(self._terms)
            self._index[keys[0]].append((self._terms[keys], keys))
        return self._terms[keys]

    def _add(self, rule: Rule) -> None:
        term_text: dict[int, str] = {}
        term_ids: set[int] = set()
        positive: set[int] = set()

        def term(text: str, negated: bool) -> int | None:
            term_id = self._term_id(text)
            if term_id is None:
                return None
            term_text.setdefault(term_id, text)
            term_ids.add(term_id)
            if not negated:
                positive.add(term_id)
            return term_id

        def near(spec: Near, negated: bool) -> _Node:
            entries = []
            for entry in spec.terms:
                alternatives = (entry,) if isinstance(entry, str) else entry
                ids = (term(t, negated) for t in alternatives)
                entries.append([i for i in ids if i is not None])
            vetoes = []
            for veto in spec.unless:
                texts, reach = (
                    ((veto,), spec.unless_within)
                    if isinstance(veto, str)
                    else (
                        veto.terms,
                        veto.within,
                    )
                )
                ids = frozenset(i for t in texts if (i := term(t, not negated)) is not None)
                if ids:
                    vetoes.append((ids, reach))
            # Each entry's ids also as a set: most near conditions looked at lack an entry.
            sets = tuple(frozenset(entry) for entry in entries)
            return ("near", entries, spec.within, tuple(vetoes), sets)

        def items(kind: str, values, negated: bool) -> _Node:
            ids = frozenset(
                i for v in values if isinstance(v, str) and (i := term(v, negated)) is not None
            )
            groups = [group(v, negated) for v in values if not isinstance(v, str)]
            return (kind, ids, groups)

        def group(cond: Condition, negated: bool) -> _Node:
            parts: list[_Node] = []
            if cond.all is not None:
                parts.append(items("all", cond.all, negated))
            if cond.any is not None:
                parts.append(items("any", cond.any, negated))
            if cond.near is not None:
                parts.append(near(cond.near, negated))
            if cond.none is not None:
                parts.append(items("none", cond.none, not negated))
            return parts[0] if len(parts) == 1 else ("all", frozenset(), parts)

        tree = group(rule.match, False)
        index = len(self._rules)
        self._rules.append(
            _CompiledRule(
                rule=rule,
                tree=tree,
                positive=frozenset(positive),
                term_ids=frozenset(term_ids),
                required=_required(tree),
                term_text=term_text,
                fields=frozenset(rule.fields),
                langs=frozenset(rule.lang) if rule.lang else None,
                outlets=frozenset(o.casefold() for o in rule.outlets) if rule.outlets else None,
                places=frozenset(rule.places) if rule.places else None,
            )
        )
        for term_id in _anchor(tree):
            self._term_rules[term_id].append(index)

    def _reader(self, lang: str) -> _ChunkCache:
        reader = self._readers.get(lang)
        if reader is None:
            read = _ChunkReader(lang, self._lookup, self._term_keys, self._classes)
            reader = self._readers[lang] = read.cache
        return reader

    def _find(self, article: Article) -> tuple[dict[int, list[_Hit]], dict[str, str]]:
        hits: dict[int, list[_Hit]] = defaultdict(list)
        texts: dict[str, str] = {}
        reader = self._reader(stemmer_lang(article.lang))
        for field in ("title", "summary", "body"):
            text = getattr(article, field)
            if field not in self._fields or not text:
                continue
            texts[field] = text
            # The text chunk by chunk in C (split, cached reads, a filter); Python only for the
            # chunks with a word that starts a term. A hit keeps its place as chunk indexes:
            # offsets in the text are found only for the hits a match shows (`_Spans`).
            words = (text.replace("_", " ") if "_" in text else text).split()
            chunks = reader.read_all(words)
            starting = list(compress(range(len(chunks)), map(_FOUND, chunks)))
            if not starting:
                continue
            bases = list(accumulate(map(len, map(_FORMS, chunks)), initial=0))
            count = bases[-1]
            for index in starting:
                base = bases[index]
                for i, start, end, singles, phrases in chunks[index][2]:
                    position = base + i
                    for term_id in singles:
                        hits[term_id].append(_Hit(field, position, index, start, index, end))
                    if not phrases or position + 1 >= count:
                        continue
                    # The next word is mostly the next chunk's first: no bisect, and most
                    # phrases' second words are not among its readings.
                    forms = chunks[index][0]
                    if i + 1 < len(forms):
                        following = forms[i + 1]
                    elif chunks[index + 1][0]:
                        following = chunks[index + 1][0][0]
                    else:
                        following = _reading(chunks, bases, position + 1)
                    if phrases.keys().isdisjoint(following):
                        continue
                    for second in following:
                        for term_id, keys in phrases.get(second, ()):
                            last = position + len(keys) - 1
                            # The phrase's further words must follow in order.
                            if last >= count or any(
                                keys[k] not in _reading(chunks, bases, position + k)
                                for k in range(2, len(keys))
                            ):
                                continue
                            last_index = _chunk_of(bases, index, last)
                            last_end = chunks[last_index][1][last - bases[last_index]]
                            hits[term_id].append(
                                _Hit(field, position, index, start, last_index, last_end)
                            )
        return hits, texts

    def match(self, article: Article) -> list[Match]:
        hits, texts = self._find(article)
        return self._matches(article, hits, texts)

    def _matches(
        self, article: Article, hits: dict[int, list[_Hit]], texts: dict[str, str]
    ) -> list[Match]:
        # Most articles wake no rule (their terms are places, or parts of other rules' terms).
        woken = self._anchors.intersection(hits)
        if not woken:
            return []
        candidates = sorted({r for term_id in woken for r in self._term_rules[term_id]})
        lang = base_lang(article.lang)
        present = frozenset(h.field for found in hits.values() for h in found)
        found_ids = frozenset(hits)
        places_in: dict[frozenset[str], list[str]] = {}
        spans: _Spans | None = None
        matches: list[Match] = []
        for index in candidates:
            compiled = self._rules[index]
            if compiled.langs is not None and lang not in compiled.langs:
                continue
            if compiled.outlets is not None and article.outlet.casefold() not in compiled.outlets:
                continue
            # Cheap necessary condition before the full evaluation (set operations in C).
            if any(ids.isdisjoint(found_ids) for ids in compiled.required):
                continue
            if present <= compiled.fields:
                scoped, fields = hits, present
            else:
                scoped = {
                    term_id: in_fields
                    for term_id in compiled.term_ids.intersection(hits)
                    if (in_fields := [h for h in hits[term_id] if h.field in compiled.fields])
                }
                fields = compiled.fields
            used = _satisfied(compiled.tree, scoped)
            if used is None:
                continue
            if fields not in places_in:
                places_in[fields] = self._places(hits, fields)
            places = places_in[fields]
            if compiled.places is not None and not compiled.places.intersection(places):
                continue
            if spans is None:
                spans = _Spans(texts)
            terms = sorted(
                (
                    TermHit(
                        term=compiled.term_text[term_id],
                        field=hit.field,
                        start=start,
                        end=end,
                        text=texts[hit.field][start:end],
                    )
                    for term_id in used
                    for hit in scoped.get(term_id, ())
                    for start, end in (spans(hit),)
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

    def near_misses(self, article: Article) -> list[NearMiss]:
        """Rules that did not match ``article`` but found some of their positive terms."""
        hits, texts = self._find(article)
        matched = {m.rule_id for m in self._matches(article, hits, texts)}
        lang = base_lang(article.lang)
        misses: list[NearMiss] = []
        for compiled in self._rules:
            rule = compiled.rule
            if rule.id in matched:
                continue
            scoped = {
                term_id: in_fields
                for term_id in compiled.term_ids.intersection(hits)
                if (in_fields := [h for h in hits[term_id] if h.field in compiled.fields])
            }
            found = [t for t in scoped if t in compiled.positive]
            if not found:
                continue
            vetoes = [t for t in scoped if t not in compiled.positive]
            if compiled.langs is not None and lang not in compiled.langs:
                reason = f"language {lang or '?'} not in {', '.join(sorted(compiled.langs))}"
            elif vetoes:
                reason = "vetoed"
            elif _satisfied(compiled.tree, scoped) is not None:
                reason = "none of its places"
            else:
                reason = "not every part found"
            misses.append(
                NearMiss(
                    rule_id=rule.id,
                    tags=rule.tags,
                    found=tuple(dict.fromkeys(compiled.term_text[t] for t in found)),
                    vetoed_by=tuple(dict.fromkeys(compiled.term_text[t] for t in vetoes)),
                    reason=reason,
                )
            )
        return misses

    def _places(self, hits: dict[int, list[_Hit]], fields: frozenset[str]) -> list[str]:
        """Places found, in order of first mention, then the places that contain them."""
        found = sorted(
            (min((h.field != "title", h.position) for h in in_fields), place)
            for term_id in self._term_places.keys() & hits.keys()
            if (in_fields := [h for h in hits[term_id] if h.field in fields])
            for place in self._term_places[term_id]
        )
        places = list(dict.fromkeys(place for _, place in found))
        for place in list(places):
            for parent in self._ancestors[place]:
                if parent not in places:
                    places.append(parent)
        return places


EXACT = "="


def _reading(chunks: list[_Chunk], bases: list[int], position: int) -> tuple[str, ...]:
    """The readings of the token at ``position`` (``bases``: each chunk's first position)."""
    index = bisect_right(bases, position) - 1
    return chunks[index][0][position - bases[index]]


def _chunk_of(bases: list[int], index: int, position: int) -> int:
    """The chunk that holds the token at ``position``: chunk ``index`` or one after it."""
    while bases[index + 1] <= position:
        index += 1
    return index


class _Spans:
    """The offsets in the article's text of the hits a match shows, from their chunk indexes.

    A field's chunk offsets are found once, by splitting the text with its separators (in C),
    and only for the fields of the few articles that match.
    """

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts
        self._offsets: dict[str, list[int]] = {}

    def __call__(self, hit: _Hit) -> tuple[int, int]:
        offsets = self._offsets.get(hit.field)
        if offsets is None:
            # Chunks at even indexes, the first one empty when the text starts with a space;
            # the same chunks as the split in `Matcher._find` (whitespace and "_").
            parts = split_text(self._texts[hit.field])
            starts = list(accumulate(map(len, parts), initial=0))
            offsets = self._offsets[hit.field] = starts[2 if parts[0] == "" else 0 :: 2]
        return offsets[hit.chunk] + hit.start, offsets[hit.last] + hit.end


def _lookup(index: dict[str, list[tuple[int, tuple[str, ...]]]]) -> _Lookup:
    lookup: _Lookup = {}
    for first, entries in index.items():
        phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
        for term_id, keys in entries:
            if len(keys) > 1:
                phrases[keys[1]].append((term_id, keys))
        singles = tuple(term_id for term_id, keys in entries if len(keys) == 1)
        lookup[first] = (singles, {second: tuple(p) for second, p in phrases.items()})
    return lookup


def term_keys(text: str) -> tuple[str, ...]:
    """The keys a term's words must meet in order: analysed forms, or ``=word`` as written.

    ``=`` is for the few words whose stem meets another word's (``forced`` and ``forces`` both
    stem to ``forc``, ``Shell`` and ``shelling`` to ``shell``).

    >>> term_keys("=forced out")
    ('=forced', 'out')
    """
    keys: list[str] = []
    for word in text.split():
        if word in WORD_CLASSES:
            keys.append(word)
        elif word.startswith(EXACT) and len(word) > 1:
            keys.append(EXACT + written_form(word[1:]))
        else:
            keys.extend(t.key for t in analyse(word, as_term=True))
    return tuple(keys)


_YEAR = re.compile(r"(1[89]|20)\d\d")


def word_classes(text: str) -> frozenset[str]:
    """The word classes (``schema.WORD_CLASSES``) a token written ``text`` belongs to.

    >>> sorted(word_classes("2021")), sorted(word_classes("2,000"))
    (['<year>'], [])
    """
    return _YEAR_CLASS if _YEAR.fullmatch(text) else frozenset()


_YEAR_CLASS = frozenset({"<year>"})
# Every word in a class (a year) starts with 1 or 2, i.e. sorts between these two strings:
# other words skip `word_classes` (a comparison in C, no character taken out).
_CLASS_LOW, _CLASS_HIGH = "1", "3"


def _anchor(node: _Node) -> frozenset[int]:
    """Terms of which at least one must be found for ``node`` to hold.

    Only these terms make a rule a candidate: a rule of the form all(A, B) is looked at when a
    term of A is found, not for every article that mentions a term of B. The smallest required
    set is chosen, so fewer articles wake the rule up.
    """
    kind = node[0]
    if kind == "near":
        return min(node[4], key=len)
    _, ids, groups = node
    if kind == "any":
        return ids.union(*(_anchor(g) for g in groups))
    # kind == "all" (validation guarantees a rule's tree is never a bare "none")
    choices = [frozenset((t,)) for t in sorted(ids)[:1]]
    choices += [_anchor(g) for g in groups if g[0] != "none"]
    return min(choices, key=len, default=frozenset())


def _required(node: _Node) -> tuple[frozenset[int], ...]:
    """Sets of terms that must each have one term found: a rule's fast pre-check."""
    kind = node[0]
    if kind == "near":
        return node[4]
    _, ids, groups = node
    if kind == "any":
        return (ids.union(*(_anchor(g) for g in groups)),)
    if kind == "all":
        required = [frozenset((t,)) for t in ids]
        for group in groups:
            required.extend(_required(group))
        return tuple(required)
    return ()


def _satisfied(node: _Node, hits: dict[int, list[_Hit]]) -> set[int] | None:
    """The term ids that make ``node`` true (for highlighting), or None when it is false.

    ``hits`` holds only terms with at least one hit.
    """
    kind = node[0]
    if kind == "near":
        # A window needs a hit of every entry: an entry with none (most near conditions an
        # `any` reaches) is told by one set operation per entry, before any event is built.
        for entry in node[4]:
            if entry.isdisjoint(hits):
                return None
        return _near(node[1], node[2], hits, node[3])
    _, ids, groups = node
    found = {t for t in ids if t in hits}
    if kind == "none":
        if found or any(_satisfied(g, hits) is not None for g in groups):
            return None
        return set()
    if kind == "all":
        if len(found) < len(ids):
            return None
        for g in groups:
            sub = _satisfied(g, hits)
            if sub is None:
                return None
            found |= sub
        return found
    holds = bool(found)
    for g in groups:
        sub = _satisfied(g, hits)
        if sub is not None:
            holds = True
            found |= sub
    return found if holds else None


def _near(
    entries: list[list[int]],
    within: int,
    hits: dict[int, list[_Hit]],
    vetoes: tuple[tuple[frozenset[int], int], ...] = (),
) -> set[int] | None:
    """One hit of every entry inside a window of ``within`` tokens, in one field, with no veto
    term within its reach of that window (``vetoes``: groups of term ids and their reach).

    Returns the term ids of the first such window, or None.
    """
    events: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for entry, term_ids in enumerate(entries):
        for term_id in term_ids:
            for hit in hits.get(term_id, ()):
                events[hit.field].append((hit.position, entry, term_id))
    veto_at: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for term_ids, reach in vetoes:
        for term_id in term_ids:
            for hit in hits.get(term_id, ()):
                veto_at[hit.field].append((hit.position, reach))
    need = len(entries)
    for field, field_events in events.items():
        field_events.sort()
        vetoed = veto_at.get(field, ())
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
            if covered < need:
                continue
            window = field_events[left : right + 1]
            if vetoed:
                # The smallest window ending here: the last hit of each entry.
                last: dict[int, int] = {}
                for pos, ent, _ in window:
                    last[ent] = pos
                lo, hi = min(last.values()), position
                if any(lo - reach <= v <= hi + reach for v, reach in vetoed):
                    continue
                window = [e for e in window if e[0] >= lo]
            return {term_id for _, _, term_id in window}
    return None
