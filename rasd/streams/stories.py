"""Stories and escalations of one rule: the pure state machine behind the `stories` agent.

Every match of a rule arrives as a :class:`Candidate` on a topic keyed by rule id, so one worker
sees all of a rule's candidates in order and keeps that rule's :class:`RuleState` in a
changelogged table. :func:`advance` takes the state and a candidate and returns the new state and
the alert revisions to write. It is deterministic (it reads event times from the records, never
the clock), so replaying the same candidates after a crash computes the same alert keys and
revisions, which the outbox then recognises as already written.

A candidate is one event with an open story (of the same rule: a state holds one rule) when
- the story's latest report is at most ``story_window`` older than the candidate,
- the story has fewer than ``story_max_reports`` reports (a full story takes no more: its
  ``article_ids`` stay bounded, and a chain of loosely similar reports cannot grow it forever),
- their places overlap (or one of them names no place; places carry their ancestors, so Kirkuk
  overlaps Iraq), and they do not name two different sites (the K1 handover and the Qayyarah
  handover share every word but the base's name), and
- their words are alike: the word similarity to one of the story's reports reaches
  ``story_similarity``, or ``story_similarity_same_outlet`` when that report is from the same
  outlet (an outlet's recurring series, such as market closes or a minister's calls, repeat
  their template words from one event to the next); or, when the candidate is in a language
  the story has no report in yet, they share what languages write alike: a city or site of the
  gazetteer, or a number and a place below the country level (words cannot be compared across
  languages; gazetteer ids and numbers can).
It joins the most similar such story; otherwise it starts a new story. Each new story counts
once in the escalation window of each of its places; the count reaching the rule's threshold
raises one escalation alert for the window, so an escalation counts events, not reports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from rasd.codec import construct, constructible
from rasd.durations import format_duration
from rasd.models import Alert, Article, Match, Severity, StoryArticle, TermHit
from rasd.rules import default_gazetteer
from rasd.streams.similarity import (
    SKETCH_SIZE,
    Fingerprint,
    hashes,
    sketch,
    sketch_similarity,
)
from rasd.text import base_lang

if TYPE_CHECKING:
    from rasd.streams.config import StreamsSettings


class Escalation(Protocol):
    window: timedelta
    threshold: int
    severity: Severity


class RuleLike(Protocol):
    """What the story logic needs from a rule (``rasd.rules.Rule`` has it)."""

    id: str
    title: str
    escalate: Escalation | None
    notify: tuple[str, ...]
    cooldown: timedelta | None


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(_State):
    """A match with what grouping needs: the report itself, its words' signature, its numbers."""

    match: Match
    article: StoryArticle
    seen_at: datetime
    signature: str = ""
    # The match's places that name one city or site (not a country or region).
    sites: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)

    @classmethod
    def from_match(
        cls, match: Match, article: Article, fingerprint: Fingerprint | None = None
    ) -> Candidate:
        """The candidate of one match of ``article`` (seen when the article was fetched).

        ``fingerprint`` is the article's, when it was computed once for all its matches.
        """
        found = fingerprint or Fingerprint.of(article.title, article.summary, article.lang)
        return cls(
            match=match,
            article=StoryArticle.from_article(article),
            seen_at=article.fetched_at,
            signature=found.signature,
            sites=[p for p in match.places if _kinds().get(p) in ("city", "site")],
            numbers=list(found.numbers),
        )


class Story(_State):
    id: str
    severity: Severity
    title: str
    started_at: datetime
    last_at: datetime
    revision: int = 0
    places: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    langs: list[str] = Field(default_factory=list)
    article_ids: list[str] = Field(default_factory=list)
    articles: list[StoryArticle] = Field(default_factory=list)
    # The first report's signature and the latest ones (a story drifts as it develops), and
    # the outlet of each (absent in states written before outlets were kept).
    signatures: list[str] = Field(default_factory=list)
    signature_outlets: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    terms: list[TermHit] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Window(_State):
    """One tumbling escalation window of one place: [start, start + size)."""

    place: str
    start: datetime
    size: float
    stories: list[str] = Field(default_factory=list)
    alerted: bool = False


class RuleState(_State):
    rule_id: str
    clock: datetime | None = None
    stories: list[Story] = Field(default_factory=list)
    windows: dict[str, Window] = Field(default_factory=dict)
    # Derived from the fields above, for speed (not part of the state's JSON): the index of
    # the open stories, and the earliest time at which an escalation window expires.
    _index: StoryIndex | None = PrivateAttr(default=None)
    _windows_until: datetime | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # The fields only: the private attributes are derived from them (pydantic would compare
        # them too, and a state read back from JSON has not built them yet).
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # mutable, as pydantic's own models

    def index(self) -> StoryIndex:
        """The index of the open stories (see :class:`StoryIndex`), built on first use."""
        # The private attributes are read and written through their dict: pydantic reaches
        # them by catching an AttributeError first (1-2 us, a few times per candidate).
        private = self.__pydantic_private__
        index = private["_index"]
        if index is None or not index.tracks(self.stories):
            index = private["_index"] = StoryIndex(self.stories)
        return index


class StoryIndex:
    """Which of a rule's stories hold each word hash (in any of their signatures) and each
    article.

    A candidate is compared with every open story of its rule that its places allow (up to
    ``story_max_open``), and comparing words was most of a candidate's cost. A story that
    shares ``n`` of the candidate's ``k`` hashes, over all its signatures, has a similarity
    of at most ``n / k`` with each of them (exact or estimated, see
    :func:`~rasd.streams.similarity.similarity`), so one count over the index tells which
    stories can reach a threshold at all; only those are compared signature by signature.

    The same holds for the other way to join: a story in another language is linked only by
    a shared site or number, so the stories without the candidate's language are looked up
    by those. Stories change only through :func:`advance`, which tells the index what it
    adds, opens, drops and expires. The postings only grow between rebuilds: they may still
    name stories that are gone and hashes of signatures a story no longer keeps. Counting too
    many only compares a story that could have been skipped, never skips one that could
    match. The index is rebuilt for a list of stories it does not track (a state read from the
    table is a new object; a list changed behind its back has another length), and once it
    names more than twice the open stories or their signatures, so it stays within a few
    times the size of the signatures themselves.
    """

    def __init__(self, stories: list[Story]) -> None:
        # (defaultdicts: a posting is made in C on first use; the lookups use .get)
        self._postings: defaultdict[int, set[str]] = defaultdict(set)
        # story id -> the Story object last indexed under it
        self._stories: dict[str, Story] = {}
        # article id -> the story it was last added to (an article joins one open story)
        self._articles: dict[str, Story] = {}
        # language as written -> ids of the stories with a report in it
        self._langs: defaultdict[str, set[str]] = defaultdict(set)
        # what links reports across languages, a site or a number -> ids of the stories with it
        self._anchors: defaultdict[str, set[str]] = defaultdict(set)
        # story id -> its place in the list (stories are appended to it and removed from it,
        # never moved), so that a few stories are visited in the list's order without a scan
        self._order: dict[str, int] = {}
        # story id -> the fewest and the most hashes of a signature indexed under it (at most
        # and at least those of the signatures it still keeps: see within_reach)
        self._lengths: dict[str, tuple[int, int]] = {}
        # At most the earliest latest report of the stories (a story's only moves forward).
        self.oldest: datetime | None = None
        self._signatures = 0  # indexed since the index was built
        for position, story in enumerate(stories):
            self._order[story.id] = position
            self.add(story, story.signatures, story.article_ids, story.langs)
            self.anchor(story, story.sites, story.numbers)
        self._next_order = len(stories)
        self.track(stories)

    def add(
        self, story: Story, signatures: list[str], article_ids: list[str], langs: list[str]
    ) -> None:
        """Index ``story``'s new signatures, articles and languages (or all of them)."""
        story_id = story.id
        self._stories[story_id] = story
        for lang in langs:
            self._langs[lang].add(story_id)
        if self.oldest is None or story.last_at < self.oldest:
            self.oldest = story.last_at
        for article_id in article_ids:
            self._articles[article_id] = story
        postings = self._postings
        self._signatures += len(signatures)
        lengths = self._lengths
        for signature in signatures:
            words = hashes(signature)
            for h in words:
                postings[h].add(story_id)
            n = len(words)  # a signature's hashes are distinct
            fewest, most = lengths.get(story_id, (n, n))
            lengths[story_id] = (min(fewest, n), max(most, n))

    def track(self, stories: list[Story]) -> None:
        """``stories`` is the list of open stories now (after expiry)."""
        self._list, self._length = stories, len(stories)
        self._open = {s.id for s in stories}

    def opened(self, story: Story, dropped: list[Story]) -> None:
        """``story`` was appended to the tracked list, and ``dropped`` removed from its head."""
        for ids in self._langs.values():
            ids.discard(story.id)  # a story of that id that is gone had its own languages
        self._order[story.id] = self._next_order  # after every story the list holds
        self._next_order += 1
        self.add(story, story.signatures, story.article_ids, story.langs)
        self.anchor(story, story.sites, story.numbers)
        self._open.add(story.id)
        self._open.difference_update(s.id for s in dropped)
        self._length += 1 - len(dropped)

    @property
    def open_ids(self) -> set[str]:
        return self._open

    def in_order(self, ids: set[str] | frozenset[str]) -> list[Story]:
        """The open stories among ``ids``, in the order of the tracked list."""
        found = self._open.intersection(ids)
        if 4 * len(found) > self._length:  # most of them: the list is shorter to go through
            return [story for story in self._list if story.id in found]
        stories = self._stories  # an open story's entry is the list's object (add, opened)
        return [stories[i] for i in sorted(found, key=self._order.__getitem__)]

    def tracks(self, stories: list[Story]) -> bool:
        """Whether ``stories`` is the list this index follows, and what it names is not more
        than twice what they hold (stories gone, signatures a story no longer keeps)."""
        return (
            stories is self._list
            and len(stories) == self._length
            and len(self._stories) <= 2 * len(stories) + 32
            and self._signatures <= 2 * _MAX_SIGNATURES * len(stories) + 64
        )

    def anchor(self, story: Story, sites: list[str], numbers: list[str]) -> None:
        """Index sites and numbers of ``story`` (only ever too many, as the words)."""
        anchors = self._anchors
        for key in chain(sites, (f"#{n}" for n in numbers)):  # "#": a number, not a place id
            anchors[key].add(story.id)

    def anchored(self, sites: list[str], numbers: list[str]) -> set[str]:
        """The ids of the stories that may share one of ``sites`` or ``numbers``."""
        found: set[str] = set()
        for key in chain(sites, (f"#{n}" for n in numbers)):
            found |= self._anchors.get(key, found)
        return found

    def without(self, lang: str) -> set[str]:
        """The ids of the open stories with no report in ``lang`` (as written)."""
        return self._open - self._langs.get(lang, set())

    def holding(self, article_id: str) -> bool:
        """Whether one of the open stories holds ``article_id``."""
        story = self._articles.get(article_id)
        # One open story at most has a given id (it holds that article, which no other joins).
        return (
            story is not None
            and story.id in self._open
            and self._stories.get(story.id) is story
            and article_id in story.article_ids
        )

    def within_reach(self, story_id: str, k: int, shared: int, threshold: float) -> bool:
        """Whether a signature of the story may reach ``threshold`` with a candidate of ``k``
        hashes that shares at most ``shared`` of them with the story.

        The bound is :func:`_word_score`'s, for a signature of ``n`` hashes: exact Jaccard,
        ``i / (k + n - i)`` with ``i <= min(shared, k, n)``, when neither sketch is full. Over
        ``n`` it grows up to ``min(shared, k)`` and falls after it, so the largest over the
        story's signatures is at most its value at that point clamped to the lengths indexed
        for the story. Those lengths span at least the signatures the story keeps, so a story
        out of reach here has no signature ``_word_score`` would score; most compared stories
        are (a rule's own terms make ``shared`` an overestimate), and each costs a loop over its
        signatures otherwise.
        """
        lengths = self._lengths.get(story_id)
        if lengths is None or k >= SKETCH_SIZE or lengths[1] >= SKETCH_SIZE:
            return True
        top = min(shared, k)
        n = min(max(top, lengths[0]), lengths[1])
        most = min(top, n)
        return most / (k + n - most) >= threshold

    def shared(self, words: frozenset[int]) -> tuple[Counter[str], int]:
        """How many of ``words`` each story holds at most: ``counts[story id] + common``.

        A hash held by most stories (a rule's own terms are in nearly every report it matched)
        is not counted story by story but for every story, in ``common``: an upper bound again,
        at a fraction of the cost.
        """
        most = self._length // 2
        held = list(filter(None, map(self._postings.get, words)))  # (a posting is never empty)
        rare = [ids for ids in held if len(ids) <= most]
        return Counter(chain.from_iterable(rare)), len(held) - len(rare)


# A story's languages are a handful of tags, read for every comparison.
_base_lang = cache(base_lang)


@cache
def _kinds() -> dict[str, str]:
    return {p.id: p.kind for p in default_gazetteer().places}


_MAX_SIGNATURES = 4
# Severity.rank, without listing the enum on every call (2 us each, twice a joined report).
_RANK = {severity: severity.rank for severity in Severity}
# Numbers kept per story (the first reports' numbers; later ones rarely add new figures).
_MAX_NUMBERS = 24
# Matched words kept per story: enough to highlight every report, bounded for the changelog.
_MAX_TERMS = 40


@dataclass(frozen=True)
class Limits:
    window: timedelta
    threshold: float
    max_open: int
    max_articles: int
    same_outlet_threshold: float = 0.35
    max_reports: int = 100  # a story this full takes no more reports

    @classmethod
    def from_config(cls, config: StreamsSettings) -> Limits:
        """The limits a worker runs with."""
        return cls(
            window=timedelta(seconds=config.story_window),
            threshold=config.story_similarity,
            max_open=config.story_max_open,
            max_articles=config.story_max_articles,
            same_outlet_threshold=config.story_similarity_same_outlet,
            max_reports=config.story_max_reports,
        )


@dataclass(frozen=True)
class Revision:
    alert: Alert
    revision: int


def advance(
    state: RuleState, candidate: Candidate, rule: RuleLike | None, limits: Limits
) -> tuple[RuleState, list[Revision]]:
    """Apply one candidate to ``state`` (changed in place); return it and the alert revisions."""
    now = candidate.seen_at
    state.clock = max(state.clock, now) if state.clock else now
    index = state.index()
    _expire(state, index, limits)
    article_id = candidate.article.article_id
    if index.holding(article_id):
        return state, []  # a replayed or duplicated record: already part of a story

    story = _best_story(state, candidate, index, limits)
    if story is None:
        story = _new_story(candidate, rule)
        state.stories.append(story)
        dropped = state.stories[: -limits.max_open]
        del state.stories[: -limits.max_open]
        index.opened(story, dropped)
        new_places = list(story.places)
    else:
        new_places = _attach(story, candidate, limits)
        lang = candidate.article.lang
        index.add(story, [candidate.signature], [article_id], [lang] if lang else [])
        index.anchor(story, candidate.sites, candidate.numbers)
    revisions = [Revision(_story_alert(state.rule_id, story, rule), story.revision)]
    if rule is not None and rule.escalate is not None:
        revisions += _escalate(state, story, new_places, rule, rule.escalate)
    return state, revisions


def _expire(state: RuleState, index: StoryIndex, limits: Limits) -> None:
    horizon = state.clock - limits.window
    if index.oldest is None or index.oldest < horizon:
        state.stories = [s for s in state.stories if s.last_at >= horizon]
        index.oldest = min((s.last_at for s in state.stories), default=None)
        index.track(state.stories)
    # Kept for one more window after it closes, so late reports do not reopen it.
    private = state.__pydantic_private__  # see RuleState.index
    until = private["_windows_until"]
    if until is not None and state.clock <= until:
        return  # no window closed two of its sizes ago yet (a busy rule has many)
    earliest = None  # of the windows kept: when the next one goes
    for key, w in list(state.windows.items()):
        w_until = _window_until(w)
        if w_until < state.clock:
            del state.windows[key]
        elif earliest is None or w_until < earliest:
            earliest = w_until
    private["_windows_until"] = earliest


def _window_until(window: Window) -> datetime:
    """The last clock at which ``window`` is kept (``_expire`` drops it after that)."""
    return window.start + timedelta(seconds=2 * window.size)


def _best_story(
    state: RuleState, candidate: Candidate, index: StoryIndex, limits: Limits
) -> Story | None:
    places = set(candidate.match.places)
    sites = _named_sites(candidate.sites)
    words = hashes(candidate.signature)
    shared, common = index.shared(words) if words else ({}, 0)
    # A story sharing fewer of the candidate's word hashes than this reaches no word threshold
    # (StoryIndex): it is not compared word by word.
    lowest = min(limits.threshold, limits.same_outlet_threshold)  # a signature's lower bar
    needed = _least_shared(len(words), lowest)
    if needed is None:
        alike: set[str] | frozenset[str] = frozenset()
    elif needed <= common:
        alike = index.open_ids
    else:
        alike = {story_id for story_id, n in shared.items() if n >= needed - common}
    lang = _base_lang(candidate.article.lang)
    # The stories with no report in the candidate's language as written (ar-IQ is ar, which
    # _anchored_other_language tells) that may share a site or a number with it: a report in
    # another language is linked by one of them (and by nothing else).
    other_lang: set[str] | frozenset[str] = frozenset()
    if lang and (candidate.sites or candidate.numbers):
        other_lang = index.without(candidate.article.lang)
        other_lang &= index.anchored(candidate.sites, candidate.numbers)
    # Neither alike in words nor possibly in another language: skipped.
    compared = alike | other_lang
    seen_at, window, max_reports = candidate.seen_at, limits.window, limits.max_reports
    mine, outlet = sketch(candidate.signature), candidate.article.outlet
    best, best_score = None, 0.0
    anchors = None
    # In the list's order, as a scan of every story would meet them (a tie keeps the first).
    for story in index.in_order(compared):
        if abs(seen_at - story.last_at) > window:
            continue
        if len(story.article_ids) >= max_reports:
            continue
        if places and story.places and places.isdisjoint(story.places):
            continue
        # Two different bases, airports or camps are two events, however alike the words.
        if sites and story.sites:
            other_sites = _named_sites(story.sites)
            if other_sites and sites.isdisjoint(other_sites):
                continue
        score = None
        if story.id in alike:
            most = shared.get(story.id, 0) + common
            if index.within_reach(story.id, len(words), most, lowest):
                score = _word_score(mine, words, outlet, story, limits, most)
        if score is None and story.id in other_lang:
            anchors = anchors or _Anchors(candidate)
            if _anchored_other_language(anchors, lang, story):
                score = limits.threshold
        if score is not None and score > best_score:
            best, best_score = story, score
            if best_score >= 1.0:
                break  # nothing scores higher, and a tie keeps the first story
    return best


@cache
def _least_shared(k: int, threshold: float) -> int | None:
    """The fewest of ``k`` word hashes a story can share and reach ``threshold`` (n / k)."""
    return next((n for n in range(1, k + 1) if n / k >= threshold), None)


def _named_sites(places: list[str]) -> set[str]:
    """The gazetteer sites (kind ``site``: bases, airports, camps) among a list of places."""
    return {p for p in places if _kinds().get(p) == "site"}


def _word_score(
    mine: tuple[list[int], frozenset[int]],
    words: frozenset[int],
    outlet: str,
    story: Story,
    limits: Limits,
    shared: int,
) -> float | None:
    """The best similarity to one of the story's reports that reaches its threshold, if any.

    ``mine`` is the candidate's sketch, ``words`` its hashes and ``outlet`` its outlet: a
    report sharing none of the hashes has similarity 0, below every threshold, and is not
    compared further. ``shared`` is at least the number of them the story holds
    (StoryIndex.shared).
    """
    best = None
    k = len(mine[0])
    for i, other in enumerate(story.signatures):
        theirs = sketch(other)
        same = i < len(story.signature_outlets) and story.signature_outlets[i] == outlet
        needed = limits.same_outlet_threshold if same else limits.threshold
        n = len(theirs[0])
        if k < SKETCH_SIZE and n < SKETCH_SIZE:
            # Exact Jaccard, i / (k + n - i), grows with the i words both hold: at most this.
            most = min(shared, k, n)
            if most / (k + n - most) < needed:
                continue
        if words.isdisjoint(theirs[1]):
            continue
        score = sketch_similarity(mine, theirs)
        if score >= needed and (best is None or score > best):
            best = score
    return best


class _Anchors:
    """What a candidate shares with reports in other languages (see _anchored_other_language)."""

    def __init__(self, candidate: Candidate) -> None:
        self.sites = set(candidate.sites)
        self.below_country = {p for p in candidate.match.places if _kinds().get(p) != "country"}
        self.numbers = set(candidate.numbers)


def _anchored_other_language(anchors: _Anchors, lang: str, story: Story) -> bool:
    """Reports in different languages share no words; gazetteer ids and numbers link them.

    ``lang`` is the candidate's base language (not empty, and not the language of one of the
    story's reports as written: ``_best_story`` checks both first).
    """
    if any(_base_lang(known) == lang for known in story.langs):
        return False  # same language (ar-IQ is ar): the words said it
    if not anchors.sites.isdisjoint(story.sites):
        return True
    return not (
        anchors.below_country.isdisjoint(story.places) or anchors.numbers.isdisjoint(story.numbers)
    )


def _new_story(candidate: Candidate, rule: RuleLike | None) -> Story:
    match, article = candidate.match, candidate.article
    values = {
        "id": article.article_id,
        "severity": match.severity,
        "title": article.title or (rule.title if rule else match.rule_id),
        "started_at": candidate.seen_at,
        "last_at": candidate.seen_at,
        "revision": 0,
        "places": list(match.places),
        "sites": list(candidate.sites),
        "langs": [article.lang] if article.lang else [],
        "article_ids": [article.article_id],
        "articles": [article],
        "signatures": [candidate.signature],
        "signature_outlets": [article.outlet],
        "numbers": candidate.numbers[:_MAX_NUMBERS],
        "terms": list(match.terms),
        "tags": list(match.tags),
    }
    return _built(Story, values, _NEW_STORY)


_NEW_STORY = frozenset(Story.model_fields) - {"revision"}


def _attach(story: Story, candidate: Candidate, limits: Limits) -> list[str]:
    """Add a report to a story; return the places it adds."""
    story.revision += 1
    story.last_at = max(story.last_at, candidate.seen_at)
    story.article_ids.append(candidate.article.article_id)
    # The first report stays (it is the headline); the latest ones follow it.
    latest = [*story.articles[1:], candidate.article][-(limits.max_articles - 1) :]
    story.articles = [story.articles[0], *latest] if limits.max_articles > 1 else story.articles
    # A state written before outlets were kept has none: its outlets stay unknown.
    if len(story.signature_outlets) == len(story.signatures):
        story.signature_outlets.append(candidate.article.outlet)
        del story.signature_outlets[1 : -(_MAX_SIGNATURES - 1)]
    story.signatures = [story.signatures[0], *story.signatures[1:], candidate.signature]
    del story.signatures[1 : -(_MAX_SIGNATURES - 1)]
    fresh_numbers = [n for n in candidate.numbers if n not in story.numbers]
    story.numbers += fresh_numbers[: max(0, _MAX_NUMBERS - len(story.numbers))]
    new_places = [p for p in candidate.match.places if p not in story.places]
    story.places += new_places
    story.sites += [s for s in candidate.sites if s not in story.sites]
    if candidate.article.lang and candidate.article.lang not in story.langs:
        story.langs.append(candidate.article.lang)
    story.tags += [t for t in candidate.match.tags if t not in story.tags]
    # The words this report matched, so that it is highlighted too (a report in another
    # language shares none of the first report's words).
    known = {(t.field, t.text) for t in story.terms}
    fresh = [t for t in candidate.match.terms if (t.field, t.text) not in known]
    story.terms += fresh[: max(0, _MAX_TERMS - len(story.terms))]
    if _RANK[candidate.match.severity] > _RANK[story.severity]:
        story.severity = candidate.match.severity
    return new_places


def _story_alert(rule_id: str, story: Story, rule: RuleLike | None) -> Alert:
    notify, cooldown = (), None
    if rule is not None:
        notify = tuple(rule.notify)
        cooldown = int(rule.cooldown.total_seconds()) if rule.cooldown else None
    values = {
        "key": story_key(rule_id, story.id),
        "kind": "match",
        "severity": story.severity,
        "rule": rule_id,
        "title": story.title,
        "tags": tuple(story.tags),
        "articles": tuple(story.articles),
        "places": tuple(story.places),
        "terms": tuple(story.terms),
        "counts": {"articles": len(story.article_ids)},
        "created_at": story.started_at,
        # What notify needs from the rule: its own receivers and its cooldown.
        "notify": notify,
        "cooldown_seconds": cooldown,
        "stories": (),
    }
    if cooldown is not None and cooldown < 0:
        return Alert(**values)  # refused, as always (a rule's cooldown is never negative)
    return _built(Alert, values, _STORY_ALERT if rule is not None else _STORY_ALERT_NO_RULE)


_STORY_ALERT = frozenset(Alert.model_fields) - {"stories"}
_STORY_ALERT_NO_RULE = _STORY_ALERT - {"notify", "cooldown_seconds"}


def story_key(rule_id: str, story_id: str) -> str:
    """A story alert's key (its idempotency key in the outbox)."""
    return f"story:{rule_id}:{story_id}"


def _escalate(
    state: RuleState, story: Story, places: list[str], rule: RuleLike, policy: Escalation
) -> list[Revision]:
    """Count the story in its places' windows; one alert for the places that reach the threshold.

    Places nest (a story in Kirkuk is also in Iraq), so one story often takes several places
    over the threshold at once: they share one alert rather than page once per level.
    """
    if not places:
        return []  # a report that adds no place counts in no new window
    size = policy.window.total_seconds()
    epoch = story.last_at.timestamp()
    start = datetime.fromtimestamp(epoch - epoch % size, UTC)
    suffix = f"|{start.isoformat()}|{size:g}"
    crossed: list[Window] = []
    private = state.__pydantic_private__  # see RuleState.index
    for place in places:
        key = place + suffix
        window = state.windows.get(key)
        if window is None:
            values = {"place": place, "start": start, "size": size, "stories": [], "alerted": False}
            window = state.windows[key] = _built(Window, values, _NEW_WINDOW)
            if private["_windows_until"] is not None:
                private["_windows_until"] = min(private["_windows_until"], _window_until(window))
        if story.id in window.stories:
            continue
        window.stories.append(story.id)
        if not window.alerted and len(window.stories) >= policy.threshold:
            window.alerted = True
            crossed.append(window)
    if not crossed:
        return []
    names = sorted(w.place for w in crossed)
    counted = {sid for w in crossed for sid in w.stories}
    counted_stories = [s for s in state.stories if s.id in counted]
    count = max(len(w.stories) for w in crossed)
    values = {
        "key": f"escalation:{rule.id}:{'+'.join(names)}:{start.isoformat()}",
        "kind": "escalation",
        "severity": policy.severity,
        "rule": rule.id,
        "title": f"{rule.title}: {count} stories in {', '.join(names)} "
        f"within {format_duration(policy.window)}",
        "tags": tuple(story.tags),
        "articles": tuple(s.articles[0] for s in counted_stories),
        "places": tuple(names),
        "terms": (),
        "counts": {"stories": count, **{w.place: len(w.stories) for w in crossed}},
        "created_at": story.last_at,
        # No cooldown: an escalation fires once per window, and must not be held back by the
        # rule's cooldown of the ordinary alert that came just before it.
        "notify": tuple(rule.notify),
        "cooldown_seconds": None,
        "stories": tuple(story_key(rule.id, s.id) for s in counted_stories),
    }
    return [Revision(_built(Alert, values, _ESCALATION_ALERT), 0)]


_NEW_WINDOW = frozenset({"place", "start", "size"})
_ESCALATION_ALERT = frozenset(Alert.model_fields) - {"terms", "cooldown_seconds"}


_Model = TypeVar("_Model", bound=BaseModel)


def _built(model: type[_Model], values: dict[str, Any], given: frozenset[str]) -> _Model:
    """``model(**{name: values[name] for name in given})``, without validating ``values``
    again: they were built here from validated records and state, and are every field of the
    model, in its order, the fields not ``given`` at their defaults (a fresh list where the
    default is one).

    Validating took 3-4 us a Story or Alert, for objects whose parts are validated already
    (building one this way: 1-2 us; ``model_construct`` fills in defaults and checks
    names in Python, and measured slower than validating). A model with validators,
    serializers, computed fields or private attributes of its own is validated, and so are
    values that are not its fields in order (a field added to the model and not here):
    tests/unit/streams/test_streams_built.py compares both ways field by field.
    """
    if _UNVALIDATED.get(model) == tuple(values):
        return construct(model, values, set(given))
    return model(**{name: values[name] for name in given})


# model -> its field names, in order, for the models built without validating
_UNVALIDATED = {
    model: tuple(model.model_fields) for model in (Story, Window, Alert) if constructible(model)
}
