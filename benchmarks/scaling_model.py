#!/usr/bin/env python3
"""The alpha-beta model of a ring allreduce, fitted to this machine and projected to clusters.

    scaling_model.py SWEEP_FILE [SWEEP_FILE ...] --step-ms T --backward-share B --bytes N

SWEEP_FILE: the output of `mpirun -np W distributed_bench allreduce` (a "# ... over W processes"
line, then "bytes repeats median_us" rows). For each file the fit is

    t(n) = 2 (W - 1) alpha + 2 (W - 1) / W * n * beta

by least squares over all sizes. Then the step time of a model with N gradient bytes and a
one-process step of T ms (backward a share B of it) is projected for 8, 64 and 512 processes
on 10 and 100 Gb/s networks, for N, 10 N and 100 N (with 10 T and 100 T of compute: the work
grows with the parameters), with the allreduce either after backward or overlapped with it
(at most the backward's time hidden). Prints Markdown.
"""
import argparse
import re


def read_sweep(path):
    world, rows = None, []
    for line in open(path):
        m = re.search(r"over (\d+) processes", line)
        if m:
            world = int(m.group(1))
            continue
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            rows.append((int(parts[0]), float(parts[2]) * 1e-6))
    return world, rows


def fit(world, rows):
    # t = a * x1 + b * x2 with x1 = 2 (W - 1), x2 = 2 (W - 1) / W * n: least squares, weighted
    # by 1/t so small messages count as much as large ones.
    s11 = s12 = s22 = s1t = s2t = 0.0
    for n, t in rows:
        w = 1.0 / t
        x1, x2 = 2 * (world - 1), 2 * (world - 1) / world * n
        s11 += w * w * x1 * x1
        s12 += w * w * x1 * x2
        s22 += w * w * x2 * x2
        s1t += w * w * x1 * t
        s2t += w * w * x2 * t
    det = s11 * s22 - s12 * s12
    alpha = (s1t * s22 - s2t * s12) / det
    beta = (s11 * s2t - s12 * s1t) / det
    return alpha, beta


def ring(n, world, alpha, beta):
    return 2 * (world - 1) * alpha + 2 * (world - 1) / world * n * beta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sweeps", nargs="+")
    ap.add_argument("--step-ms", type=float, required=True)
    ap.add_argument("--backward-share", type=float, required=True)
    ap.add_argument("--bytes", type=float, required=True)
    o = ap.parse_args()

    print("| transport | processes | α (latency) | β (per byte) | 1/β |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path in o.sweeps:
        world, rows = read_sweep(path)
        alpha, beta = fit(world, rows)
        name = "shared memory" if "shm" in path or "vader" in path else "TCP over loopback"
        print(f"| {name} | {world} | {alpha * 1e6:.2f} µs | {beta * 1e12:.1f} ps | "
              f"{1 / beta / 1e9:.1f} GB/s |")
    print()
    networks = [("10 Gb/s", 20e-6, 8 / 10e9), ("100 Gb/s", 3e-6, 8 / 100e9)]
    print("Projected step time (ms) and efficiency (one process's step time / the step time) "
          f"for a step of {o.step_ms:.2f} ms per process (backward {100 * o.backward_share:.0f} %)"
          ", ring allreduce after backward | overlapped with backward:")
    print()
    print("| model | gradient bytes | network | 8 processes | 64 processes | 512 processes |")
    print("| --- | ---: | --- | --- | --- | --- |")
    for scale, label in [(1, "LeNet-5"), (10, "10× LeNet-5"), (100, "100× LeNet-5")]:
        n, step = o.bytes * scale, o.step_ms * 1e-3 * scale
        backward = step * o.backward_share
        for net, alpha, beta in networks:
            cells = []
            for world in (8, 64, 512):
                comm = ring(n, world, alpha, beta)
                after, overlapped = step + comm, step + max(0.0, comm - backward)
                cells.append(f"{1e3 * after:.2f} ({100 * step / after:.0f} %) | "
                             f"{1e3 * overlapped:.2f} ({100 * step / overlapped:.0f} %)")
            print(f"| {label} | {n / 1e6:.2f} MB | {net} | " + " | ".join(
                c.replace(" | ", " · ") for c in cells) + " |")


if __name__ == "__main__":
    main()
