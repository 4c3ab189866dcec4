"""Rebuild the English RSS-Link-Database evaluation texts from a local copy of the source repos.

    python bench/rsslinks.py build --repos DIR [--cache-dir ~/.cache/rasd/eval]
    python bench/rsslinks.py check [--cache-dir ...]     # do the cached texts match the labels?

The texts of the sets labelled in bench/labels/en_rsslinks_*.labels.jsonl are every item of a few
feed-days of the public repositories rumca-js/RSS-Link-Database-2021 ... -2024 (GPL-3.0, third
party). They are never committed: bench/labels/en_rsslinks.manifest.json lists, per set, the
repository, commit and path of each daily feed file, and ``build`` turns a local copy of those
files (``DIR/<owner>/<repo>/<path>``, e.g. a ``git clone`` of each repository checked out at the
listed commit) into ``<cache-dir>/en_rsslinks/<set>.jsonl`` in the shape of the other English
sets (lang, outlet, feed_url, title, description, link, published, provenance). Items keep the
order of their file; the link loses its query string (BBC's ``?at_medium=RSS...``, Al Jazeera's
``?traffic_source=rss``: the same article), which makes it the item id, and ``published`` is the
feed-day of the file. An item whose link was already seen in the set is skipped. ``build`` and
``check`` compare the ids with the labels, so a copy that differs from the one labelled is
reported instead of silently scored. ``bench/quality.py`` reads the cache (``RASD_EVAL_CACHE``
overrides its place) and says when it is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels"
MANIFEST = LABELS / "en_rsslinks.manifest.json"


def default_cache_dir() -> Path:
    """Where evaluation texts that must stay out of the repository are kept."""
    configured = os.environ.get("RASD_EVAL_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache/rasd/eval"


def item_id(link: str) -> str:
    """The article's link without query string or fragment: its id in the labels."""
    parts = urlsplit(link.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _entries(document: object) -> list[dict]:
    # The repositories wrote a bare list in some years and {"entries": [...]} in others.
    if isinstance(document, dict):
        document = document.get("entries", [])
    return (
        [entry for entry in document if isinstance(entry, dict)]
        if isinstance(document, list)
        else []
    )


def _feed_day(path: str) -> str:
    # Paths are YYYY/MM/YYYY-MM-DD/<feed>_entries.json.
    return f"{path.split('/')[2]}T00:00:00+00:00"


def build_items(manifest_set: dict, repos: Path) -> Iterator[dict]:
    """The items of one set, in manifest and file order, from the copy under ``repos``."""
    seen: set[str] = set()
    for source in manifest_set["files"]:
        path = repos / source["repo"] / source["path"]
        for entry in _entries(json.loads(path.read_text(encoding="utf-8"))):
            link = item_id(str(entry.get("link") or ""))
            if not link or link in seen:
                continue
            seen.add(link)
            yield {
                "lang": "en",
                "outlet": source["outlet"],
                "feed_url": source["feed_url"],
                "title": str(entry.get("title") or ""),
                "description": str(entry.get("description") or ""),
                "link": link,
                "published": _feed_day(source["path"]),
                "provenance": {k: source[k] for k in ("repo", "commit", "path")},
            }


def label_ids(set_name: str) -> list[str] | None:
    path = LABELS / f"{set_name}.labels.jsonl"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["id"] for line in lines if line.strip()]


def compare(set_name: str, ids: list[str]) -> str | None:
    """None when the texts are the ones labelled, else what differs."""
    expected = label_ids(set_name)
    if expected is None:
        return f"{set_name}: no labels in {LABELS}"
    if ids == expected:
        return None
    missing = sorted(set(expected) - set(ids))
    extra = sorted(set(ids) - set(expected))
    return (
        f"{set_name}: {len(ids)} items, {len(expected)} labelled; "
        f"{len(missing)} labelled ids missing (e.g. {missing[:2]}), {len(extra)} unlabelled"
        + ("" if missing or extra else "; same ids in another order")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the cache from a local copy of the repositories")
    build.add_argument("--repos", type=Path, required=True, help="DIR holding <owner>/<repo>/")
    for command in (build, sub.add_parser("check", help="compare the cache with the labels")):
        command.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    out_dir = args.cache_dir / "en_rsslinks"
    problems: list[str] = []
    for set_name, manifest_set in manifest["sets"].items():
        target = out_dir / f"{set_name}.jsonl"
        if args.command == "build":
            items = list(build_items(manifest_set, args.repos))
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(
                "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items),
                encoding="utf-8",
            )
            ids = [item["link"] for item in items]
        elif target.is_file():
            lines = target.read_text(encoding="utf-8").splitlines()
            ids = [json.loads(line)["link"] for line in lines if line.strip()]
        else:
            problems.append(f"{set_name}: texts absent ({target})")
            continue
        problem = compare(set_name, ids)
        print(
            f"{set_name}: {len(ids)} items -> {target}"
            + (f"  MISMATCH: {problem}" if problem else "")
        )
        if problem:
            problems.append(problem)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
