"""Each seed municipality's model loads from its file and matches its seed text.

The expectations below are read off the seed texts in ../shared/seeds (quoted per seed), so a
change to a preset that drifts from its seed fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rodtrad.organisations.models import OrgUnit
from rodtrad.steering import rules, services
from rodtrad.steering.demo import DEMOS, PRESETS, load_demo_file, load_preset
from rodtrad.steering.modelfile import parse_model
from rodtrad.steering.models import Level, PlanItem, PlanLink

# key: (owners, links_to, link_required, horizon, assessed, indicators, assignment)
Expected = dict[str, tuple[set[str], set[str], bool, str, bool, bool, bool]]

SEEDS: dict[str, tuple[str, str, Expected]] = {
    # 000 Vaggeryd: "utgår från vision och värdegrund"; "Kommunfullmäktiges övergripande mål";
    # "Nämnder och bolagens styrelser använder de övergripande målen som riktlinje för mål
    # kopplade till den egna verksamheten"; "Till de politiska målen finns kvalitetsindikatorer".
    "vaggeryd": (
        "0665",
        "Vaggeryds kommun",
        {
            "vision": ({"kommunfullmaktige"}, set(), False, "period", False, False, False),
            "overgripande-mal": (
                {"kommunfullmaktige"},
                {"vision"},
                True,
                "period",
                True,
                True,
                False,
            ),
            "verksamhetsmal": (
                {"kommunstyrelse", "namnd", "bolag"},
                {"overgripande-mal"},
                True,
                "year",
                True,
                True,
                False,
            ),
        },
    ),
    # 001 Heby: "Utifrån visionen beslutar fullmäktige om inriktningar. Utifrån inriktningarna
    # beslutar nämnderna om effektmål"; "aktiviteter som leder oss till goda resultat".
    "heby": (
        "0331",
        "Heby kommun",
        {
            "vision": ({"kommunfullmaktige"}, set(), False, "period", False, False, False),
            "inriktning": ({"kommunfullmaktige"}, {"vision"}, True, "period", False, False, False),
            "effektmal": (
                {"kommunstyrelse", "namnd"},
                {"inriktning"},
                True,
                "period",
                True,
                True,
                False,
            ),
            "aktivitet": (
                {"forvaltning", "enhet"},
                {"effektmal"},
                True,
                "year",
                True,
                False,
                False,
            ),
        },
    ),
    # 002 Botkyrka: flerårsplan with KF goals; "nämndspecifika mål och åtaganden kopplade till
    # fullmäktiges mål"; "Enheternas åtaganden"; "Enheterna kan även ange egna specifika mål".
    "botkyrka": (
        "0127",
        "Botkyrka kommun",
        {
            "overgripande-mal": ({"kommunfullmaktige"}, set(), False, "period", True, False, False),
            "namndmal": (
                {"kommunstyrelse", "namnd"},
                {"overgripande-mal"},
                True,
                "period",
                True,
                True,
                False,
            ),
            "namndens-atagande": (
                {"kommunstyrelse", "namnd"},
                {"overgripande-mal", "namndmal"},
                True,
                "year",
                True,
                False,
                False,
            ),
            "enhetens-atagande": (
                {"enhet"},
                {"namndmal", "namndens-atagande"},
                True,
                "year",
                True,
                False,
                False,
            ),
            "enhetens-mal": (
                {"enhet"},
                {"namndmal", "namndens-atagande"},
                False,
                "year",
                True,
                False,
                False,
            ),
        },
    ),
    # 003 Kramfors: vision -> perspectives with an inriktningsmål each -> kommunövergripande
    # mål (decided yearly in the budget) -> nämndmål (verksamhetsplaner each autumn) ->
    # aktiviteter.
    "kramfors": (
        "2282",
        "Kramfors kommun",
        {
            "vision": ({"kommunfullmaktige"}, set(), False, "period", False, False, False),
            "inriktningsmal": (
                {"kommunfullmaktige"},
                {"vision"},
                True,
                "period",
                False,
                False,
                False,
            ),
            "kommunovergripande-mal": (
                {"kommunfullmaktige"},
                {"inriktningsmal"},
                True,
                "year",
                True,
                True,
                False,
            ),
            "namndmal": (
                {"namnd", "kommunstyrelse"},
                {"kommunovergripande-mal"},
                True,
                "year",
                True,
                False,
                False,
            ),
            "aktivitet": (
                {"namnd", "kommunstyrelse", "forvaltning", "enhet"},
                {"namndmal"},
                True,
                "year",
                False,
                False,
                False,
            ),
        },
    ),
    # 004 Nynäshamn: vision -> effektmål for the end of the 4-year period with indicators ->
    # the boards' "mål, åtaganden och aktiviteter"; KF "ger nämnder och verksamheter uppdrag".
    "nynashamn": (
        "0192",
        "Nynäshamns kommun",
        {
            "vision": ({"kommunfullmaktige"}, set(), False, "period", False, False, False),
            "effektmal": ({"kommunfullmaktige"}, {"vision"}, True, "period", True, True, False),
            "namndmal": (
                {"namnd", "kommunstyrelse"},
                {"effektmal"},
                True,
                "year",
                True,
                False,
                False,
            ),
            "atagande": (
                {"namnd", "kommunstyrelse", "forvaltning"},
                {"namndmal"},
                True,
                "year",
                True,
                False,
                False,
            ),
            "aktivitet": (
                {"forvaltning", "enhet"},
                {"atagande"},
                True,
                "year",
                False,
                False,
                False,
            ),
            "uppdrag": (
                {"namnd", "kommunstyrelse", "bolag"},
                {"effektmal"},
                False,
                "year",
                False,
                False,
                True,
            ),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_preset_levels_owners_and_links_match_the_seed(db: None, name: str) -> None:
    code, municipality_name, expected = SEEDS[name]
    municipality = services.municipality_create(code=code, name=municipality_name)
    load_preset(name, municipality)
    levels = Level.objects.filter(model__municipality=municipality).prefetch_related(
        "owner_kinds", "parents"
    )
    assert [level.key for level in levels] == list(expected)
    for level in levels:
        actual = (
            {k.key for k in level.owner_kinds.all()},
            {p.key for p in level.parents.all()},
            level.link_required,
            level.horizon,
            level.assessed,
            level.has_indicators,
            level.is_assignment,
        )
        assert actual == expected[level.key], level.key


def test_kramfors_perspectives_are_required_and_single(db: None) -> None:
    municipality = services.municipality_create(code="2282", name="Kramfors kommun")
    load_preset("kramfors", municipality)
    perspective = municipality.steering_model.classifications.get(key="perspektiv")
    assert [v.name for v in perspective.values.all()] == [
        "Kramforsbon",
        "Processer",
        "Medarbetare",
        "Ekonomi",
    ]
    assert not perspective.multiple
    required = {r.level.key for r in perspective.level_rules.filter(required=True)}
    assert required == {"inriktningsmal", "kommunovergripande-mal", "namndmal"}


def test_vaggeryd_reports_by_target_group(db: None) -> None:
    municipality = services.municipality_create(code="0665", name="Vaggeryds kommun")
    load_preset("vaggeryd", municipality)
    target_groups = municipality.steering_model.classifications.get(kind="target_group")
    assert target_groups.values.count() >= 5


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_preset_file_parses(name: str) -> None:
    spec = parse_model((PRESETS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert spec.levels


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_demo_plan_passes_the_models_own_validation(db: None, name: str) -> None:
    municipality = load_demo_file(DEMOS / f"{name}.yaml")
    assert municipality is not None
    assert rules.validate_plan(municipality) == []
    levels = list(Level.objects.filter(model__municipality=municipality))
    for level in levels:
        assert PlanItem.objects.filter(level=level).exists(), f"no demo items at {level.key}"
    assert OrgUnit.objects.filter(municipality=municipality).count() >= 25
    # Loading again changes nothing.
    assert load_demo_file(DEMOS / f"{name}.yaml") is None


def test_nynashamn_every_board_contributes_to_every_council_goal(db: None) -> None:
    municipality = load_demo_file(DEMOS / "nynashamn.yaml")
    assert municipality is not None
    goals = PlanItem.objects.filter(municipality=municipality, level__key="effektmal")
    boards = OrgUnit.objects.filter(
        municipality=municipality, kind__key__in=["namnd", "kommunstyrelse"]
    )
    for goal in goals:
        contributing = set(
            PlanLink.objects.filter(to_item=goal).values_list("from_item__owner", flat=True)
        )
        assert {b.pk for b in boards} <= contributing, goal.title


def test_the_docs_example_is_none_of_the_five_and_loads_without_code(db: None) -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "examples" / "exempelkommun.yaml"
    spec = parse_model(path.read_text(encoding="utf-8"))
    municipality = services.municipality_create(code="9999", name="Exempelkommun")
    services.steering_model_import(municipality=municipality, spec=spec, user=None)
    keys = [lv.key for lv in Level.objects.filter(model__municipality=municipality)]
    assert all(keys != list(expected) for _c, _n, expected in SEEDS.values())
    assert municipality.kinds.filter(builtin=False).exists()
