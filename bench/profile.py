"""Sum up py-spy's collapsed stacks (`py-spy record --format raw`): the functions the service
spends its samples in, by own time and by time below them (inclusive), top N each.

    .venv/bin/python -m bench.profile /tmp/calls.txt --top 40 [--match hotline]
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def frames(stack: str) -> list[str]:
    out = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw.strip())
        if m is None:
            out.append(raw.strip())
            continue
        path = m["file"]
        short = path.split("site-packages/")[-1].split("src/")[-1]
        out.append(f"{m['func']} ({short})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames whose text contains this")
    args = parser.parse_args()
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in Path(args.path).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = frames(stack)
        if names:
            own[names[-1]] += count
        for name in set(names):
            if args.match in name:
                inclusive[name] += count
    print(f"{total} samples")
    print("\nown time")
    for name, n in own.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {name}")
    print("\ninclusive")
    for name, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:6.1f}%  {name}")


if __name__ == "__main__":
    main()
