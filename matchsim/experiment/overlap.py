"""Two cores for one run: the schemes' hashing and joins in a worker process while this
process runs the attacks, the risk section and the cost model.

What depends on what (and so what may run side by side):

* each scheme's upload (``hash``) needs only the customer file;
* the first join normalises the platform and writes the layer the later joins read: the
  worker writes the first upload and joins it, then writes every other upload, then joins
  them in scheme order;
* a scheme's attacks need only its upload: this process attacks scheme ``i`` as soon as the
  worker reports upload ``i`` written, in scheme order, so the per-process caches of
  :mod:`matchsim.experiment.attacks` (e-mail guesses, the parsed upload) see the same
  sequence as a serial run;
* a join after the first needs only its upload and that layer: once this process has
  attacked every upload it takes the joins the worker has not started yet, last scheme
  first, and runs them here (each join is claimed by one process, :class:`Claims`), so
  neither core waits on the other's queue;
* membership needs only the first deterministic join: the process that ran it computes it;
* risk needs only the population: it runs here while the worker writes the first upload.

The worker is a fresh interpreter (``spawn``), never a fork: by the time it is needed this
process holds numba's and Arrow's thread pools. It is started before the population is
generated, so its imports overlap that stage, and it waits for the plan. Each stage is
timed (and its resources counted) in the process that ran it.

Failure: an error in the worker comes back as the same exception class with the same
message (the CLI prints the same ``Error:`` line and exit code) and interrupts this
process's main thread at once. Ctrl-C / SIGTERM / an error here stop the worker (SIGTERM,
then SIGKILL after a grace period) and wait for it before the run folder is removed; the
worker also dies with this process (``PR_SET_PDEATHSIG`` on Linux).

Secrets travel to the worker over the anonymous pipe (never in argv or the environment).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchsim.experiment.config import Experiment
from matchsim.experiment.context import ProgressFn, Stages, StepFn

MIN_PLATFORM_USERS = 1_000_000
"""Below this many platform users a run is quicker on one core than a worker's start-up."""

_GRACE_SECONDS = 10.0
_INTERRUPTED = 130


def wanted(experiment: Experiment, on_step: StepFn | None, requested: bool | None) -> bool:
    """Whether a run overlaps its stages: ``requested`` if given, else ``MATCHSIM_OVERLAP``
    (``0``/``1``), else for a population of :data:`MIN_PLATFORM_USERS` or more on a
    machine with two or more CPUs. Never with a narrator (its events keep their order) and
    never without schemes."""
    if on_step is not None or not experiment.schemes:
        return False
    if requested is not None:
        return requested
    env = os.environ.get("MATCHSIM_OVERLAP", "").strip()
    if env in ("0", "1"):
        return env == "1"
    return (os.cpu_count() or 1) >= 2 and _platform_users(experiment) >= MIN_PLATFORM_USERS


def _platform_users(experiment: Experiment) -> int:
    if experiment.population is not None:
        return int(experiment.population.platform_users)
    if experiment.population_path is not None:
        import json

        try:
            manifest = json.loads((experiment.population_path / "manifest.json").read_text())
            return int(manifest["counts"]["platform_users"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0
    return 0


@dataclass(frozen=True)
class Plan:
    """What the worker needs: the experiment, where things are, each scheme's secret."""

    experiment: Experiment
    folder: Path
    pop_dir: Path
    region: str
    secrets: list[tuple[bytes, str] | None] = field(repr=False)  # never in a repr or log


@dataclass
class _Inbox:
    """What the worker has reported so far (filled by the relay thread)."""

    hashed: dict[int, dict[str, Any]] = field(default_factory=dict)
    joined: dict[int, dict[str, Any]] = field(default_factory=dict)
    membership: Any = None
    stages: Stages | None = None
    error: BaseException | None = None


class Claims:
    """Which process runs each scheme's join: whichever claims it first (one byte per
    scheme in shared memory; 0 unclaimed, else the claimant)."""

    WORKER, PARENT = 1, 2

    def __init__(self, ctx: Any, schemes: int) -> None:
        self._owner = ctx.Array("b", max(schemes, 1))

    def claim(self, index: int, who: int) -> bool:
        """Take join ``index`` for ``who``; False if the other process has it. A join past
        the schemes counted at the start is always the worker's."""
        if index >= len(self._owner):
            return who == self.WORKER
        with self._owner.get_lock():
            if self._owner[index]:
                return bool(self._owner[index] == who)
            self._owner[index] = who
            return True


class Worker:
    """The worker process and this process's side of its pipe.

    Use as a context manager around the run; :meth:`start_plan` after the population;
    :meth:`hashed` / :meth:`joined` / :meth:`finish` wait for what the worker reports.
    """

    def __init__(self, progress: ProgressFn | None, schemes: int = 0) -> None:
        import multiprocessing as mp

        self._progress = progress
        self._lock = threading.Lock()  # one caller of ``progress`` at a time
        self._ready = threading.Condition()
        self._inbox = _Inbox()
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.claims = Claims(ctx, schemes)  # shared memory: passed at start, not pickled later
        self._proc = ctx.Process(target=_worker_main, args=(child, self.claims),
                                 name="matchsim-worker")  # fmt: skip
        self._proc.daemon = True
        from matchsim.experiment.memory import worker_environment

        # read by the allocators at start-up; SIGINT ignored until the worker's own handler
        # is in place (no traceback from a Ctrl-C during its imports: the parent stops it)
        with _environment(worker_environment()), _sigint_ignored():
            self._proc.start()
        child.close()
        self._relay = threading.Thread(target=self._read, name="matchsim-worker-relay", daemon=True)
        self._relay.start()
        self._main_thread = threading.current_thread() is threading.main_thread()

    # -- this process's progress callback, shared with the worker's reports ---------------
    def progress(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress(stage, done, total)

    def start_plan(self, plan: Plan) -> None:
        self._conn.send(("plan", plan.experiment, plan.folder, plan.pop_dir, plan.region))
        self._conn.send(("secrets", plan.secrets))

    def hashed(self, index: int) -> dict[str, Any]:
        """Wait until upload ``index`` is written; its summary."""
        return self._wait(lambda inbox: inbox.hashed.get(index))

    def take_join(self, index: int) -> bool:
        """Claim join ``index`` for this process (False: the worker runs or ran it)."""
        return self.claims.claim(index, Claims.PARENT)

    def joined(self, index: int) -> dict[str, Any]:
        """Wait until join ``index`` is done in the worker; its report."""
        return self._wait(lambda inbox: inbox.joined.get(index))

    def finish(self) -> tuple[Any, Stages]:
        """Wait for the worker's last word: the membership result and its stage timings."""
        stages = self._wait(lambda inbox: inbox.stages)
        return self._inbox.membership, stages

    def _wait(self, pick: Any) -> Any:
        with self._ready:
            while True:
                if self._inbox.error is not None:
                    raise self._inbox.error
                found = pick(self._inbox)
                if found is not None:
                    return found
                self._ready.wait()

    # -- the relay thread -------------------------------------------------------------------
    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self._fail(_ended(self._proc))
                return
            kind = message[0]
            if kind == "progress":
                self.progress(*message[1:])
                continue
            if kind == "error":
                self._fail(_rebuild(message[1]))
                return
            with self._ready:
                if kind == "hashed":
                    self._inbox.hashed[message[1]] = message[2]
                elif kind == "joined":
                    self._inbox.joined[message[1]] = message[2]
                elif kind == "membership":
                    self._inbox.membership = message[1]
                elif kind == "done":
                    self._inbox.stages = message[1]
                self._ready.notify_all()
            if kind == "done":
                return

    def _fail(self, error: BaseException) -> None:
        with self._ready:
            if self._inbox.stages is not None or self._inbox.error is not None:
                return
            self._inbox.error = error
            self._ready.notify_all()
        if self._main_thread:
            import _thread

            # interrupts the main thread between two bytecodes (after a kernel returns)
            _thread.interrupt_main(signal.SIGUSR1)

    @contextlib.contextmanager
    def raising_errors(self) -> Iterator[None]:
        """While inside, a worker error raises in the main thread at once."""
        if not self._main_thread:
            yield
            return
        error = self._inbox

        def _raise(signum: int, frame: Any) -> None:
            if error.error is not None:
                raise error.error

        previous = signal.signal(signal.SIGUSR1, _raise)
        try:
            yield
        finally:
            signal.signal(signal.SIGUSR1, previous)

    def close(self) -> None:
        """Stop the worker (if it still runs) and wait for it; never leaves an orphan."""
        proc = self._proc
        if self._inbox.stages is not None:  # finished: let it exit on its own
            proc.join(_GRACE_SECONDS)
        if proc.is_alive():
            with contextlib.suppress(OSError):
                proc.terminate()  # SIGTERM: the worker unwinds (KeyboardInterrupt) and exits
            proc.join(_GRACE_SECONDS)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._conn.close()
        self._relay.join(_GRACE_SECONDS)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """``extra`` in ``os.environ`` while a child process is started (then as before)."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a child is started (an ignored signal stays so across exec)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ended(proc: Any) -> BaseException:
    from matchsim.errors import MatchsimError

    proc.join(_GRACE_SECONDS)
    code = proc.exitcode
    if code in (_INTERRUPTED, -signal.SIGINT, -signal.SIGTERM):
        from matchsim.io import Interrupted

        # the worker was interrupted: so is the run (what the CLI reports for Ctrl-C)
        return Interrupted(signal.SIGTERM if code == -signal.SIGTERM else signal.SIGINT)
    return MatchsimError(f"the run's worker process ended without finishing (exit code {code})")


def _rebuild(portable: tuple[Any, ...]) -> BaseException:
    """The worker's exception (:func:`_portable`): the same class and message."""
    import importlib
    import pickle

    if portable[0] == "pickled":
        with contextlib.suppress(Exception):
            rebuilt: BaseException = pickle.loads(portable[1])
            return rebuilt
    _, module, name, args, state = portable
    try:
        cls = getattr(importlib.import_module(module), name)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(name)
        exc: BaseException = cls.__new__(cls)
        BaseException.__init__(exc, *args)
        exc.__dict__.update(state)
        return exc
    except Exception:  # a class this process cannot rebuild: its message, same wording
        from matchsim.errors import MatchsimError

        return MatchsimError(" ".join(str(a) for a in args))


# -- the worker process ------------------------------------------------------------------


def _worker_main(conn: Any, claims: Claims) -> None:
    """The worker: wait for the plan, then hash every scheme and join those it claims."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind like Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from matchsim.experiment.memory import reusing_memory

    try:
        with reusing_memory():
            _work(conn, claims)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM from the parent: no traceback
        conn.close()
        os._exit(_INTERRUPTED)
    except (EOFError, BrokenPipeError):  # the parent is gone
        return
    except BaseException as exc:  # every error goes back to the parent
        with contextlib.suppress(OSError, EOFError):
            conn.send(("error", _portable(exc)))
    finally:
        conn.close()


def _work(conn: Any, claims: Claims) -> None:
    """Wait for the plan, run it, report the membership result and the stage timings."""
    _warm_up()
    message = conn.recv()
    if message[0] != "plan":
        return
    _, experiment, folder, pop_dir, region = message
    secrets = conn.recv()[1]
    stages = Stages("worker")
    membership = _hash_and_join_all(conn, experiment, folder, pop_dir, region, secrets, stages,
                                    claims)  # fmt: skip
    conn.send(("membership", membership))
    conn.send(("done", stages))


def _portable(exc: BaseException) -> tuple[Any, ...]:
    """``exc`` as the parent can rebuild it: pickled if it survives the round trip, else
    its class, ``args`` and attributes."""
    import pickle

    with contextlib.suppress(Exception):
        data = pickle.dumps(exc)
        again = pickle.loads(data)
        if type(again) is type(exc) and str(again) == str(exc):
            return ("pickled", data)
    state = {k: v for k, v in getattr(exc, "__dict__", {}).items() if _picklable(v)}
    args = tuple(a if _picklable(a) else str(a) for a in exc.args)
    return ("parts", type(exc).__module__, type(exc).__qualname__, args, state)


def _picklable(value: Any) -> bool:
    import pickle

    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies (no orphan after a SIGKILL)."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the line above
            os._exit(1)


def _warm_up() -> None:
    """Import what the worker runs while the parent generates the population."""
    import matchsim.join.run
    import matchsim.upload.write  # noqa: F401


def _hash_and_join_all(
    conn: Any,
    experiment: Experiment,
    folder: Path,
    pop_dir: Path,
    region: str,
    secrets: list[tuple[bytes, str] | None],
    stages: Stages,
    claims: Claims,
) -> Any:
    """Every scheme's upload, and the joins this process claims, in order: the first
    upload and its join (which writes the normalised platform), then the other uploads
    (the parent attacks each as soon as it is written), then their joins. The membership
    result if this process ran the first deterministic join, else None."""
    from matchsim.experiment.context import RunContext
    from matchsim.experiment.schemes import hash_upload, prepare
    from matchsim.secrets import Secret

    def progress(stage: str, done: int, total: int) -> None:
        conn.send(("progress", stage, done, total))

    ctx = RunContext(experiment, folder, pop_dir, region, stages, progress)
    prepared = []
    for i, spec in enumerate(experiment.schemes):
        held = secrets[i]
        prepared.append(prepare(ctx, spec, i, None if held is None else Secret(held[0], held[1])))
    first = membership_scheme(prepared)
    membership = None
    for i, p in enumerate(prepared):
        conn.send(("hashed", i, hash_upload(ctx, p).as_dict()))
        if i == 0 and claims.claim(0, Claims.WORKER):
            membership = _join(conn, ctx, p, 0, first)
    for i, p in enumerate(prepared[1:], start=1):
        if claims.claim(i, Claims.WORKER):
            got = _join(conn, ctx, p, i, first)
            membership = got if got is not None else membership
    return membership


def _join(conn: Any, ctx: Any, p: Any, index: int, first: int | None) -> Any:
    """Join upload ``index`` here and report it; the membership result if ``index`` is
    the first deterministic scheme (``first``), else None."""
    join = join_and_membership(ctx, p, index == first)
    conn.send(("joined", index, join[0].report))
    return join[1]


def membership_scheme(prepared: list[Any]) -> int | None:
    """Index of the first deterministic scheme (whose join membership is read from)."""
    return next(
        (i for i, p in enumerate(prepared) if bool(getattr(p.scheme, "deterministic", True))),
        None,
    )


def join_and_membership(ctx: Any, p: Any, membership: bool) -> tuple[Any, Any]:
    """Scheme ``p``'s join in this process, and with ``membership`` the membership result
    read from it (else None)."""
    from matchsim.experiment.schemes import join_upload

    join = join_upload(ctx, p)
    if not membership:
        return join, None
    from matchsim.experiment import assess

    with ctx.stages.stage("membership"):
        users = json_counts(ctx.pop_dir)["platform_users"]
        return join, assess.membership(ctx.experiment, join, users)


def json_counts(pop_dir: Path) -> dict[str, Any]:
    from matchsim.io import population_manifest

    counts: dict[str, Any] = population_manifest(pop_dir)["counts"]
    return counts
