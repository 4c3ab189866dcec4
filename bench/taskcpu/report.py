"""The worker's CPU by task over the bench's backlog, from sitecustomize.py's snapshots.

    python bench/taskcpu/report.py /tmp/tasks [--articles 5000] [--top 25]

The span runs from the first snapshot with articles counted (the end of the first batch) to
the last one before the count passes ``--articles`` (the backlog's end); figures are
microseconds of CPU an article of the span, and the stories agent's batches in it.
"""

import argparse
import glob
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefix")
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    rows = []
    for path in glob.glob(f"{args.prefix}.*[0-9]"):  # not the .prof of a profiled run
        with open(path) as lines:
            rows += [json.loads(line) for line in lines]
    rows.sort(key=lambda row: row["t"])
    start = next(row for row in rows if row["articles"] > 0)
    end = [row for row in rows if row["articles"] <= args.articles][-1]
    n = end["articles"] - start["articles"]
    cpu = {key: end["cpu"][key] - start["cpu"].get(key, 0.0) for key in end["cpu"]}
    print(f"span: articles {start['articles']:.0f} -> {end['articles']:.0f}")
    # Parts (RASD_BENCH_TASK_PARTS) are within the stories agent's task, not beside it.
    parts = {key[5:]: cpu.pop(key) for key in list(cpu) if key.startswith("part ")}
    print(f"all callbacks: {sum(cpu.values()) * 1e6 / n:.1f} us an article")
    for key, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{seconds * 1e6 / n:8.1f}  {key}")
    if parts:
        print("the stories agent's task by part (nested where the calls are):")
        for key, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
            print(f"{seconds * 1e6 / n:8.1f}  {key}")
    sizes = end["batches"][len(start["batches"]) :]
    # Records: one candidate each before issue 15's ninth round, a rule's of a stage batch since.
    print(f"stories batches: {len(sizes)}, records {sum(sizes)}, sizes {sizes}")


if __name__ == "__main__":
    main()
