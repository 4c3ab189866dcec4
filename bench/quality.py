"""Rule quality on labelled real news, per set, tag and language, with `rasd rules eval`.

    python bench/quality.py [--eval-dir ../shared/eval] [--cache-dir DIR] [--rules rules]
                            [--findings N] [--set NAME ...]

The texts come from ../shared/eval and from a local cache (``--cache-dir``, or the
``RASD_EVAL_CACHE`` variable, default ~/.cache/rasd/eval; filled by ``bench/rsslinks.py build``):
third-party data that is never copied into the repository. The labels come from ../shared/eval
(the Arabic ANT sample) and from bench/labels/ (ours: ids, labels and notes only, see
bench/labels/README.md). A set whose texts are absent is reported as absent. ``--set`` keeps the
sets whose name contains one of the given words (``--set dev`` leaves the held-out sets unseen
while rules are being changed). Each set
is scored by running `rasd rules eval --json`, so the figures are exactly what a user gets.
The targets are issue 10's: attack P >= 0.85 and R >= 0.90, withdrawal P >= 0.80 and R >= 0.85,
on each development set and language.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "bench" / "labels"
sys.path.insert(0, str(ROOT / "bench"))

from rsslinks import default_cache_dir  # noqa: E402

TARGETS = {"attack": (0.85, 0.90), "withdrawal": (0.80, 0.85)}


class Set:
    """A labelled set: where its texts and labels are, and whether it is a development set.

    ``texts`` is relative to the shared eval directory, or to the cache directory when
    ``cached`` (texts rebuilt by bench/rsslinks.py).
    """

    def __init__(
        self, name: str, texts: str, labels: Path | str, development: bool, cached: bool = False
    ) -> None:
        self.name, self.texts, self.labels, self.development = name, texts, labels, development
        self.cached = cached


SETS = (
    Set(
        "ANT Arabic RSS 2018 (dev)",
        "ar/ant_multisource_rss_2018_sample.jsonl",
        "labels/ant_multisource_rss_2018_sample.labels.jsonl",
        True,
    ),
    Set(
        "Arab News RSS 2023Q4 (dev)",
        "en/arabnews_rss_2023Q4.jsonl",
        LABELS / "arabnews_rss_2023Q4.labels.jsonl",
        True,
    ),
    Set(
        "Al Jazeera America RSS 2016-02-26 (held out)",
        "rss/aljazeera_america_articles_rss_2016-02-26.xml",
        LABELS / "aljazeera_america_articles_rss_2016-02-26.labels.jsonl",
        False,
    ),
    Set(
        "Jerusalem Post RSS 2023-02-25 (held out)",
        "rss/jpost_homepage_rss_2023-02-25.xml",
        LABELS / "jpost_homepage_rss_2023-02-25.labels.jsonl",
        False,
    ),
    Set(
        "RSS-Links EN 2021-22 Afghanistan+Ukraine (dev)",
        "en_rsslinks/en_rsslinks_dev.jsonl",
        LABELS / "en_rsslinks_dev.labels.jsonl",
        True,
        cached=True,
    ),
    Set(
        "RSS-Links EN 2022-24 Sahel+Gaza (held out)",
        "en_rsslinks/en_rsslinks_heldout.jsonl",
        LABELS / "en_rsslinks_heldout.labels.jsonl",
        False,
        cached=True,
    ),
    Set(
        "RSS-Links EN 2022-24 Kharkiv+Lyman+Shifa (blind)",
        "en_rsslinks/en_rsslinks_blind.jsonl",
        LABELS / "en_rsslinks_blind.labels.jsonl",
        False,
        cached=True,
    ),
)


def _run_eval(rasd: list[str], texts: Path, labels: Path, rules: Path) -> dict | str:
    command = [*rasd, "rules", "eval", "--input", str(texts), "--labels", str(labels)]
    command += ["--rules", str(rules), "--json", "--tag", "attack", "--tag", "withdrawal"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return done.stderr.strip() or f"exit {done.returncode}"
    return json.loads(done.stdout)


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    parser.add_argument("--set", action="append", default=[], help="only sets whose name has this")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--findings", type=int, default=0, help="misses/false alarms to list")
    args = parser.parse_args()
    rasd = [str(Path(sys.executable).with_name("rasd"))]
    print(f"# rule quality of {args.rules} on labelled real news (`rasd rules eval`)")
    if not args.eval_dir.is_dir():
        print(f"eval texts not present at {args.eval_dir}; only the cached sets are measured")
    below: list[str] = []
    measured = 0
    print(
        f"\n{'set':<48} {'tag':<11} {'lang':<4} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'hit':>4} {'miss':>4} {'false':>5} {'side':>4}  target"
    )
    for s in SETS:
        if args.set and not any(word.casefold() in s.name.casefold() for word in args.set):
            continue
        texts = (args.cache_dir if s.cached else args.eval_dir) / s.texts
        labels = s.labels if isinstance(s.labels, Path) else args.eval_dir / s.labels
        if not texts.is_file():
            print(f"{s.name:<48} texts not present ({texts})")
            continue
        if not labels.is_file():
            print(f"{s.name:<48} labels not present ({labels})")
            continue
        report = _run_eval(rasd, texts, labels, args.rules)
        measured += 1
        if isinstance(report, str):
            print(f"{s.name:<48} eval failed: {report}")
            below.append(s.name)
            continue
        for row in report["scores"]:
            if row["lang"] == "all" and len({r["lang"] for r in report["scores"]}) == 2:
                continue  # one language: the "all" row repeats it
            target = TARGETS.get(row["tag"])
            verdict = ""
            if target and row["lang"] != "all" and row["recall"] is None:
                verdict = f"no labelled {row['tag']}: only false alarms are measured"
            elif target and row["lang"] != "all":
                p, r = row["precision"], row["recall"]
                met = p is not None and r is not None and p >= target[0] and r >= target[1]
                verdict = f"P>={target[0]} R>={target[1]} " + ("met" if met else "BELOW")
                if not met and s.development:
                    below.append(f"{s.name} {row['tag']}/{row['lang']}")
            print(
                f"{s.name:<48} {row['tag']:<11} {row['lang']:<4} {_fmt(row['precision'])} "
                f"{_fmt(row['recall'])} {_fmt(row['f1'])} {row['hits']:>4} "
                f"{row['misses']:>4} {row['false_alarms']:>5} {row['side_mentions']:>4}  "
                f"{verdict}"
            )
        if args.findings:
            for kind in ("misses", "false_alarms"):
                for f in report[kind][: args.findings]:
                    near = "; ".join(
                        f"{n['rule']}: {', '.join(n['found'])}"
                        + (f" vetoed by {', '.join(n['vetoed_by'])}" if n["vetoed_by"] else "")
                        for n in f["near"]
                    )
                    print(
                        f"    {kind[:-2] if kind == 'misses' else 'false alarm'} "
                        f"[{f['tag']}] {f['id']}: {' '.join(f['title'].split())[:110]}"
                        + (f"  fired: {','.join(f['fired'])}" if f["fired"] else "")
                        + (f"  nearly: {near}" if near else "")
                    )
    print()
    if not measured:
        print("no set measured: every text is absent")
    elif below:
        print("below target on a development set: " + "; ".join(below))
    else:
        print("every development set at or above target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
