"""Experiment files: TOML -> a validated :class:`Experiment`, every problem reported at once.

An experiment names the population (generated, or an existing run folder), the
advertisers, the platform's profile and engine, the schemes to compare, the attacks and
what the attacker knows, the quasi-identifier sets to assess, and optional sections
(``[pixel]``, ``[oracle]``, ``[psi]``, ``[clk]``) owned by their stages. Validation walks
the whole file and collects ``location: message`` problems, as clkhash and splink do,
so a user fixes a broken file in one go. The schema is versioned (``version = 1``).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchsim.errors import ConfigError, InputError
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
    sections: dict[str, dict[str, Any]]  # optional stage sections, validated by their stages
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

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


class _Checker:
    """Collects problems with their locations while reading a TOML tree."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def table(self, tree: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = tree.get(key, {})
        if not isinstance(value, dict):
            self.add(where, "must be a table")
            return {}
        return value

    def tables(self, value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(location, table)`` for each table of an array of tables (``[[where]]``)."""
        if not isinstance(value, list):
            self.add(f"[[{where}]]", f"must be an array of tables ([[{where}]])")
            return
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield f"[[{where}]][{i}]", item
            else:
                self.add(f"[[{where}]][{i}]", "must be a table")

    def unknown(self, tree: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in tree:
            if key not in allowed:
                self.add(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")

    def get(
        self,
        tree: Mapping[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        default: Any,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        if key not in tree:
            return default
        value = tree[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds).replace("str", "string")
            self.add(f"{where}.{key}", f"must be {names}, got {value!r}")
            return default
        if check is not None:
            problem = check(value)
            if problem:
                self.add(f"{where}.{key}", problem)
                return default
        return value


def _share(v: Any) -> str | None:
    return None if 0 <= v <= 1 else f"must be between 0 and 1, got {v}"


def _coverage(v: Any) -> str | None:
    return None if 0 < v <= 1 else f"must be above 0 and at most 1, got {v}"


def _non_negative(v: Any) -> str | None:
    return None if v >= 0 else f"must be >= 0, got {v}"


def _positive(v: Any) -> str | None:
    return None if v >= 1 else f"must be >= 1, got {v}"


def _known_profiles() -> list[str]:
    try:
        from matchsim.normalise import PROFILES
    except ImportError:  # pragma: no cover - stage not installed
        return []
    return sorted(PROFILES)


def _known_schemes() -> list[str]:
    try:
        from matchsim.schemes import SCHEMES
    except ImportError:  # pragma: no cover
        return []
    return sorted(SCHEMES)


def _section_problems(key: str, section: dict[str, Any]) -> list[str]:
    """The problems the stage's own parser finds in ``[key]``, before any work (the
    pipeline parses the section again when it runs it)."""
    try:
        if key == "pixel":
            from matchsim.pixel import PixelConfig

            PixelConfig.from_dict(section)
        elif key == "oracle":
            from matchsim.oracle import OracleConfig

            OracleConfig.from_dict(section)
        elif key == "psi":
            from matchsim.psi import PsiParams

            PsiParams.from_dict({k: v for k, v in section.items() if k not in ("field", "profile")})
        elif key == "clk":
            from matchsim.clk import ClkSchema

            ClkSchema.from_dict(dict(section.get("schema", {})))
    except ConfigError as exc:
        return list(exc.problems)
    return []


def _scheme_problems(name: str, params: dict[str, Any]) -> list[str]:
    try:
        from matchsim.schemes import param_problems
    except ImportError:  # pragma: no cover
        return []
    return param_problems(name, params)


def _one_of(options: list[str] | tuple[str, ...], what: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if options and v not in options:
            return f"unknown {what} {v!r} (known: {', '.join(options)})"
        return None

    return check


_TOP = {
    "version", "name", "description", "seed", "region", "population", "advertiser",
    "advertisers", "platform", "schemes", "attacks", "risk", "pixel", "oracle", "psi", "clk",
    "promises",
}  # fmt: skip
_POPULATION = {f.name for f in dataclasses.fields(PopulationParams)} | {"path"}
_CORRUPTION = {f.name for f in dataclasses.fields(Corruption)}


def parse_experiment(tree: Mapping[str, Any], *, source: Path | None = None) -> Experiment:
    """Validate a parsed TOML tree; raise one ConfigError listing every problem."""
    c = _Checker()
    where = "experiment"
    c.unknown(tree, _TOP, where)
    version = tree.get("version")
    if version != SCHEMA_VERSION:
        c.add(
            "version",
            f"must be {SCHEMA_VERSION} (the schema this matchsim reads), got {version!r}",
        )
    name = c.get(tree, "name", where, str, source.stem if source else "experiment")
    description = c.get(tree, "description", where, str, "")
    seed = c.get(tree, "seed", where, int, 7, _non_negative)
    region = c.get(tree, "region", where, str, "")

    # population
    pop_tree = c.table(tree, "population", "[population]")
    c.unknown(pop_tree, _POPULATION, "[population]")
    population: PopulationParams | None = None
    population_path: Path | None = None
    if "path" in pop_tree:
        raw_path = c.get(pop_tree, "path", "[population]", str, "")
        if raw_path:
            population_path = Path(raw_path)
            if source is not None and not population_path.is_absolute():
                population_path = (source.parent / population_path).resolve()
            if not (population_path / "platform.parquet").is_file():
                c.add(
                    "[population].path",
                    f"{raw_path} holds no platform.parquet (run matchsim generate first)",
                )
    else:
        corruption_tree = c.table(pop_tree, "corruption", "[population]")
        c.unknown(corruption_tree, _CORRUPTION, "[population.corruption]")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(PopulationParams):
            if f.name in ("corruption", "seed"):
                continue
            kind: type | tuple[type, ...] = (
                (int, float) if f.type in ("float",) else int if f.type == "int" else str
            )
            if f.name in pop_tree:
                values[f.name] = c.get(pop_tree, f.name, "[population]", kind, None)
        corruption_values = {
            k: c.get(corruption_tree, k, "[population.corruption]", (int, float), None, _share)
            for k in corruption_tree
            if k in _CORRUPTION
        }
        try:
            population = PopulationParams(
                seed=seed,
                corruption=Corruption(
                    **{k: v for k, v in corruption_values.items() if v is not None}
                ),
                **{k: v for k, v in values.items() if v is not None},
            )
            for problem in population.problems():
                c.add("[population]", problem)
        except TypeError as exc:  # pragma: no cover - guarded by the key check above
            c.add("[population]", str(exc))
    if not region:
        region = population.country if population else "NL"

    # advertisers
    profiles = _known_profiles()
    advertiser_trees: list[tuple[str, dict[str, Any]]] = []
    if "advertiser" in tree:
        if isinstance(tree["advertiser"], dict):
            advertiser_trees.append(("[advertiser]", tree["advertiser"]))
        else:
            c.add("[advertiser]", "must be a table")
    advertiser_trees.extend(c.tables(tree.get("advertisers", []), "advertisers"))
    advertisers: list[Advertiser] = []
    for loc, a in advertiser_trees:
        c.unknown(a, {f.name for f in dataclasses.fields(Advertiser)}, loc)
        advertisers.append(
            Advertiser(
                name=c.get(a, "name", loc, str, f"advertiser {len(advertisers) + 1}"),
                label=c.get(a, "label", loc, str, "advertiser"),
                sensitive=c.get(a, "sensitive", loc, bool, False),
                profile=c.get(a, "profile", loc, str, "meta", _one_of(profiles, "profile")),
                share=c.get(a, "share", loc, (int, float), 1.0, _share),
            )
        )
    if not advertisers:
        advertisers.append(Advertiser(name="advertiser"))

    platform = c.table(tree, "platform", "[platform]")
    c.unknown(platform, {"profile", "engine", "scheduler"}, "[platform]")
    platform_profile = c.get(
        platform, "profile", "[platform]", str, advertisers[0].profile, _one_of(profiles, "profile")
    )
    engine = c.get(platform, "engine", "[platform]", str, "local", _one_of(ENGINES, "engine"))
    scheduler = c.get(platform, "scheduler", "[platform]", str, None)

    # schemes
    scheme_names = _known_schemes()
    schemes: list[SchemeSpec] = []
    stage_sections = any(k in tree for k in ("pixel", "oracle", "psi", "clk", "promises"))
    raw_schemes = tree.get("schemes", [] if stage_sections else [{"name": "sha256"}])
    for loc, s in c.tables(raw_schemes, "schemes"):
        if "key" in s or "secret" in s or "salt" in s:
            c.add(loc, "secrets never go in an experiment file; use key_env or key_file")
        params = {
            k: v
            for k, v in s.items()
            if k not in ("name", "key_env", "key_file", "label", "key", "secret", "salt")
        }
        schemes.append(
            SchemeSpec(
                name=c.get(s, "name", loc, str, "", _one_of(scheme_names, "scheme")),
                params=params,
                key_env=c.get(s, "key_env", loc, str, None),
                key_file=c.get(s, "key_file", loc, str, None),
                label=c.get(s, "label", loc, str, ""),
            )
        )
        if "name" not in s:
            c.add(loc, "needs a name")
        else:
            if ("key_file" in s or "key_env" in s) and _takes_no_key(str(s["name"])):
                c.add(
                    loc,
                    f"scheme {s['name']} takes no key (run would ignore it); "
                    "remove key_file / key_env",
                )
            for problem in _scheme_problems(str(s["name"]), params):
                c.add(loc, problem)

    attacks: list[AttackSpec] = []
    for loc, a in c.tables(tree.get("attacks", []), "attacks"):
        c.unknown(a, {f.name for f in dataclasses.fields(AttackSpec)}, loc)
        attacks.append(
            AttackSpec(
                kind=c.get(a, "kind", loc, str, "phone", _one_of(ATTACK_KINDS, "attack kind")),
                knows_secret=c.get(a, "knows_secret", loc, bool, False),
                guesses=c.get(a, "guesses", loc, int, 1_000_000, _positive),
                number_type=c.get(
                    a, "number_type", loc, str, "mobile", _one_of(NUMBER_TYPES, "number type")
                ),
                coverage=c.get(a, "coverage", loc, (int, float), 1.0, _coverage),
            )
        )

    risk = c.table(tree, "risk", "[risk]")
    c.unknown(risk, {"qi"}, "[risk]")
    qi_sets: list[tuple[str, ...]] = []
    # quasi-identifiers travel with an uploaded list: without [[schemes]] (a pixel or
    # oracle experiment) there is no list, so no risk section unless [risk] asks for one
    default_qi = [["postcode", "dob", "gender"]] if "schemes" in tree else []
    raw_qi = risk.get("qi", default_qi)
    if not isinstance(raw_qi, list) or not all(
        isinstance(q, list) and q and all(isinstance(x, str) for x in q) for q in raw_qi
    ):
        c.add("[risk].qi", 'must be a list of lists of column names, e.g. [["postcode", "dob"]]')
    else:
        qi_sets = [tuple(q) for q in raw_qi]

    sections = {k: tree[k] for k in ("pixel", "oracle", "psi", "clk", "promises") if k in tree}
    for key, section in sections.items():
        if not isinstance(section, dict):
            c.add(f"[{key}]", "must be a table")
        elif key == "promises":
            from matchsim.oracle.promises import PromisesConfig

            c.problems.extend(PromisesConfig.problems(section, source=source)[1])
        else:
            c.problems.extend(_section_problems(key, section))

    ConfigError.collect(c.problems)
    return Experiment(
        name=name,
        seed=seed,
        description=description,
        region=region.upper(),
        population=population,
        population_path=population_path,
        advertisers=tuple(advertisers),
        platform_profile=platform_profile,
        engine=engine,
        scheduler=scheduler,
        schemes=tuple(schemes),
        attacks=tuple(attacks),
        qi_sets=tuple(qi_sets),
        sections=sections,
        source=source,
        raw=dict(tree),
    )


def _takes_no_key(name: str) -> bool:
    try:
        from matchsim.schemes import SCHEMES
    except ImportError:  # pragma: no cover
        return False
    cls = SCHEMES.get(name)
    return cls is not None and not cls.needs_secret


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
