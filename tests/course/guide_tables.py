#!/usr/bin/env python3
"""Checks each module guide's exercise table against the sources: every exercise marker of
module NN has one row in docs/modules/NN_*.md, every row names an exercise that exists, and
the row's file (the "(core/tensor_ops.cpp)" after the function) is the file that holds the
marker. With --fix, rewrites wrong file names in place.

    guide_tables.py SOURCE_TREE [--fix]
"""
import pathlib
import re
import sys

MARKER = re.compile(r"//\s*BEGIN SOLUTION (\d\d_[a-z]+) ([a-z0-9_]+)")
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (`[^`]+`) \(([^)]+)\) \|")


def markers(root):
    found = {}
    for path in sorted((root / "tinytorch").rglob("*.[ch]pp")):
        for m in MARKER.finditer(path.read_text()):
            found[(m.group(1), m.group(2))] = path.relative_to(root / "tinytorch").as_posix()
    return found


def main():
    root = pathlib.Path(sys.argv[1])
    fix = "--fix" in sys.argv[2:]
    where = markers(root)
    problems = []
    seen = set()
    for guide in sorted((root / "docs" / "modules").glob("0[1-9]_*.md")):
        module = guide.stem
        lines = guide.read_text().split("\n")
        changed = False
        for i, line in enumerate(lines):
            m = ROW.match(line)
            if not m:
                continue
            exercise, function, file = m.groups()
            key = (module, exercise)
            if key not in where:
                problems.append(f"{guide.name}: row '{exercise}' names no exercise of {module}")
                continue
            seen.add(key)
            if file != where[key]:
                if fix:
                    lines[i] = line.replace(f"{function} ({file})", f"{function} ({where[key]})", 1)
                    changed = True
                else:
                    problems.append(f"{guide.name}: '{exercise}' is in {where[key]}, the table says {file}")
        if changed:
            guide.write_text("\n".join(lines))
    for module, exercise in sorted(set(where) - seen):
        problems.append(f"docs/modules/{module}.md has no row for exercise '{exercise}' ({where[(module, exercise)]})")
    for p in problems:
        print(p)
    print(f"{len(where)} exercises, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
