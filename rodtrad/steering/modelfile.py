"""The steering model file: parse and validate it, and write a model back out.

The format is documented in docs/model-format.md. Parsing yields a `ModelSpec`, checked
completely before anything is written; every problem names its line and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.utils.translation import gettext as _

from rodtrad.lib.yamlfile import FileProblems, Located, Path, Problem, load_located, path_text
from rodtrad.organisations.models import BUILTIN_KINDS
from rodtrad.steering.models import ClassificationKind, Horizon, SteeringModel

FORMAT = "rodtrad/styrmodell-1"
MAX_FILE_BYTES = 1_000_000
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

AGENDA_2030: list[tuple[str, str]] = [
    ("Ingen fattigdom", "No poverty"),
    ("Ingen hunger", "Zero hunger"),
    ("Hälsa och välbefinnande", "Good health and well-being"),
    ("God utbildning för alla", "Quality education"),
    ("Jämställdhet", "Gender equality"),
    ("Rent vatten och sanitet för alla", "Clean water and sanitation"),
    ("Hållbar energi för alla", "Affordable and clean energy"),
    ("Anständiga arbetsvillkor och ekonomisk tillväxt", "Decent work and economic growth"),
    ("Hållbar industri, innovationer och infrastruktur", "Industry, innovation and infrastructure"),
    ("Minskad ojämlikhet", "Reduced inequalities"),
    ("Hållbara städer och samhällen", "Sustainable cities and communities"),
    ("Hållbar konsumtion och produktion", "Responsible consumption and production"),
    ("Bekämpa klimatförändringarna", "Climate action"),
    ("Hav och marina resurser", "Life below water"),
    ("Ekosystem och biologisk mångfald", "Life on land"),
    ("Fredliga och inkluderande samhällen", "Peace, justice and strong institutions"),
    ("Genomförande och globalt partnerskap", "Partnerships for the goals"),
]
SUSTAINABILITY: list[tuple[str, str, str]] = [
    ("ekologisk", "Ekologisk hållbarhet", "Ecological sustainability"),
    ("social", "Social hållbarhet", "Social sustainability"),
    ("ekonomisk", "Ekonomisk hållbarhet", "Economic sustainability"),
]


@dataclass
class KindSpec:
    key: str
    name: str
    name_en: str = ""


@dataclass
class ValueSpec:
    key: str
    name: str
    name_en: str = ""
    description: str = ""


@dataclass
class ClassificationSpec:
    key: str
    name: str
    name_en: str
    kind: str
    multiple: bool
    values: list[ValueSpec]
    standard: bool = False
    line: int | None = None


@dataclass
class LevelSpec:
    key: str
    name: str
    plural: str
    name_en: str = ""
    plural_en: str = ""
    description: str = ""
    owners: list[str] = field(default_factory=list)
    links_to: list[str] = field(default_factory=list)
    link_required: bool = False
    horizon: str = Horizon.PERIOD
    assessed: bool = False
    indicators: bool = False
    assignment: bool = False
    classifications: dict[str, bool] = field(default_factory=dict)  # key -> required
    line: int | None = None


@dataclass
class SectionSpec:
    key: str
    name: str
    name_en: str = ""
    reporters: list[str] = field(default_factory=list)  # empty: every reporter


@dataclass
class FollowUpSpec:
    key: str
    name: str
    name_en: str = ""
    description: str = ""
    months: list[int] = field(default_factory=list)
    deadline_days: int = 15
    reminders: list[int] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)
    economy: bool = False
    indicators: bool = True
    council_approval: bool = False
    sections: list[SectionSpec] = field(default_factory=list)
    line: int | None = None


@dataclass
class ModelSpec:
    name: str
    name_en: str = ""
    description: str = ""
    source: str = ""
    org_unit_kinds: list[KindSpec] = field(default_factory=list)
    classifications: list[ClassificationSpec] = field(default_factory=list)
    levels: list[LevelSpec] = field(default_factory=list)
    follow_up: list[FollowUpSpec] = field(default_factory=list)


def problem_text(problem: Problem) -> str:
    """A problem in the interface language: "rad 14, levels[2].owners: ..."."""
    if problem.line and problem.path:
        return _("line %(line)s, %(path)s: %(message)s") % {
            "line": problem.line,
            "path": problem.path,
            "message": problem.message,
        }
    if problem.line:
        return _("line %(line)s: %(message)s") % {"line": problem.line, "message": problem.message}
    return problem.message


class _Reader:
    """Walks the located data, collecting every problem instead of stopping at the first."""

    def __init__(self, located: Located):
        self.located = located
        self.problems: list[Problem] = []

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.located.line(path), path_text(path), message))

    def mapping(self, value: Any, path: Path, allowed: set[str], required: set[str]) -> dict:
        if not isinstance(value, dict):
            self.error(path, _("expected a mapping of keys and values"))
            return {}
        for key in value:
            if key not in allowed:
                self.error(
                    (*path, key),
                    _("unknown key %(key)r; allowed keys are: %(allowed)s")
                    % {"key": key, "allowed": ", ".join(sorted(allowed))},
                )
        for key in sorted(required - set(value)):
            self.error(path, _("the key %(key)r is missing") % {"key": key})
        return value

    def text(
        self, data: dict, key: str, path: Path, default: str = "", max_length: int | None = None
    ) -> str:
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error((*path, key), _("expected text"))
            return default
        text = str(value).strip()
        if max_length is not None and len(text) > max_length:
            self.error(
                (*path, key),
                _("at most %(max)s characters, not %(length)s")
                % {"max": max_length, "length": len(text)},
            )
        return text

    def key(self, data: dict, path: Path) -> str:
        value = self.text(data, "key", path)
        if value and not KEY_RE.match(value):
            self.error(
                (*path, "key"),
                _("%(value)r is not a valid key: use lower-case a–z, digits and '-'")
                % {"value": value},
            )
        return value

    def boolean(self, data: dict, key: str, path: Path, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error((*path, key), _("expected true or false, not %(value)r") % {"value": value})
            return default
        return value

    def key_list(self, data: dict, key: str, path: Path) -> list[str]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error((*path, key), _("expected a list"))
            return []
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.error((*path, key, index), _("expected a key"))
            else:
                out.append(item)
        return out


def parse_model(text: str | bytes) -> ModelSpec:
    """Parse and validate a model file; raise FileProblems listing every problem found."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise FileProblems([Problem(None, "", _("the file is larger than 1 MB"))])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileProblems(
                [
                    Problem(
                        None,
                        "",
                        _("the file is not UTF-8 text (byte %(pos)s)") % {"pos": exc.start},
                    )
                ]
            ) from None
    located = load_located(text)
    reader = _Reader(located)
    top = reader.mapping(
        located.data,
        (),
        {
            "format",
            "name",
            "name_en",
            "description",
            "source",
            "org_unit_kinds",
            "classifications",
            "levels",
            "follow_up",
        },
        {"format", "name", "levels"},
    )
    if "format" in top and top["format"] != FORMAT:
        reader.error(
            ("format",),
            _("unknown format %(value)r; expected %(format)r")
            % {"value": top["format"], "format": FORMAT},
        )
    spec = ModelSpec(
        name=reader.text(top, "name", (), max_length=150),
        name_en=reader.text(top, "name_en", (), max_length=150),
        description=reader.text(top, "description", ()),
        source=reader.text(top, "source", ()),
    )
    kinds = {key for key, _sv, _en in BUILTIN_KINDS}
    for index, raw in enumerate(_list(reader, top, "org_unit_kinds")):
        path: Path = ("org_unit_kinds", index)
        data = reader.mapping(raw, path, {"key", "name", "name_en"}, {"key", "name"})
        kind = KindSpec(
            reader.key(data, path),
            reader.text(data, "name", path, max_length=80),
            reader.text(data, "name_en", path, max_length=80),
        )
        if kind.key in kinds:
            reader.error((*path, "key"), _("the kind %(key)r is defined twice") % {"key": kind.key})
        kinds.add(kind.key)
        spec.org_unit_kinds.append(kind)
    for index, raw in enumerate(_list(reader, top, "classifications")):
        spec.classifications.append(_classification(reader, raw, ("classifications", index)))
    _unique(reader, [(c.key, ("classifications", i)) for i, c in enumerate(spec.classifications)])
    classification_keys = {c.key for c in spec.classifications}
    raw_levels = _list(reader, top, "levels")
    if "levels" in top and not raw_levels:
        reader.error(("levels",), _("a model needs at least one level"))
    for index, raw in enumerate(raw_levels):
        spec.levels.append(_level(reader, raw, ("levels", index), kinds, classification_keys))
    _unique(reader, [(lv.key, ("levels", i)) for i, lv in enumerate(spec.levels)])
    level_keys = {lv.key for lv in spec.levels}
    for index, level in enumerate(spec.levels):
        for link_index, target in enumerate(level.links_to):
            if target not in level_keys:
                reader.error(
                    ("levels", index, "links_to", link_index),
                    _("unknown level %(key)r") % {"key": target},
                )
        for field_name, keys in (("links_to", level.links_to), ("owners", level.owners)):
            for dup_index, key in enumerate(keys):
                if key in keys[:dup_index]:
                    reader.error(
                        ("levels", index, field_name, dup_index),
                        _("%(key)r is named twice") % {"key": key},
                    )
        if level.link_required and not [k for k in level.links_to if k != level.key]:
            reader.error(
                ("levels", index, "link_required"),
                _("an upward link is required but links_to names no level above this one"),
            )
    for index, raw in enumerate(_list(reader, top, "follow_up")):
        spec.follow_up.append(_follow_up(reader, raw, ("follow_up", index), kinds, level_keys))
    _unique(reader, [(f.key, ("follow_up", i)) for i, f in enumerate(spec.follow_up)])
    if reader.problems:
        raise FileProblems(reader.problems)
    return spec


def _list(reader: _Reader, data: dict, key: str) -> list:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        reader.error((key,), _("expected a list"))
        return []
    return value


def _unique(reader: _Reader, keyed: list[tuple[str, Path]]) -> None:
    seen: set[str] = set()
    for key, path in keyed:
        if key and key in seen:
            reader.error((*path, "key"), _("the key %(key)r is used twice") % {"key": key})
        seen.add(key)


def _classification(reader: _Reader, raw: Any, path: Path) -> ClassificationSpec:
    data = reader.mapping(
        raw,
        path,
        {"key", "name", "name_en", "kind", "multiple", "values"},
        {"key", "name", "values"},
    )
    kind = reader.text(data, "kind", path, ClassificationKind.CUSTOM)
    if kind not in ClassificationKind.values:
        reader.error(
            (*path, "kind"),
            _("unknown kind %(value)r; use one of %(choices)s")
            % {"value": kind, "choices": ", ".join(ClassificationKind.values)},
        )
    spec = ClassificationSpec(
        key=reader.key(data, path),
        name=reader.text(data, "name", path, max_length=80),
        name_en=reader.text(data, "name_en", path, max_length=80),
        kind=kind,
        multiple=reader.boolean(data, "multiple", path, True),
        values=[],
        line=reader.located.line(path),
    )
    values = data.get("values")
    if values == "standard":
        spec.standard = True
        if kind == ClassificationKind.AGENDA2030:
            spec.values = [
                ValueSpec(str(n), f"{n}. {sv}", f"{n}. {en}")
                for n, (sv, en) in enumerate(AGENDA_2030, start=1)
            ]
        elif kind == ClassificationKind.SUSTAINABILITY:
            spec.values = [ValueSpec(key, sv, en) for key, sv, en in SUSTAINABILITY]
        else:
            reader.error(
                (*path, "values"),
                _("'standard' values exist only for the kinds agenda2030 and sustainability"),
            )
    elif isinstance(values, list):
        if not values:
            reader.error((*path, "values"), _("a classification needs at least one value"))
        for index, raw_value in enumerate(values):
            vpath: Path = (*path, "values", index)
            vdata = reader.mapping(
                raw_value, vpath, {"key", "name", "name_en", "description"}, {"key", "name"}
            )
            value_key = reader.text(vdata, "key", vpath)
            if value_key and not KEY_RE.match(value_key):
                reader.error(
                    (*vpath, "key"), _("%(value)r is not a valid key") % {"value": value_key}
                )
            spec.values.append(
                ValueSpec(
                    value_key,
                    reader.text(vdata, "name", vpath, max_length=150),
                    reader.text(vdata, "name_en", vpath, max_length=150),
                    reader.text(vdata, "description", vpath),
                )
            )
        _unique(reader, [(v.key, (*path, "values", i)) for i, v in enumerate(spec.values)])
    elif "values" in data:
        reader.error((*path, "values"), _("expected a list of values or 'standard'"))
    return spec


def _level(
    reader: _Reader, raw: Any, path: Path, kinds: set[str], classification_keys: set[str]
) -> LevelSpec:
    data = reader.mapping(
        raw,
        path,
        {
            "key",
            "name",
            "plural",
            "name_en",
            "plural_en",
            "description",
            "owners",
            "links_to",
            "link_required",
            "horizon",
            "assessed",
            "indicators",
            "assignment",
            "classifications",
        },
        {"key", "name", "plural", "owners"},
    )
    horizon = reader.text(data, "horizon", path, Horizon.PERIOD)
    if horizon not in Horizon.values:
        reader.error(
            (*path, "horizon"),
            _("unknown horizon %(value)r; use 'period' or 'year'") % {"value": horizon},
        )
    owners = reader.key_list(data, "owners", path)
    if "owners" in data and not owners:
        reader.error((*path, "owners"), _("name at least one kind of org unit that owns items"))
    for index, owner in enumerate(owners):
        if owner not in kinds:
            reader.error(
                (*path, "owners", index),
                _("unknown org unit kind %(key)r; known kinds are: %(kinds)s")
                % {"key": owner, "kinds": ", ".join(sorted(kinds))},
            )
    rules: dict[str, bool] = {}
    raw_rules = data.get("classifications", {}) or {}
    if not isinstance(raw_rules, dict):
        reader.error((*path, "classifications"), _("expected a mapping of classification to rule"))
        raw_rules = {}
    for key, rule in raw_rules.items():
        if key not in classification_keys:
            reader.error(
                (*path, "classifications", key), _("unknown classification %(key)r") % {"key": key}
            )
        if rule not in ("required", "optional"):
            reader.error(
                (*path, "classifications", key),
                _("write 'required' or 'optional', not %(value)r") % {"value": rule},
            )
        rules[key] = rule == "required"
    return LevelSpec(
        key=reader.key(data, path),
        name=reader.text(data, "name", path, max_length=80),
        plural=reader.text(data, "plural", path, max_length=80),
        name_en=reader.text(data, "name_en", path, max_length=80),
        plural_en=reader.text(data, "plural_en", path, max_length=80),
        description=reader.text(data, "description", path),
        owners=owners,
        links_to=reader.key_list(data, "links_to", path),
        link_required=reader.boolean(data, "link_required", path),
        horizon=horizon,
        assessed=reader.boolean(data, "assessed", path),
        indicators=reader.boolean(data, "indicators", path),
        assignment=reader.boolean(data, "assignment", path),
        classifications=rules,
        line=reader.located.line(path),
    )


def _int_list(reader: _Reader, data: dict, key: str, path: Path, low: int, high: int) -> list[int]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        reader.error((*path, key), _("expected a list of whole numbers"))
        return []
    out: list[int] = []
    for index, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            reader.error(
                (*path, key, index),
                _("expected a whole number from %(low)s to %(high)s, not %(value)r")
                % {"low": low, "high": high, "value": number},
            )
        elif number in out:
            reader.error((*path, key, index), _("%(key)r is named twice") % {"key": number})
        else:
            out.append(number)
    return out


def _known_keys(
    reader: _Reader, keys: list[str], path: Path, known: set[str], message: str
) -> None:
    for index, key in enumerate(keys):
        if key not in known:
            reader.error(
                (*path, index),
                message % {"key": key, "known": ", ".join(sorted(known))},
            )
        elif key in keys[:index]:
            reader.error((*path, index), _("%(key)r is named twice") % {"key": key})


def _follow_up(
    reader: _Reader, raw: Any, path: Path, kinds: set[str], level_keys: set[str]
) -> FollowUpSpec:
    data = reader.mapping(
        raw,
        path,
        {
            "key",
            "name",
            "name_en",
            "description",
            "months",
            "deadline_days",
            "reminders",
            "levels",
            "reporters",
            "economy",
            "indicators",
            "council_approval",
            "sections",
        },
        {"key", "name", "months", "reporters"},
    )
    unknown_kind = _("unknown org unit kind %(key)r; known kinds are: %(known)s")
    months = _int_list(reader, data, "months", path, 1, 12)
    if "months" in data and not months:
        reader.error((*path, "months"), _("name at least one month that ends a period"))
    deadline = data.get("deadline_days", 15)
    if isinstance(deadline, bool) or not isinstance(deadline, int) or not 0 <= deadline <= 120:
        reader.error(
            (*path, "deadline_days"),
            _("expected a whole number of days from 0 to 120, not %(value)r") % {"value": deadline},
        )
        deadline = 15
    levels = reader.key_list(data, "levels", path)
    _known_keys(reader, levels, (*path, "levels"), level_keys, _("unknown level %(key)r"))
    reporters = reader.key_list(data, "reporters", path)
    if "reporters" in data and not reporters:
        reader.error((*path, "reporters"), _("name at least one kind of org unit that reports"))
    _known_keys(reader, reporters, (*path, "reporters"), kinds, unknown_kind)
    sections: list[SectionSpec] = []
    for index, raw_section in enumerate(_list(reader, data, "sections")):
        spath: Path = (*path, "sections", index)
        sdata = reader.mapping(
            raw_section, spath, {"key", "name", "name_en", "reporters"}, {"key", "name"}
        )
        section_reporters = reader.key_list(sdata, "reporters", spath)
        _known_keys(reader, section_reporters, (*spath, "reporters"), set(reporters), unknown_kind)
        sections.append(
            SectionSpec(
                key=reader.key(sdata, spath),
                name=reader.text(sdata, "name", spath, max_length=80),
                name_en=reader.text(sdata, "name_en", spath, max_length=80),
                reporters=section_reporters,
            )
        )
    _unique(reader, [(s.key, (*path, "sections", i)) for i, s in enumerate(sections)])
    spec = FollowUpSpec(
        key=reader.key(data, path),
        name=reader.text(data, "name", path, max_length=80),
        name_en=reader.text(data, "name_en", path, max_length=80),
        description=reader.text(data, "description", path),
        months=sorted(months),
        deadline_days=deadline,
        reminders=sorted(_int_list(reader, data, "reminders", path, 0, 60), reverse=True),
        levels=levels,
        reporters=reporters,
        economy=reader.boolean(data, "economy", path),
        indicators=reader.boolean(data, "indicators", path, True),
        council_approval=reader.boolean(data, "council_approval", path),
        sections=sections,
        line=reader.located.line(path),
    )
    if not spec.levels and not spec.economy and not spec.sections:
        reader.error(
            path,
            _("a follow-up kind must assess a level, report the economy or have a section"),
        )
    return spec


def export_model(model: SteeringModel) -> str:
    """The model as a file in the documented format; importing it again changes nothing."""
    data: dict[str, Any] = {"format": FORMAT, "name": model.name}
    for key in ("name_en", "description", "source"):
        if getattr(model, key):
            data[key] = getattr(model, key)
    custom_kinds = [
        {"key": k.key, "name": k.name, **({"name_en": k.name_en} if k.name_en else {})}
        for k in model.municipality.kinds.filter(builtin=False)
    ]
    if custom_kinds:
        data["org_unit_kinds"] = custom_kinds
    classifications = []
    for c in model.classifications.prefetch_related("values"):
        entry: dict[str, Any] = {"key": c.key, "name": c.name}
        if c.name_en:
            entry["name_en"] = c.name_en
        entry["kind"] = c.kind
        entry["multiple"] = c.multiple
        entry["values"] = [
            {
                "key": v.key,
                "name": v.name,
                **({"name_en": v.name_en} if v.name_en else {}),
                **({"description": v.description} if v.description else {}),
            }
            for v in c.values.all()
        ]
        classifications.append(entry)
    if classifications:
        data["classifications"] = classifications
    levels = []
    for level in model.levels.prefetch_related(
        "owner_kinds", "parents", "classification_rules__classification"
    ):
        entry = {"key": level.key, "name": level.name, "plural": level.plural}
        for key in ("name_en", "plural_en", "description"):
            if getattr(level, key):
                entry[key] = getattr(level, key)
        entry["owners"] = [k.key for k in level.owner_kinds.all()]
        entry["links_to"] = [p.key for p in sorted(level.parents.all(), key=lambda p: p.order)]
        entry["link_required"] = level.link_required
        entry["horizon"] = level.horizon
        entry["assessed"] = level.assessed
        entry["indicators"] = level.has_indicators
        entry["assignment"] = level.is_assignment
        rules = {
            r.classification.key: "required" if r.required else "optional"
            for r in sorted(level.classification_rules.all(), key=lambda r: r.classification.order)
        }
        if rules:
            entry["classifications"] = rules
        levels.append(entry)
    data["levels"] = levels
    follow_up = []
    for kind in model.follow_up_kinds.prefetch_related("levels", "reporters"):
        entry = {"key": kind.key, "name": kind.name}
        for key in ("name_en", "description"):
            if getattr(kind, key):
                entry[key] = getattr(kind, key)
        entry["months"] = list(kind.months)
        entry["deadline_days"] = kind.deadline_days
        if kind.reminder_days:
            entry["reminders"] = list(kind.reminder_days)
        entry["levels"] = [lv.key for lv in sorted(kind.levels.all(), key=lambda lv: lv.order)]
        entry["reporters"] = [k.key for k in sorted(kind.reporters.all(), key=lambda k: k.order)]
        entry["economy"] = kind.economy
        entry["indicators"] = kind.indicators
        entry["council_approval"] = kind.council_approval
        if kind.sections:
            entry["sections"] = [
                {key: value for key, value in section.items() if value} for section in kind.sections
            ]
        follow_up.append(entry)
    if follow_up:
        data["follow_up"] = follow_up
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
