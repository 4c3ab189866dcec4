"""feedparser's own test corpus through ``rasd.connectors.parse``, as a peer's test suite.

    python bench/feedparser_corpus.py [--cache DIR] [--offline] [--details]

feedparser ships about 2,200 test documents in its sdist's ``tests/`` folder (well-formed feeds
of every format, encodings, HTML entities, ill-formed documents, HTTP cases). This fetches the
sdist of the installed feedparser version with pip into a cache outside the repository
(default ``~/.cache/rasd/feedparser-tests``; ``--offline``: only use what is there) and runs every
document through rasd's parse with the ``Content-Type`` its ``Header:`` comment gives, next to
feedparser's own lenient parse of the same bytes. Printed, per class of documents:

- wellformed, entities, http: entry counts equal to feedparser's;
- encoding: every document decodes (no crash, no decode refusal), and the decoded feed title and
  entry titles equal feedparser's where feedparser reads the encoding the same way;
- illformed: recovered (entries as feedparser's), or refused with the reason.

A document is listed with ``--details`` when rasd's result differs from feedparser's. Crashes
(any exception other than ``FeedError``) are bugs and make the exit status 1. The tally and
what a desk loses for each class still refused are kept in ``bench/feedparser_corpus.md``.
The compression cases are not documents (httpx decompresses before parse sees a byte) and are
left out.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser  # noqa: E402

from rasd.connectors.parse import FeedError, parse  # noqa: E402

CLASSES = ("wellformed", "entities", "encoding", "illformed", "http")
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.M)


@dataclass
class Outcome:
    path: str
    cls: str
    reference: int
    entries: int | None
    reason: str | None
    detail: str
    same_text: bool | None


def corpus(cache: Path, offline: bool) -> Path | None:
    """The unpacked ``tests/`` folder of the installed feedparser's sdist, fetched if absent."""
    version = feedparser.__version__
    tests = cache / f"feedparser-{version}" / "tests"
    if tests.is_dir():
        return tests
    if offline:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    fetched = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"feedparser=={version}",
            "-d",
            str(cache),
        ],
        capture_output=True,
        text=True,
    )
    sdist = cache / f"feedparser-{version}.tar.gz"
    if fetched.returncode or not sdist.is_file():
        print(f"pip download failed: {fetched.stderr.strip()[-500:]}", file=sys.stderr)
        return None
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if "/tests/" in m.name]
        archive.extractall(cache, members=members, filter="data")
    return tests if tests.is_dir() else None


def content_type(data: bytes) -> str:
    """The Content-Type header a test document asks its server to send, if any."""
    for name, value in _HEADER.findall(data):
        if name.strip().lower() == b"content-type":
            return value.decode("latin-1").strip()
    return ""


def texts(feed_title: str, entries: list) -> list[str]:
    return [feed_title] + [str(e.get("title", "")) for e in entries]


def run_one(path: Path, cls: str) -> Outcome:
    data = path.read_bytes()
    ctype = content_type(data)
    # The flags rasd's parse passes, so that differences are rasd's own.
    reference = feedparser.parse(
        data,
        response_headers={"content-type": ctype} if ctype else None,
        sanitize_html=True,
        resolve_relative_uris=False,
    )
    ref_entries = len(reference.entries)
    ref_texts = texts(str(reference.feed.get("title", "")), reference.entries)
    try:
        parsed = parse(data, ctype)
    except FeedError as exc:
        return Outcome(str(path), cls, ref_entries, None, exc.reason, exc.detail, None)
    except Exception as exc:  # noqa: BLE001 - a crash is what this suite exists to find
        return Outcome(
            str(path), cls, ref_entries, None, "CRASH", f"{type(exc).__name__}: {exc}", None
        )
    same = texts(parsed.title, parsed.entries) == ref_texts
    warnings = ", ".join(f"{k}={v}" for k, v in sorted(parsed.warnings.items()))
    return Outcome(
        str(path),
        cls,
        ref_entries,
        len(parsed.entries),
        None,
        f"{parsed.encoding} {warnings}".strip(),
        same,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/rasd/feedparser-tests")
    parser.add_argument("--offline", action="store_true", help="never fetch the corpus")
    parser.add_argument("--details", action="store_true", help="list every difference")
    args = parser.parse_args()
    tests = corpus(args.cache, args.offline)
    if tests is None:
        print(
            f"feedparser {feedparser.__version__} test corpus absent from {args.cache} "
            "(run without --offline, with PyPI reachable, to fetch it): nothing measured"
        )
        return 0
    started = time.perf_counter()
    outcomes = [
        run_one(path, cls) for cls in CLASSES for path in sorted((tests / cls).rglob("*.xml"))
    ]
    elapsed = time.perf_counter() - started
    by_class: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_class[outcome.cls].append(outcome)

    print(
        f"feedparser {feedparser.__version__} corpus: {len(outcomes)} documents from {tests}, "
        f"{elapsed:.1f}s\n"
    )
    print(
        "| class | documents | same entry count | other count | refused | crashed | "
        "titles as feedparser's |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cls in CLASSES:
        rows = by_class[cls]
        parsed = [o for o in rows if o.entries is not None]
        same = sum(o.entries == o.reference for o in parsed)
        refused = [o for o in rows if o.reason and o.reason != "CRASH"]
        crashed = [o for o in rows if o.reason == "CRASH"]
        same_text = sum(bool(o.same_text) for o in parsed)
        print(
            f"| {cls} | {len(rows)} | {same} | {len(parsed) - same} | {len(refused)} | "
            f"{len(crashed)} | {same_text} of {len(parsed)} |"
        )
    reasons = Counter((o.cls, o.reason) for o in outcomes if o.reason)
    if reasons:
        print("\nrefused, by class and reason:")
        for (cls, reason), n in sorted(reasons.items()):
            print(f"  {cls:<11} {reason:<24} {n}")
    warned = Counter(
        (o.cls, w.split("=")[0])
        for o in outcomes
        if o.entries is not None
        for w in o.detail.split(" ", 1)[-1].split(", ")
        if "=" in w
    )
    if warned:
        print("\nparsed with document warnings, by class and warning:")
        for (cls, warning), n in sorted(warned.items()):
            print(f"  {cls:<11} {warning:<24} {n}")
    if args.details:
        print("\ndifferences from feedparser (entries: rasd / feedparser):")
        for o in outcomes:
            differs = o.reason or o.entries != o.reference or o.same_text is False
            if differs:
                got = o.reason or o.entries
                text = {True: "same", False: "differs", None: "-"}[o.same_text]
                print(
                    f"  {Path(o.path).relative_to(tests)}: {got} / {o.reference} "
                    f"text={text} {o.detail[:160]}"
                )
    return 1 if any(o.reason == "CRASH" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
