#!/usr/bin/python3
"""bench/cmaes_ref.py - the figures of bench/cmaes.c measured on a second,
independent CMA-ES: Debian's python3-cmaes (CyberAgent's `cmaes` package,
classes CMA and SepCMA). A cross-check only, not a dependency of bbtbench:

    apt-get install python3-cmaes && /usr/bin/python3 bench/cmaes_ref.py [--quick]

The test functions, shift and rotation are those of t/testfun.h, computed
the same way (splitmix64 + Box-Muller + Gram-Schmidt), so both programs
optimise the same problems from x0 = 0 with sigma0 = 1 and default popsize.
The timing is python3-cmaes's own ask+tell time per generation (lambda = 20,
random losses), with NumPy's BLAS pinned to one thread like bench/cmaes.
"""
import os
import sys

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from cmaes import CMA, SepCMA  # noqa: E402

M64 = (1 << 64) - 1


def splitmix(state):
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & M64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rotation(n, seed):
    s = [seed]
    R = np.empty((n, n))
    for i in range(n * n):
        u1 = ((splitmix(s) >> 11) + 1) * 2.0 ** -53
        u2 = (splitmix(s) >> 11) * 2.0 ** -53
        R.flat[i] = math.sqrt(-2 * math.log(u1)) * math.cos(6.283185307179586 * u2)
    for i in range(n):
        for k in range(i):
            R[i] -= (R[i] @ R[k]) * R[k]
        R[i] /= np.linalg.norm(R[i])
    return R


def problem(kind, n):
    s = np.sin(2.1 * np.arange(n) + 0.7)
    c = 10.0 ** (6.0 * np.arange(n) / (n - 1))
    if kind == "sphere":
        return lambda x: float(np.sum((x - s) ** 2))
    if kind == "ellipsoid":
        return lambda x: float(np.sum(c * (x - s) ** 2))
    if kind == "rotated-ellipsoid":
        R = rotation(n, 12345 + n)
        return lambda x: float(np.sum(c * (R @ (x - s)) ** 2))
    raise ValueError(kind)


def evals_to_target(cls, f, n, seed, target=1e-8, maxevals=2_000_000):
    opt = cls(mean=np.zeros(n), sigma=1.0, seed=seed)
    evals = 0
    while evals < maxevals:
        sols = []
        for _ in range(opt.population_size):
            x = opt.ask()
            v = f(x)
            evals += 1
            if v < target:
                return evals
            sols.append((x, v))
        opt.tell(sols)
        if opt.should_stop():
            return None
    return None


def time_generation(cls, d, gens):
    opt = cls(mean=np.zeros(d), sigma=1.0, seed=7, population_size=20)
    rng = np.random.default_rng(99)
    t = 0.0
    for _ in range(gens):
        losses = rng.random(20)
        t0 = time.process_time()
        sols = [(opt.ask(), float(v)) for v in losses]
        opt.tell(sols)
        t += time.process_time() - t0
    return t / gens


def main():
    quick = "--quick" in sys.argv
    seeds = 5 if quick else 15
    print("python3-cmaes CPU time per generation (ask + tell, no objective), lambda = 20")
    print("%-9s %6s %12s %10s" % ("class", "d", "ms/gen", "gens"))
    for name, cls in (("CMA", CMA), ("SepCMA", SepCMA)):
        for d in (100, 500, 1000):
            gens = 5 if quick else (20 if d >= 1000 else 50)
            print("%-9s %6d %12.3f %10d" % (name, d, 1e3 * time_generation(cls, d, gens), gens),
                  flush=True)
    print("\nEvaluations to f < 1e-8 from x0 = 0, sigma0 = 1, default popsize; "
          "median [min, max] of %d seeds" % seeds)
    print("%-9s %-18s %4s %10s %22s %6s" % ("class", "function", "d", "median", "range", "hits"))
    for name, cls in (("CMA", CMA), ("SepCMA", SepCMA)):
        for kind in ("sphere", "ellipsoid"):
            for n in (10, 40):
                f = problem(kind, n)
                ev = [evals_to_target(cls, f, n, seed) for seed in range(1, seeds + 1)]
                hits = sum(e is not None for e in ev)
                ev = sorted(e if e is not None else 2_000_001 for e in ev)
                print("%-9s %-18s %4d %10d %22s %3d/%d" % (
                    name, kind, n, ev[len(ev) // 2], "[%d, %d]" % (ev[0], ev[-1]), hits, seeds),
                    flush=True)


if __name__ == "__main__":
    main()
