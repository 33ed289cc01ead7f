#!/usr/bin/env python3
"""Writes a student's answer into an exercise region of a student copy (for the course tests).

    answer.py COPY MODULE NAME --from SOLUTION_TREE   the solution's body, as a student who
                                                      got it right would write it
    answer.py COPY MODULE NAME --body 'CODE'          any other body (a compile error, a loop)

The region is found by its markers in the copy's tinytorch/ sources.
"""
import argparse
import os
import re
import sys


def find_region(tree, module, name, kind):
    begin = re.compile(rf"^\s*// BEGIN {kind}\s+{re.escape(module)}\s+{re.escape(name)}\s*$")
    end = re.compile(rf"^\s*// END {kind}\s*$")
    for folder, _, files in os.walk(os.path.join(tree, "tinytorch")):
        for file in files:
            path = os.path.join(folder, file)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            for i, line in enumerate(lines):
                if begin.match(line):
                    j = next(k for k in range(i + 1, len(lines)) if end.match(lines[k]))
                    return path, lines, i, j
    sys.exit(f"answer.py: no {kind} region {module} {name} under {tree}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("copy")
    parser.add_argument("module")
    parser.add_argument("name")
    parser.add_argument("--from", dest="source")
    parser.add_argument("--body")
    args = parser.parse_args()
    if args.source:
        _, lines, i, j = find_region(args.source, args.module, args.name, "SOLUTION")
        body = lines[i + 1:j]
    else:
        body = args.body.split("\n")
    path, lines, i, j = find_region(args.copy, args.module, args.name, "EXERCISE")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:i + 1] + body + lines[j:]))


if __name__ == "__main__":
    main()
