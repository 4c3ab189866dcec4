"""How often rasd reads real Arabic feed text right in every encoding and declaration.

    python bench/decode_arabic.py [--eval-dir ../shared/eval] [--items 1 3 10] [--docs 300]

Reads the Arabic RSS items of the shared evaluation set (``ar/ant_multisource_rss_2018_sample
.jsonl``: titles and descriptions from five outlets; absent -> says so and measures nothing),
builds RSS documents of N items from them, encodes each document the ways feeds get it wrong
(undeclared windows-1256 or ISO-8859-6, UTF-8 declared windows-1256, one encoding declared as
the other, UTF-8 with one invalid byte, UTF-16) and counts the documents whose every title
and description came out of ``rasd.connectors.parse`` (HTML-stripped, as articles get them)
exactly as written, and whose health
warning is the expected one. Items that ISO-8859-6 cannot write (Persian letters, typographic
quotes) are left out of every case, so all cases read the same texts. Printed per case and
document size: exact documents, the encodings rasd chose, and seconds per 1,000 documents.
Without and with ``<language>ar</language>`` (the hint rasd uses to narrow the detector).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rasd.connectors.articles import strip_html  # noqa: E402
from rasd.connectors.parse import FeedError, parse  # noqa: E402

SAMPLE = "ar/ant_multisource_rss_2018_sample.jsonl"


def items(eval_dir: Path) -> list[tuple[str, str]] | None:
    path = eval_dir / SAMPLE
    if not path.is_file():
        return None
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        title = " ".join(record.get("title", "").split())
        description = " ".join(strip_html(record.get("description", "")).split())[:400].strip()
        text = title + description
        if title and description and _writable(text, "iso-8859-6") and _writable(text, "cp1256"):
            found.append((title, description))
    return found


def _writable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def document(entries: list[tuple[str, str]], declared: str | None, language: bool) -> str:
    head = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    lang = "<language>ar</language>" if language else ""
    body = "".join(
        f"<item><title>{escape(t, quote=False)}</title><link>https://x.example/{i}</link>"
        f"<description>{escape(d, quote=False)}</description></item>\n"
        for i, (t, d) in enumerate(entries)
    )
    return f'{head}<rss version="2.0"><channel><title>t</title>{lang}\n{body}</channel></rss>\n'


# (case, XML declaration, bytes from the document text, expected warnings)
CASES = [
    ("windows-1256, undeclared", None, lambda t: t.encode("cp1256"), {"encoding-guessed"}),
    ("iso-8859-6, undeclared", None, lambda t: t.encode("iso-8859-6"), {"encoding-guessed"}),
    ("utf-8 declared windows-1256", "windows-1256", lambda t: t.encode(), {"encoding-mismatch"}),
    ("iso-8859-6 declared windows-1256", "windows-1256", lambda t: t.encode("iso-8859-6"),
     {"encoding-mismatch"}),
    ("windows-1256 declared iso-8859-6", "iso-8859-6", lambda t: t.encode("cp1256"),
     {"encoding-mismatch"}),
    ("windows-1256, declared", "windows-1256", lambda t: t.encode("cp1256"), set()),
    ("iso-8859-6, declared", "iso-8859-6", lambda t: t.encode("iso-8859-6"), set()),
    ("utf-16 with BOM", "utf-16", lambda t: t.encode("utf-16"), set()),
]  # fmt: skip


def one_bad_byte(text: str, last: str) -> bytes:
    """UTF-8 with the last byte of the last description's last Arabic letter dropped (a cut
    character), and ``last`` (that description) as it should then read."""
    data = text.encode()
    at = data.rindex(b"</description>")
    letter = max(i for i, c in enumerate(last) if ord(c) > 0x7F)
    end = at - len(escape(last[letter + 1 :], quote=False).encode())
    return data[: end - 1] + data[end:]


def with_replacement(description: str) -> str:
    letter = max(i for i, c in enumerate(description) if ord(c) > 0x7F)
    return description[:letter] + "\ufffd" + description[letter + 1 :]


def run(entries, per_doc: int, docs: int, language: bool, rng: random.Random) -> list[str]:
    rows = []
    cases = [*CASES, ("utf-8 with one bad byte", "utf-8", None, {"replaced-bytes"})]
    for name, declared, encode, expected in cases:
        exact = 0
        chosen: Counter[str] = Counter()
        started = time.perf_counter()
        for _ in range(docs):
            sample = rng.sample(entries, per_doc)
            text = document(sample, declared, language)
            if encode is None:
                data = one_bad_byte(text, sample[-1][1])
                sample = [*sample[:-1], (sample[-1][0], with_replacement(sample[-1][1]))]
            else:
                data = encode(text)
            try:
                parsed = parse(data)
            except FeedError as exc:
                chosen[exc.reason] += 1
                continue
            chosen[parsed.encoding] += 1
            # As the articles will read: feedparser's summary is HTML (S&amp;P).
            got = [
                (strip_html(e.get("title", "")), strip_html(e.get("summary", "")))
                for e in parsed.entries
            ]
            exact += got == sample and set(parsed.warnings) == expected
        seconds = (time.perf_counter() - started) / docs * 1000
        encodings = ", ".join(f"{k} {v}" for k, v in chosen.most_common(3))
        rows.append(f"| {name} | {per_doc} | {exact} of {docs} | {encodings} | {seconds:.1f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_eval = Path(__file__).resolve().parents[2] / "shared" / "eval"
    parser.add_argument("--eval-dir", type=Path, default=default_eval)
    parser.add_argument("--items", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    entries = items(args.eval_dir)
    if entries is None:
        print(
            f"{args.eval_dir / SAMPLE} is absent: nothing measured (the shared eval set is needed)"
        )
        return 0
    print(f"{len(entries)} Arabic items from {args.eval_dir / SAMPLE}, seed {args.seed}\n")
    for language in (False, True):
        rng = random.Random(args.seed)
        print(f"### {'with' if language else 'without'} <language>ar</language>\n")
        print("| case | items per document | exact, expected warning | encodings chosen | "
              "s per 1,000 docs |")  # fmt: skip
        print("|---|---:|---:|---|---:|")
        for per_doc in args.items:
            for row in run(entries, per_doc, args.docs, language, rng):
                print(row)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
