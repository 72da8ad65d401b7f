"""What this translator offers, as data for TAP capabilities (TAPRegExt 1.0 sec. 2.4;
ADQL 2.1 App. B / sec. 4 feature ids). Generated from the function whitelist, so the
capabilities list exactly what ``translate`` accepts."""

from __future__ import annotations

from dataclasses import dataclass

from vo.adql.functions import FUNCTIONS

TAPREGEXT = "ivo://ivoa.net/std/TAPRegExt#"


@dataclass(frozen=True)
class Feature:
    """One TAPRegExt <languageFeature>: its ``type`` IVOID and the <form>."""

    type: str
    form: str
    description: str | None = None


@dataclass(frozen=True)
class Features:
    language: str  # "ADQL"
    version: str  # "2.1"
    version_ivoid: str
    features: tuple[Feature, ...]

    def by_type(self) -> dict[str, tuple[Feature, ...]]:
        out: dict[str, list[Feature]] = {}
        for f in self.features:
            out.setdefault(f.type, []).append(f)
        return {k: tuple(v) for k, v in out.items()}


_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "features-adqlgeo",
        (
            "POINT",
            "CIRCLE",
            "POLYGON",
            "BOX",
            "CENTROID",
            "AREA",
            "COORD1",
            "COORD2",
            "COORDSYS",
            "CONTAINS",
            "INTERSECTS",
            "DISTANCE",
        ),
    ),
    ("features-adql-string", ("LOWER", "UPPER", "ILIKE")),
    ("features-adql-sets", ("UNION", "EXCEPT", "INTERSECT")),
    ("features-adql-common-table", ("WITH",)),
    ("features-adql-type", ("CAST",)),
    ("features-adql-conditional", ("COALESCE",)),
    ("features-adql-unit", ("IN_UNIT",)),
    ("features-adql-offset", ("OFFSET",)),
)


def features() -> Features:
    """Everything ``translate`` accepts beyond core ADQL 2.1, with UDF signatures in
    TAPRegExt <form> syntax (TOPCAT parses these). REGION is not offered."""
    out: list[Feature] = []
    for group, names in _GROUPS:
        for n in names:
            out.append(Feature(TAPREGEXT + group, n))
    for spec in FUNCTIONS.values():
        for form in spec.forms:
            out.append(Feature(TAPREGEXT + "features-udf", form))
    return Features("ADQL", "2.1", "ivo://ivoa.net/std/ADQL#v2.1", tuple(out))
