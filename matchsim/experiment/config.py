"""Experiment files: TOML -> a validated :class:`Experiment`, every problem reported at once.

An experiment names the population (generated, or an existing run folder), the
advertisers, the platform's profile and engine, the schemes to compare, the attacks and
what the attacker knows, the quasi-identifier sets to assess, and optional sections
(``[pixel]``, ``[oracle]``, ``[psi]``, ``[clk]``, ``[promises]``) that register their
parsers in :mod:`matchsim.experiment.sections`. Every table is read through the one
validator (:class:`~matchsim.experiment.fields.Fields`), which collects
``location: message`` problems, so a user fixes a broken file in one go, before any
population is built. The schema is versioned (``version = 1``).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchsim.errors import ConfigError, InputError
from matchsim.experiment.fields import Fields
from matchsim.generate import Corruption, PopulationParams
from matchsim.locale.numberplan import NUMBER_TYPES

SCHEMA_VERSION = 1
ATTACK_KINDS = ("phone", "email", "reidentify")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class SchemeSpec:
    """One scheme to compare: registry name, parameters, and where its secret comes from.

    A keyed scheme without ``key_env``/``key_file`` gets a fresh random secret for the
    run, shared by advertiser and platform and never written anywhere.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    key_env: str | None = None
    key_file: str | None = None
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Advertiser:
    name: str
    label: str = "advertiser"
    sensitive: bool = False
    profile: str = "meta"
    share: float = 1.0  # share of the customer file that is this advertiser's


@dataclass(frozen=True)
class AttackSpec:
    """An attack on each scheme's upload, and what the attacker holds."""

    kind: str  # phone | email | reidentify
    knows_secret: bool = False
    guesses: int = 1_000_000  # e-mail candidates to try, in likelihood order
    number_type: str = "mobile"
    coverage: float = 1.0  # reidentify: share of residents in the register drawn to link to


@dataclass(frozen=True)
class Experiment:
    name: str
    seed: int
    description: str
    region: str
    population: PopulationParams | None
    population_path: Path | None
    advertisers: tuple[Advertiser, ...]
    platform_profile: str
    engine: str
    scheduler: str | None
    schemes: tuple[SchemeSpec, ...]
    attacks: tuple[AttackSpec, ...]
    qi_sets: tuple[tuple[str, ...], ...]
    sections: dict[str, dict[str, Any]]  # optional sections' tables, as written
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # each optional section's table as its registered parser read it (validated)
    section_configs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The experiment as recorded in the manifest (secrets are never part of it)."""
        return self.raw

    @property
    def slug(self) -> str:
        """The name as a safe folder name (``runs/<slug>-<time>``): never a path."""
        return slugify(self.name)


def slugify(text: str, limit: int = 60) -> str:
    """Lower-case ASCII letters, digits and single dashes; ``experiment`` if none are left.

    ``"../../x"`` -> ``"x"``, ``"/etc/passwd"`` -> ``"etc-passwd"``: no separator, no dot.
    """
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or "experiment"


def _coverage(v: Any) -> str | None:
    return None if 0 < v <= 1 else f"must be above 0 and at most 1, got {v}"


def _known_profiles() -> list[str]:
    from matchsim.normalise import PROFILES

    return sorted(PROFILES)


def _known_schemes() -> list[str]:
    from matchsim.schemes import SCHEMES

    return sorted(SCHEMES)


_TOP = {
    "version", "name", "description", "seed", "region", "population", "advertiser",
    "advertisers", "platform", "schemes", "attacks", "risk",
}  # fmt: skip
_SECRET_KEYS = ("key", "secret", "salt")
_NOT_PARAMS = ("name", "key_env", "key_file", "label", *_SECRET_KEYS)


def parse_experiment(tree: Mapping[str, Any], *, source: Path | None = None) -> Experiment:
    """Validate a parsed TOML tree; raise one ConfigError listing every problem."""
    from matchsim.experiment.sections import parse_sections, section_keys

    f = Fields(tree, "experiment")
    f.allow(_TOP | set(section_keys()))
    f.unknown()
    if tree.get("version") != SCHEMA_VERSION:
        f.problems.append(
            f"version: must be {SCHEMA_VERSION} (the schema this matchsim reads), "
            f"got {tree.get('version')!r}"
        )
    name = f.string("name", source.stem if source else "experiment")
    description = f.string("description", "")
    seed = f.integer("seed", 7, 0)
    region = f.string("region", "")
    population, population_path = _population(f, seed, source)
    if not region:
        region = population.country if population else "NL"
    advertisers = _advertisers(f)
    platform_profile, engine, scheduler = _platform(f, advertisers[0].profile)
    schemes = _schemes(f, tree)
    attacks = _attacks(f)
    qi_sets = _qi_sets(f, tree)
    sections, configs = parse_sections(f, tree, source)
    ConfigError.collect(f.problems)
    return Experiment(
        name=name,
        seed=seed,
        description=description,
        region=region.upper(),
        population=population,
        population_path=population_path,
        advertisers=advertisers,
        platform_profile=platform_profile,
        engine=engine,
        scheduler=scheduler,
        schemes=schemes,
        attacks=attacks,
        qi_sets=qi_sets,
        sections=sections,
        source=source,
        raw=dict(tree),
        section_configs=configs,
    )


_POPULATION = {f.name for f in dataclasses.fields(PopulationParams)} | {"path"}
_CORRUPTION = {f.name for f in dataclasses.fields(Corruption)}


def _population(
    f: Fields, seed: int, source: Path | None
) -> tuple[PopulationParams | None, Path | None]:
    """``[population]``: a folder to reuse (``path``) or the parameters to generate one."""
    pop = f.table_at("population", "[population]")
    if "path" in pop:
        pop.allow(_POPULATION)
        pop.unknown()
        raw_path = pop.string("path", "")
        if not raw_path:
            if pop.table.get("path") == "":  # a path of the wrong type is a problem already
                pop.problem("path", "must not be empty (give the population folder)")
            return None, None
        path = Path(raw_path)
        if source is not None and not path.is_absolute():
            path = (source.parent / path).resolve()
        if not (path / "platform.parquet").is_file():
            pop.problem(
                "path", f"{raw_path} holds no platform.parquet (run matchsim generate first)"
            )
        return None, path
    corruption = pop.table_at("corruption", "[population.corruption]")
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(PopulationParams):
        if spec.name in ("corruption", "seed") or spec.name not in pop:
            continue
        if spec.type == "float":
            values[spec.name] = pop.number(spec.name, None, as_float=False)  # type: ignore[arg-type]
        elif spec.type == "int":
            values[spec.name] = pop.integer(spec.name, None)  # type: ignore[arg-type]
        else:
            values[spec.name] = pop.string(spec.name, None)
    pop.allow(_POPULATION)
    pop.unknown()
    known = [k for k in corruption.table if k in _CORRUPTION]
    noise = {k: corruption.number(k, -1, 0, 1, as_float=False) for k in known}  # -1: invalid
    corruption.allow(_CORRUPTION)
    corruption.unknown()
    params = PopulationParams(
        seed=seed,
        corruption=Corruption(**{k: v for k, v in noise.items() if v != -1}),
        **{k: v for k, v in values.items() if v is not None},
    )
    for problem in params.problems():
        pop.problem_here(problem)
    return params, None


def _advertisers(f: Fields) -> tuple[Advertiser, ...]:
    """``[advertiser]`` and/or ``[[advertisers]]``; one default advertiser when none."""
    profiles = _known_profiles()
    tables: list[Fields] = []
    if "advertiser" in f:
        tables.append(f.table_at("advertiser", "[advertiser]"))
    tables.extend(f.tables("advertisers", []))
    out: list[Advertiser] = []
    for a in tables:
        out.append(
            Advertiser(
                name=a.string("name", f"advertiser {len(out) + 1}"),
                label=a.string("label", "advertiser"),
                sensitive=a.boolean("sensitive", False),
                profile=a.name("profile", "meta", profiles, "profile"),
                share=a.number("share", 1.0, 0, 1, as_float=False),
            )
        )
        a.unknown()
    return tuple(out) or (Advertiser(name="advertiser"),)


def _platform(f: Fields, default_profile: str) -> tuple[str, str, str | None]:
    p = f.table_at("platform", "[platform]")
    profile = p.name("profile", default_profile, _known_profiles(), "profile")
    engine = p.name("engine", "local", ENGINES, "engine")
    scheduler = p.string("scheduler", None)
    p.unknown()
    return profile, engine, scheduler


def _schemes(f: Fields, tree: Mapping[str, Any]) -> tuple[SchemeSpec, ...]:
    """``[[schemes]]``: a registry name, its parameters (checked by the scheme), a key source."""
    from matchsim.experiment.sections import section_keys
    from matchsim.schemes import SCHEMES, param_problems

    names = _known_schemes()
    only_sections = any(k in tree for k in section_keys())
    out: list[SchemeSpec] = []
    for s in f.tables("schemes", [] if only_sections else [{"name": "sha256"}]):
        if any(k in s for k in _SECRET_KEYS):
            s.problem_here("secrets never go in an experiment file; use key_env or key_file")
        name = s.name("name", "", names, "scheme")
        params = {k: v for k, v in s.table.items() if k not in _NOT_PARAMS}
        out.append(
            SchemeSpec(
                name=name,
                params=params,
                key_env=s.string("key_env", None),
                key_file=s.string("key_file", None),
                label=s.string("label", ""),
            )
        )
        if "name" not in s:
            s.problem_here("needs a name")
            continue
        cls = SCHEMES.get(str(s.table["name"]))
        if ("key_file" in s or "key_env" in s) and cls is not None and not cls.needs_secret:
            s.problem_here(
                f"scheme {s.table['name']} takes no key (run would ignore it); "
                "remove key_file / key_env"
            )
        for problem in param_problems(str(s.table["name"]), params):
            s.problem_here(problem)
        for key in ("key_env", "key_file"):
            if s.table.get(key) == "":  # not "absent" (a fresh random key): a mistake
                s.problem(key, "must not be empty (name the variable or the file)")
        if cls is not None and cls.needs_secret and (out[-1].key_env or out[-1].key_file):
            _check_key(s, out[-1])
    return tuple(out)


def _check_key(s: Fields, spec: SchemeSpec) -> None:
    """The key source is read now (and dropped), so a missing file or unset variable is
    reported with the other problems, before the population is built. The message names
    the source, never the key."""
    from matchsim.errors import SecretError
    from matchsim.secrets import load_secret

    try:
        load_secret(file=spec.key_file, env=spec.key_env, what=f"{spec.name} key",
                    file_option="key_file", env_option="key_env")  # fmt: skip
    except SecretError as exc:
        s.problem_here(exc.one_line())


def _attacks(f: Fields) -> tuple[AttackSpec, ...]:
    out = []
    for a in f.tables("attacks", []):
        out.append(
            AttackSpec(
                kind=a.name("kind", "phone", ATTACK_KINDS, "attack kind"),
                knows_secret=a.boolean("knows_secret", False),
                guesses=a.integer("guesses", 1_000_000, 1),
                number_type=a.name("number_type", "mobile", NUMBER_TYPES, "number type"),
                coverage=a.number("coverage", 1.0, check=_coverage, as_float=False),
            )
        )
        a.unknown()
    return tuple(out)


def _qi_sets(f: Fields, tree: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    """``[risk].qi``: the quasi-identifier sets to assess on the customer file."""
    risk = f.table_at("risk", "[risk]")
    # quasi-identifiers travel with an uploaded list: without [[schemes]] (a pixel or
    # oracle experiment) there is no list, so no risk section unless [risk] asks for one
    default = [["postcode", "dob", "gender"]] if "schemes" in tree else []
    raw = risk.sub("qi")
    raw = default if raw is None else raw
    risk.unknown()
    if not isinstance(raw, list) or not all(
        isinstance(q, list) and q and all(isinstance(x, str) for x in q) for q in raw
    ):
        risk.problem("qi", 'must be a list of lists of column names, e.g. [["postcode", "dob"]]')
        return ()
    return tuple(tuple(q) for q in raw)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file.

    Raises:
        InputError: the file is missing or not valid TOML (with line and column).
        ConfigError: the file is valid TOML but not a valid experiment (all problems).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read ({exc})") from None
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"is not valid TOML: {exc}") from None
    try:
        return parse_experiment(tree, source=path)
    except ConfigError as exc:
        raise ConfigError([f"{path}: {p}" for p in exc.problems]) from None
