"""``matchsim build-kernels``: compile the attack's hot-path kernels ahead of time.

Calls :func:`matchsim.kernels.aot.build.build` and says where the library went; later
attacks load it instead of numba (:mod:`matchsim.kernels.aot`).
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from matchsim.cli._app import app
from matchsim.cli._options import JsonOpt, force_flag
from matchsim.cli._output import err_console, print_json, say

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
"""= matchsim.kernels.attack.params.ALGORITHMS, for --help."""


@app.command("build-kernels")
def build_kernels(
    algorithm: Annotated[
        list[str] | None,
        typer.Option(
            "--algorithm",
            metavar="NAME",
            help=f"Build only this algorithm's kernels ({', '.join(ALGORITHMS)}); "
            "repeat for several. Default: all.",
        ),
    ] = None,
    force: Annotated[bool, force_flag("Rebuild modules that are already there.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Compile the attack's kernels ahead of time for this machine (needs a C
    compiler; about 15 s of CPU per algorithm), so that a fresh attack starts without
    numba. MATCHSIM_AOT_DIR sets where (default ~/.cache/matchsim/aot); MATCHSIM_AOT=0
    turns their use off."""
    from matchsim.kernels import aot
    from matchsim.kernels.aot.build import build

    names = tuple(algorithm or ALGORITHMS)
    t0 = time.perf_counter()
    status = None if as_json else err_console.status("compiling", spinner="dots")

    def progress(name: str, done: int, total: int) -> None:
        if status is not None and name:
            status.update(f"compiling the {name} kernels ({done + 1}/{total})")

    if status is not None:
        status.start()
    try:
        built = build(names, progress=progress, force=force)
    finally:
        if status is not None:
            status.stop()
    seconds = time.perf_counter() - t0
    report = {
        "directory": str(aot.library_dir()),
        "modules": {k: str(v) for k, v in built.items()},
        "seconds": round(seconds, 1),
        "enabled": aot.enabled(),
    }
    if as_json:
        print_json(report)
        return
    say(f"Kernels for {', '.join(built)} in {aot.library_dir()} ({seconds:.1f} s).")
    if not aot.enabled():
        say("MATCHSIM_AOT turns their use off in this environment.")
