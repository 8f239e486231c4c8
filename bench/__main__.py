"""Run benchmarks: ``python -m bench`` (all), ``python -m bench p1`` (one), ``--write`` to docs.

``python -m bench orders --count N --out DIR`` writes synthetic order histories instead
(:mod:`bench.orders`).

Each benchmark is a module with ``run() -> str`` returning a markdown section that starts with a
``## `` heading. Add a benchmark by adding its module to :data:`BENCHMARKS`. With ``--write`` the
section replaces the section of the same heading in ``docs/benchmarks.md`` (or is appended).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

#: name -> module with ``run() -> str``.
BENCHMARKS: dict[str, str] = {
    "p1": "bench.p1_rules",
    "p2": "bench.p2_intake",
    "p3": "bench.p3_blocks",
    "p4": "bench.p4_backtest",
    "s1": "bench.s1_storage",
    "p6": "bench.p6_loyalty",
    "p7": "bench.p7_mail_sweep",
    "readers": "bench.readers",
    "p4r": "bench.p4r_replay",
    "r1": "bench.r1_results",
}

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_DOC_HEAD = (
    "# Benchmarks\n\nMeasured with `python -m bench --write`; each section comes from one run.\n"
)


def write_section(section: str, doc: Path = DOC) -> None:
    """Replace the section with the same ``## `` heading in ``doc``, or append it."""
    heading = section.splitlines()[0]
    if not heading.startswith("## "):
        raise ValueError(f"a benchmark section must start with '## ', got {heading!r}")
    text = doc.read_text(encoding="utf-8") if doc.exists() else _DOC_HEAD
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip("\n") == heading), None)
    body = section.rstrip("\n") + "\n"
    if start is None:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + body + ("\n" + tail if tail else "")
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["orders"]:  # the order-history generator, not a benchmark
        from bench.orders import main as orders_main

        return orders_main(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--write", action="store_true", help=f"write the results into {DOC.name}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        try:
            module = importlib.import_module(BENCHMARKS[name])
        except ModuleNotFoundError as exc:
            if args.names or exc.name != BENCHMARKS[name]:
                raise
            print(f"(benchmark {name} is not available: {exc})", file=sys.stderr)
            continue
        section: str = module.run()
        print(section, flush=True)
        if args.write:
            write_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
