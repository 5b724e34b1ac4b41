"""The `follow_up:` part of the model file: every problem names its line and key, a model
written out reads back the same, and a kind that has periods cannot be dropped by an import."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rodtrad.followup import services as followup_services
from rodtrad.followup.models import FollowUpPeriod
from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.models import AuditEvent, Municipality
from rodtrad.steering import services
from rodtrad.steering.demo import PRESETS, load_preset
from rodtrad.steering.modelfile import (
    FollowUpSpec,
    ModelSpec,
    SectionSpec,
    export_model,
    parse_model,
    problem_text,
)
from rodtrad.steering.models import FollowUpKind, SteeringModel
from tests.conftest import World

GOOD = """\
format: rodtrad/styrmodell-1
name: Testmodell
levels:
  - key: mal
    name: Mål
    plural: Mål
    owners: [kommunfullmaktige, namnd]
    assessed: true
  - key: aktivitet
    name: Aktivitet
    plural: Aktiviteter
    owners: [enhet]
    links_to: [mal]
follow_up:
  - key: tertial
    name: Tertialrapport
    name_en: Four-month report
    months: [8, 4]
    deadline_days: 15
    reminders: [1, 7]
    levels: [mal]
    reporters: [kommunfullmaktige, namnd]
    economy: true
    council_approval: true
    sections:
      - key: handelser
        name: Viktiga händelser
        reporters: [namnd]
  - key: manad
    name: Månadsuppföljning
    months: [1, 2, 3]
    reporters: [namnd]
    economy: true
    indicators: false
"""
KINDS = "bolag, enhet, forvaltning, kommunfullmaktige, kommunstyrelse, namnd, presidium, utskott"
ALLOWED = (
    "council_approval, deadline_days, description, economy, indicators, key, levels, months, "
    "name, name_en, reminders, reporters, sections"
)
PRESET_KINDS = {
    "botkyrka": ["delarsrapport", "arsredovisning"],
    "heby": ["delarsrapport", "arsredovisning"],
    "kramfors": ["delarsrapport", "arsredovisning"],
    "nynashamn": ["tertialrapport", "delarsrapport", "arsredovisning", "manadsuppfoljning"],
    "vaggeryd": ["tertialprognos", "delarsprognos", "arsredovisning", "aret-som-gatt"],
}
CODES = {"botkyrka": "0127", "heby": "0331", "kramfors": "2282", "nynashamn": "0192"}


def problems(text: str) -> list[str]:
    with pytest.raises(FileProblems) as info:
        parse_model(text)
    return [problem_text(p) for p in info.value.problems]


def changed(*replacements: tuple[str, str]) -> str:
    text = GOOD
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def without_lines(kinds: list[FollowUpSpec]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(k) | {"line": None} for k in kinds]


# --- Parsing --------------------------------------------------------------------------------


def test_a_good_follow_up_parses() -> None:
    spec = parse_model(GOOD)
    assert spec.follow_up == [
        FollowUpSpec(
            key="tertial",
            name="Tertialrapport",
            name_en="Four-month report",
            months=[4, 8],  # in order, whatever the file's
            deadline_days=15,
            reminders=[7, 1],  # the earliest reminder first
            levels=["mal"],
            reporters=["kommunfullmaktige", "namnd"],
            economy=True,
            indicators=True,
            council_approval=True,
            sections=[SectionSpec(key="handelser", name="Viktiga händelser", reporters=["namnd"])],
            line=15,
        ),
        FollowUpSpec(
            key="manad",
            name="Månadsuppföljning",
            months=[1, 2, 3],
            deadline_days=15,  # the default
            reporters=["namnd"],
            economy=True,
            indicators=False,
            line=29,
        ),
    ]


def test_follow_up_is_optional() -> None:
    spec = parse_model(GOOD.split("follow_up:")[0])
    assert spec.follow_up == []


def _kind_unknown(key: str, known: str = KINDS) -> str:
    return f"unknown org unit kind '{key}'; known kinds are: {known}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("levels: [mal]", "levels: [mal, malet]"),
            ["line 21, follow_up[0].levels[1]: unknown level 'malet'"],
        ),
        (
            ("levels: [mal]", "levels: [mal, mal]"),
            ["line 21, follow_up[0].levels[1]: 'mal' is named twice"],
        ),
        (
            ("reporters: [kommunfullmaktige, namnd]", "reporters: [kommunfullmaktige, namd]"),
            [
                f"line 22, follow_up[0].reporters[1]: {_kind_unknown('namd')}",
                # the section's reporters must be among the kind's
                "line 28, follow_up[0].sections[0].reporters[0]: "
                + _kind_unknown("namnd", "kommunfullmaktige, namd"),
            ],
        ),
        (
            (
                "reporters: [kommunfullmaktige, namnd]",
                "reporters: [kommunfullmaktige, namnd, namnd]",
            ),
            ["line 22, follow_up[0].reporters[2]: 'namnd' is named twice"],
        ),
        (
            ("reporters: [kommunfullmaktige, namnd]", "reporters: []"),
            [
                "line 22, follow_up[0].reporters: name at least one kind of org unit that reports",
                "line 28, follow_up[0].sections[0].reporters[0]: " + _kind_unknown("namnd", ""),
            ],
        ),
        (
            (
                "    reporters: [namnd]\n    economy: true\n    indicators",
                "    economy: true\n    indicators",
            ),
            ["line 29, follow_up[1]: the key 'reporters' is missing"],
        ),
        (
            ("months: [8, 4]", "months: [8, 13]"),
            ["line 18, follow_up[0].months[1]: expected a whole number from 1 to 12, not 13"],
        ),
        (
            ("months: [8, 4]", "months: [0, 4]"),
            ["line 18, follow_up[0].months[0]: expected a whole number from 1 to 12, not 0"],
        ),
        (
            ("months: [8, 4]", "months: [8, 4, 8]"),
            ["line 18, follow_up[0].months[2]: 8 is named twice"],
        ),
        (
            ("months: [8, 4]", "months: [augusti]"),
            [
                "line 18, follow_up[0].months[0]: expected a whole number from 1 to 12, not "
                "'augusti'",
                "line 18, follow_up[0].months: name at least one month that ends a period",
            ],
        ),
        (
            ("months: [8, 4]", "months: 8"),
            [
                "line 18, follow_up[0].months: expected a list of whole numbers",
                "line 18, follow_up[0].months: name at least one month that ends a period",
            ],
        ),
        (
            ("months: [8, 4]", "months: []"),
            ["line 18, follow_up[0].months: name at least one month that ends a period"],
        ),
        (
            ("    months: [1, 2, 3]\n", ""),
            ["line 29, follow_up[1]: the key 'months' is missing"],
        ),
        (
            ("deadline_days: 15", "deadline_days: 121"),
            [
                "line 19, follow_up[0].deadline_days: expected a whole number of days from 0 to "
                "120, not 121"
            ],
        ),
        (
            ("deadline_days: 15", "deadline_days: -1"),
            [
                "line 19, follow_up[0].deadline_days: expected a whole number of days from 0 to "
                "120, not -1"
            ],
        ),
        (
            ("deadline_days: 15", "deadline_days: två veckor"),
            [
                "line 19, follow_up[0].deadline_days: expected a whole number of days from 0 to "
                "120, not 'två veckor'"
            ],
        ),
        (
            ("deadline_days: 15", "deadline_days: true"),
            [
                "line 19, follow_up[0].deadline_days: expected a whole number of days from 0 to "
                "120, not True"
            ],
        ),
        (
            ("reminders: [1, 7]", "reminders: [1, 61]"),
            ["line 20, follow_up[0].reminders[1]: expected a whole number from 0 to 60, not 61"],
        ),
        (
            ("reminders: [1, 7]", "reminders: [7, 7]"),
            ["line 20, follow_up[0].reminders[1]: 7 is named twice"],
        ),
        (
            ("economy: true\n    indicators: false", "economy: false\n    indicators: false"),
            [
                "line 29, follow_up[1]: a follow-up kind must assess a level, report the economy "
                "or have a section"
            ],
        ),
        (
            ("economy: true\n    council", "economy: ja\n    council"),
            ["line 23, follow_up[0].economy: expected true or false, not 'ja'"],
        ),
        (
            ("        reporters: [namnd]", "        reporters: [enhet]"),
            [
                "line 28, follow_up[0].sections[0].reporters[0]: "
                + _kind_unknown("enhet", "kommunfullmaktige, namnd")
            ],
        ),
        (
            ("        reporters: [namnd]", "        reporters: [namnd, namnd]"),
            ["line 28, follow_up[0].sections[0].reporters[1]: 'namnd' is named twice"],
        ),
        (
            (
                "        reporters: [namnd]\n",
                "        reporters: [namnd]\n      - key: handelser\n        name: Igen\n",
            ),
            ["line 29, follow_up[0].sections[1].key: the key 'handelser' is used twice"],
        ),
        (
            ("        name: Viktiga händelser\n", ""),
            ["line 26, follow_up[0].sections[0]: the key 'name' is missing"],
        ),
        (
            ("key: manad", "key: tertial"),
            ["line 29, follow_up[1].key: the key 'tertial' is used twice"],
        ),
        (
            ("key: manad", "key: Manad"),
            [
                "line 29, follow_up[1].key: 'Manad' is not a valid key: use lower-case a–z, "
                "digits and '-'"
            ],
        ),
        (
            ("indicators: false", "indikatorer: false"),
            [
                f"line 34, follow_up[1].indikatorer: unknown key 'indikatorer'; allowed keys are: {ALLOWED}"
            ],
        ),
    ],
)
def test_every_follow_up_problem_names_its_line_and_key(
    change: tuple[str, str], expected: list[str]
) -> None:
    assert problems(changed(change)) == expected


def test_follow_up_must_be_a_list() -> None:
    text = GOOD.split("follow_up:")[0] + "follow_up: tertial\n"
    assert problems(text) == ["line 14, follow_up: expected a list"]


def test_every_problem_is_listed_at_once() -> None:
    found = problems(
        changed(
            ("months: [8, 4]", "months: [4, 13]"),
            ("levels: [mal]", "levels: [malet]"),
            ("deadline_days: 15", "deadline_days: 200"),
            ("key: manad", "key: tertial"),
        )
    )
    assert [f.split(":")[0] for f in found] == [
        "line 18, follow_up[0].months[1]",
        "line 19, follow_up[0].deadline_days",
        "line 21, follow_up[0].levels[0]",
        "line 29, follow_up[1].key",
    ]


# --- The presets ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRESET_KINDS))
def test_every_preset_parses_with_its_follow_up_kinds(name: str) -> None:
    spec = parse_model((PRESETS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert [k.key for k in spec.follow_up] == PRESET_KINDS[name]
    level_keys = {lv.key for lv in spec.levels}
    for kind in spec.follow_up:
        assert kind.months == sorted(kind.months) and kind.months
        assert kind.reminders == sorted(kind.reminders, reverse=True)
        assert set(kind.levels) <= level_keys
        assert kind.levels or kind.economy or kind.sections
        for section in kind.sections:
            assert set(section.reporters) <= set(kind.reporters)
        # The levels a kind assesses are the model's assessed levels.
        assessed = {lv.key for lv in spec.levels if lv.assessed}
        assert set(kind.levels) <= assessed, (kind.key, set(kind.levels) - assessed)


def test_the_presets_say_what_the_municipalities_do() -> None:
    def spec(name: str) -> dict[str, FollowUpSpec]:
        text = (PRESETS / f"{name}.yaml").read_text(encoding="utf-8")
        return {k.key: k for k in parse_model(text).follow_up}

    kramfors = spec("kramfors")
    assert (kramfors["delarsrapport"].months, kramfors["delarsrapport"].deadline_days) == ([8], 21)
    assert kramfors["delarsrapport"].council_approval and kramfors["delarsrapport"].economy
    monthly = spec("nynashamn")["manadsuppfoljning"]
    assert (monthly.months, monthly.levels, monthly.economy, monthly.indicators) == (
        [1, 2, 3, 5, 6, 9, 10, 11],
        [],
        True,
        False,
    )
    review = spec("vaggeryd")["aret-som-gatt"]
    assert (review.months, review.deadline_days, review.economy) == ([12], 31, False)
    assert [s.key for s in review.sections] == ["malgrupper"]
    assert not spec("vaggeryd")["tertialprognos"].council_approval


@pytest.mark.parametrize("name", sorted(PRESET_KINDS))
def test_a_preset_exports_and_reads_back_the_same(db: None, name: str) -> None:
    """Loaded, written out and read again: the same kinds; loaded from the export into another
    municipality and written out again: the same file."""
    municipality = services.municipality_create(code=CODES.get(name, "0684"), name=name)
    load_preset(name, municipality)
    kinds = FollowUpKind.objects.filter(model__municipality=municipality)
    assert [k.key for k in kinds] == PRESET_KINDS[name]
    exported = export_model(SteeringModel.objects.get(municipality=municipality))
    original = parse_model((PRESETS / f"{name}.yaml").read_text(encoding="utf-8"))
    again = parse_model(exported)
    assert without_lines(again.follow_up) == without_lines(original.follow_up)
    other = services.municipality_create(code="9998", name="Kopia")
    services.steering_model_import(municipality=other, spec=again, user=None)
    assert export_model(SteeringModel.objects.get(municipality=other)) == exported
    copied = {k.key: k for k in FollowUpKind.objects.filter(model__municipality=other)}
    for kind in kinds:
        copy = copied[kind.key]
        assert (copy.months, copy.deadline_days, copy.reminder_days, copy.sections) == (
            kind.months,
            kind.deadline_days,
            kind.reminder_days,
            kind.sections,
        )
        assert sorted(lv.key for lv in copy.levels.all()) == sorted(
            lv.key for lv in kind.levels.all()
        )
        assert sorted(k.key for k in copy.reporters.all()) == sorted(
            k.key for k in kind.reporters.all()
        )


def test_a_file_written_by_hand_reads_back_the_same(db: None) -> None:
    municipality = services.municipality_create(code="9997", name="Testkommun")
    spec = parse_model(GOOD)
    services.steering_model_import(municipality=municipality, spec=spec, user=None)
    exported = export_model(SteeringModel.objects.get(municipality=municipality))
    data = yaml.safe_load(exported)
    assert data["follow_up"][0] == {
        "key": "tertial",
        "name": "Tertialrapport",
        "name_en": "Four-month report",
        "months": [4, 8],
        "deadline_days": 15,
        "reminders": [7, 1],
        "levels": ["mal"],
        "reporters": ["kommunfullmaktige", "namnd"],
        "economy": True,
        "indicators": True,
        "council_approval": True,
        "sections": [{"key": "handelser", "name": "Viktiga händelser", "reporters": ["namnd"]}],
    }
    assert without_lines(parse_model(exported).follow_up) == without_lines(spec.follow_up)


# --- Importing over a model whose kinds have periods -------------------------------------------


def _without(text: str, key: str, **changes: Any) -> ModelSpec:
    data = yaml.safe_load(text)
    data["follow_up"] = [k for k in data["follow_up"] if k["key"] != key]
    for kind in data["follow_up"]:
        kind.update(changes)
    data["levels"][0]["name"] = "Omdöpt vision"
    return parse_model(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_dropping_a_kind_that_has_periods_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    followup_services.periods_generate(plan_year=w.year, user=w.admin)
    model = SteeringModel.objects.get(municipality=w.kramfors)
    before = export_model(model)
    audit = AuditEvent.objects.count()
    spec = _without(before, "arsredovisning", deadline_days=30)
    with pytest.raises(FileProblems) as info:
        services.steering_model_import(municipality=w.kramfors, spec=spec, user=w.admin)
    assert [problem_text(p) for p in info.value.problems] == [
        "the follow-up kind 'arsredovisning' is not in the file but has follow-up "
        "periods; keep it in the file"
    ]
    model = SteeringModel.objects.get(municipality=w.kramfors)
    assert export_model(model) == before
    assert model.version == 1
    assert [(k.key, k.deadline_days) for k in model.follow_up_kinds.all()] == [
        ("delarsrapport", 21),
        ("arsredovisning", 45),
    ]
    assert model.levels.get(key="vision").name == "Vision"
    assert FollowUpPeriod.objects.filter(municipality=w.kramfors).count() == 2
    assert AuditEvent.objects.count() == audit

    # Through the import page: the problem is shown, nothing changes.
    upload = SimpleUploadedFile(
        "modell.yaml",
        yaml.safe_dump(
            {**yaml.safe_load(before), "follow_up": yaml.safe_load(before)["follow_up"][:1]},
            allow_unicode=True,
            sort_keys=False,
        ).encode(),
    )
    client = Client()
    client.force_login(w.admin)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("steering:model_import", args=["2282"]), {"file": upload})
    assert response.status_code == 422
    assert "the follow-up kind &#x27;arsredovisning&#x27; is not in the file" in (
        response.content.decode()
    )
    assert export_model(SteeringModel.objects.get(municipality=w.kramfors)) == before


def test_a_kind_without_periods_may_be_dropped_and_one_with_periods_changed(
    world: World,
) -> None:
    w = world
    model = SteeringModel.objects.get(municipality=w.kramfors)
    services.steering_model_import(
        municipality=w.kramfors,
        spec=_without(export_model(model), "arsredovisning"),
        user=w.admin,
    )
    assert [k.key for k in FollowUpKind.objects.filter(model=model)] == ["delarsrapport"]
    (period,) = followup_services.periods_generate(plan_year=w.year, user=w.admin)
    # The kind with a period changes its deadline for periods to come; its period keeps its own.
    data = yaml.safe_load(export_model(SteeringModel.objects.get(pk=model.pk)))
    data["follow_up"][0]["deadline_days"] = 30
    services.steering_model_import(
        municipality=w.kramfors,
        spec=parse_model(yaml.safe_dump(data, allow_unicode=True, sort_keys=False)),
        user=w.admin,
    )
    assert FollowUpKind.objects.get(model=model, key="delarsrapport").deadline_days == 30
    assert FollowUpPeriod.objects.get(pk=period.pk).deadline == period.deadline
    event = AuditEvent.objects.filter(action="import").latest("pk")
    assert "deadline_days: 30" in (event.after or {})["file"]
    assert "deadline_days: 21" in (event.before or {})["file"]
    assert Municipality.objects.filter(code="2282").exists()
