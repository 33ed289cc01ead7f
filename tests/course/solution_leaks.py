#!/usr/bin/env python3
"""Looks for the code of exercise solutions outside their regions in a student copy.

    solution_leaks.py SOLUTION_TREE STUDENT_COPY

Every region between `// BEGIN SOLUTION <module> <name>` and `// END SOLUTION` in the solution
tree's tinytorch/ sources is a solution. Its statements (comments and lone braces dropped,
white space folded) are looked for in every source file of the student copy: three of them in
a row, or one long statement, found anywhere there gives the exercise away. Prints each find
as `exercise: file:line: statement` and exits 1 when there is any.
"""
import os
import re
import sys

BEGIN = re.compile(r"^\s*// BEGIN SOLUTION\s+(\S+)\s+(\S+)\s*$")
END = re.compile(r"^\s*// END SOLUTION\s*$")
SOURCES = (".cpp", ".hpp", ".h", ".cc", ".py", ".sh", ".txt", ".md")
RUN = 3      # statements in a row that count as a copy
LONG = 60    # a single statement this long counts on its own


def significant(line):
    line = re.sub(r"//.*", "", line)
    line = " ".join(line.split())
    if not line or re.fullmatch(r"[{}();,\s]*", line) or line in ("else", "} else {", "return;"):
        return ""
    return line


def solutions(tree):
    found = []
    for folder, _, files in os.walk(os.path.join(tree, "tinytorch")):
        for name in sorted(files):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            body, exercise = None, None
            for line in lines:
                m = BEGIN.match(line)
                if m:
                    exercise, body = f"{m.group(1)} {m.group(2)}", []
                elif END.match(line) and body is not None:
                    found.append((exercise, [s for s in map(significant, body) if s]))
                    body = None
                elif body is not None:
                    body.append(line)
    return found


def copy_files(copy):
    for folder, dirs, files in os.walk(copy):
        dirs[:] = [d for d in dirs if d not in (".git", ".tito") and not d.startswith("build")]
        for name in files:
            if name.endswith(SOURCES):
                yield os.path.join(folder, name)


def main():
    tree, copy = sys.argv[1], sys.argv[2]
    runs, longs = {}, {}
    for exercise, statements in solutions(tree):
        for i in range(len(statements) - RUN + 1):
            runs.setdefault(tuple(statements[i:i + RUN]), exercise)
        for s in statements:
            if len(s) >= LONG:
                longs.setdefault(s, exercise)
    leaks = 0
    for path in copy_files(copy):
        with open(path, encoding="utf-8", errors="replace") as f:
            numbered = [(n + 1, significant(l)) for n, l in enumerate(f.read().splitlines())]
        numbered = [(n, s) for n, s in numbered if s]
        rel = os.path.relpath(path, copy)
        for k, (n, s) in enumerate(numbered):
            window = tuple(x for _, x in numbered[k:k + RUN])
            hit = runs.get(window) or longs.get(s)
            if hit:
                leaks += 1
                print(f"{hit}: {rel}:{n}: {s}")
    print(f"{leaks} solution statement(s) found outside their regions")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
