"""Time to generate the e-mail model's guesses, fresh each time (the process-wide cache
of :func:`matchsim.attack.keyspace.email_keyspace` is cleared between repeats), and a
fingerprint of what came out, so that two versions can be compared on both:

    PYTHONPATH=TREE python benchmarks/email_guesses.py NL 5000000 3

Prints, per repeat, the wall and CPU seconds of the generation (building the keyspace,
which loads the locale once per process, is shown apart), then the SHA-256 of the
guesses one per line: equal fingerprints are equal guesses in equal order.
"""

from __future__ import annotations

import hashlib
import resource
import sys
import time

from matchsim.attack import keyspace


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(country: str, size: int, repeats: int) -> None:
    digest = ""
    for i in range(repeats):
        keyspace._EMAIL_CACHE.clear()
        t0, c0 = time.perf_counter(), _cpu()
        space = keyspace.email_keyspace(country, size)
        t1, c1 = time.perf_counter(), _cpu()
        h = hashlib.sha256()
        count = 0
        gen_wall = gen_cpu = 0.0
        batches = iter(space.batches())
        while True:
            s0, u0 = time.perf_counter(), _cpu()
            batch = next(batches, None)
            gen_wall += time.perf_counter() - s0
            gen_cpu += _cpu() - u0
            if batch is None:
                break
            count += len(batch)
            h.update("".join(s + "\n" for s in batch.to_pylist()).encode())
        digest = h.hexdigest()
        print(
            f"repeat {i + 1}: keyspace {t1 - t0:.2f} s wall ({c1 - c0:.2f} CPU); "
            f"{count:,} guesses in {gen_wall:.2f} s wall ({gen_cpu:.2f} CPU)"
        )
    print(f"sha256 of the guesses: {digest}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else "NL", int(args[1]) if len(args) > 1 else 5_000_000,
         int(args[2]) if len(args) > 2 else 3)  # fmt: skip
