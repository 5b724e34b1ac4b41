"""Indicators: the assessment rules, the roll-up along the thread, values, targets, file
import and overrides, through services and pages."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rodtrad.indicators import assessment, rollup, services
from rodtrad.indicators.assessment import MET, NOT_MET, PARTLY
from rodtrad.indicators.models import (
    AssessmentSettings,
    Indicator,
    IndicatorStatus,
    ItemRollup,
    StatusOverride,
    Target,
    Value,
    ValueImport,
)
from rodtrad.organisations.models import AuditEvent, User
from rodtrad.steering import services as steering_services
from tests.conftest import World

D = Decimal

# --- The rules on their own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "accepted", "direction", "expected"),
    [
        ("82", "82", None, "higher", MET),
        ("90", "82", None, "higher", MET),
        ("78", "82", None, "higher", PARTLY),  # within 10 % of the target
        ("73", "82", None, "higher", NOT_MET),
        ("79", "82", "80", "higher", NOT_MET),  # the accepted value replaces the tolerance
        ("80", "82", "80", "higher", PARTLY),
        ("4,5", "5", None, "lower", MET),
        ("5,4", "5", None, "lower", PARTLY),
        ("5,6", "5", None, "lower", NOT_MET),
        ("5,6", "5", "6", "lower", PARTLY),
        ("-1", "2", "0", "higher", NOT_MET),  # a result target: negative values work
        ("0,5", "2", "0", "higher", PARTLY),
        ("100,5", "100", None, "closest", MET),
        ("85", "100", None, "closest", PARTLY),
        ("97", "100", "98", "closest", MET),  # within the tolerance comes first
        ("75", "100", "90", "closest", NOT_MET),
    ],
)
def test_judge(
    value: str, target: str, accepted: str | None, direction: str, expected: str
) -> None:
    def num(text: str) -> float:
        return float(text.replace(",", "."))

    got = assessment.judge(
        num(value),
        num(target),
        num(accepted) if accepted else None,
        direction=direction,
        tolerance_pct=10.0,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("statuses", "rule", "expected"),
    [
        ([MET, PARTLY, NOT_MET], "worst", NOT_MET),
        ([MET, MET, PARTLY], "worst", PARTLY),
        ([MET, MET, NOT_MET], "majority", MET),
        ([MET, NOT_MET], "majority", NOT_MET),  # a tie goes to the worse
        ([MET, MET, MET, NOT_MET], "mean", MET),  # 0.75
        ([MET, NOT_MET], "mean", PARTLY),  # 0.5
        ([PARTLY, NOT_MET, NOT_MET], "mean", NOT_MET),  # 0.17
        (["", ""], "worst", ""),
        ([], "mean", ""),
    ],
)
def test_combine(statuses: list[str], rule: str, expected: str) -> None:
    assert assessment.combine([(s, 1) for s in statuses], rule) == expected


def test_weights_count_in_the_mean() -> None:
    assert assessment.combine([(MET, 3), (NOT_MET, 1)], "mean") == MET
    assert assessment.combine([(MET, 1), (NOT_MET, 4)], "mean") == NOT_MET


def test_projection_is_a_least_squares_line() -> None:
    points = [
        (float(datetime.date(y, 12, 31).toordinal()), v)
        for y, v in [(2021, 70.0), (2022, 72.0), (2023, 74.0), (2024, 76.0)]
    ]
    to = datetime.date(2026, 12, 31).toordinal()
    projected = assessment.project(points, to)
    assert projected is not None
    assert abs(projected - 80) < 0.05
    assert assessment.project(points[:2], to) is None


def _facts(
    series: list[tuple[int, str]], targets: list[assessment.TargetRow], **kwargs: object
) -> assessment.IndicatorFacts:
    facts = assessment.IndicatorFacts(
        id=1,
        title="Behörighet",
        direction=str(kwargs.get("direction", "higher")),
        has_targets=bool(kwargs.get("has_targets", True)),
        tolerance_pct=10.0,
    )
    facts.series = [(y, datetime.date(y, 12, 31), "year", 0, float(v)) for y, v in series]
    facts.targets = targets
    return facts


def test_the_latest_value_meets_its_years_target_or_the_period_end() -> None:
    end = assessment.TargetRow(None, 2023, 2026, 88.0, None)
    facts = _facts(
        [(2022, "80"), (2023, "82"), (2024, "85")],
        [assessment.TargetRow(2024, 2023, 2026, 84.0, 82.0), end],
    )
    judged = assessment.judge_indicator(facts, 2026)
    assert judged.status == MET
    assert judged.reasons["target"] == "84.0" and judged.reasons["label"] == "2024"
    # 2023 has no own target: the period-end target applies (82 is within 10 % of 88).
    early = assessment.judge_indicator(facts, 2023)
    assert (early.status, early.reasons["target"]) == (PARTLY, "88.0")
    facts.series.append((2025, datetime.date(2025, 12, 31), "year", 0, 84.0))
    judged = assessment.judge_indicator(facts, 2026)
    assert judged.status == PARTLY  # 84 against 88, within 10 %
    assert judged.projection is not None and judged.projection_year == 2026
    assert judged.warning is False  # on its way: projected about 86, partly
    falling = _facts([(2022, "80"), (2023, "76"), (2024, "72"), (2025, "70")], [end])
    warned = assessment.judge_indicator(falling, 2026)
    assert warned.status == NOT_MET and warned.warning


def test_key_figures_and_missing_data_get_no_status() -> None:
    assert (
        assessment.judge_indicator(_facts([(2024, "5")], [], has_targets=False), 2026).status == ""
    )
    assert assessment.judge_indicator(_facts([], []), 2026).reasons["why"] == "no_value"
    assert assessment.judge_indicator(_facts([(2024, "5")], []), 2026).reasons["why"] == (
        "no_target"
    )


def test_rollup_explains_itself() -> None:
    ok = _facts([(2025, "90")], [assessment.TargetRow(2025, 2023, 2026, 85.0, None)])
    bad = _facts([(2025, "50")], [assessment.TargetRow(2025, 2023, 2026, 85.0, None)])
    bad.id, bad.title = 2, "Nöjdhet"
    items = {
        10: assessment.ItemNode(10, "Fler klarar skolan", "kf", 2025, [1], [11]),
        11: assessment.ItemNode(11, "Läsning", "namnd", 2025, [1, 2], []),
    }
    result, _judged = assessment.rollup(
        items, {1: ok, 2: bad}, rule="worst", include_contributors=True
    )
    assert result[11].proposed == NOT_MET
    assert result[11].reasons["indicators"] == {"met": 1, "partly": 0, "not_met": 1, "none": 0}
    assert result[10].proposed == NOT_MET  # its contributor is red
    assert result[10].reasons["worst"][0]["title"] == "Läsning"
    items[11].override = MET
    result, _judged = assessment.rollup(
        items, {1: ok, 2: bad}, rule="worst", include_contributors=True
    )
    assert result[11].proposed == NOT_MET and result[11].status == MET
    assert result[10].proposed == MET  # the person's judgement travels up
    result, _judged = assessment.rollup(
        items, {1: ok, 2: bad}, rule="worst", include_contributors=False
    )
    assert result[10].proposed == MET


# --- Through the services ---------------------------------------------------------------------


def _indicator(w: World, **data: object) -> Indicator:
    base: dict[str, object] = {"title": "Andel behöriga till gymnasiet", "unit": "%", "owner": w.kf}
    base.update(data)
    return services.indicator_create(
        user=w.admin, municipality=w.kramfors, data=base, items=[w.council_goal]
    )


def _values(w: World, indicator: Indicator, series: dict[int, str]) -> None:
    services.values_write(
        user=w.admin,
        municipality=w.kramfors,
        source="manual",
        name="test",
        rows=[(indicator, services.ValueInput(y, "year", None, D(v))) for y, v in series.items()],
    )


def test_statuses_roll_up_the_thread_and_say_why(world: World) -> None:
    w = world
    indicator = _indicator(w)
    _values(w, indicator, {2023: "80", 2024: "81", 2025: "79"})
    services.targets_set(
        user=w.admin,
        indicator=indicator,
        rows=[
            services.TargetInput(w.period, 2025, D(85), D(80)),
            services.TargetInput(w.period, None, D(88), None),
        ],
    )
    rollup.ensure_fresh(w.kramfors)
    council = ItemRollup.objects.get(item=w.council_goal)
    assert council.proposed == NOT_MET  # 79 < accepted 80
    assert council.reasons["indicators"]["not_met"] == 1
    direction = ItemRollup.objects.get(item=w.direction)
    assert direction.proposed == NOT_MET
    assert direction.reasons["worst"][0]["title"] == w.council_goal.title
    status = IndicatorStatus.objects.get(indicator=indicator, year=2025)
    assert status.warning  # flat at about 80: the period-end target 88 is out of reach
    # A better value turns the thread; nothing recomputes until someone reads.
    services.value_set(
        user=w.admin,
        indicator=indicator,
        expected_version=1,
        row=services.ValueInput(2025, "year", None, D("86")),
    )
    assert ItemRollup.objects.get(item=w.direction).proposed == NOT_MET
    rollup.ensure_fresh(w.kramfors)
    assert ItemRollup.objects.get(item=w.direction).proposed == MET
    # A new contributing goal changes the roll-up through the plan's own signal.
    steering_services.plan_item_create(
        user=w.admin,
        level=w.level("namndmal"),
        owner=w.board_b,
        period=w.period,
        plan_year=w.year,
        data={"title": "Fler läser"},
        parents=[w.council_goal],
        values=[w.value("perspektiv", "kramforsbon")],
    )
    assert rollup.RollupState.objects.get(municipality=w.kramfors).computed < (
        rollup.RollupState.objects.get(municipality=w.kramfors).generation
    )


def test_an_override_needs_a_reason_and_keeps_the_proposal(world: World) -> None:
    w = world
    indicator = _indicator(w)
    _values(w, indicator, {2025: "60"})
    services.targets_set(
        user=w.admin, indicator=indicator, rows=[services.TargetInput(w.period, 2025, D(85), None)]
    )
    with pytest.raises(services.IndicatorError):
        services.status_override(user=w.admin, item=w.council_goal, status=MET, justification="  ")
    services.status_override(
        user=w.admin,
        item=w.council_goal,
        status=PARTLY,
        justification="Mätningen 2025 hade få svar.",
    )
    rollup.ensure_fresh(w.kramfors)
    state = ItemRollup.objects.get(item=w.council_goal)
    assert (state.proposed, state.status, state.overridden) == (NOT_MET, PARTLY, True)
    override = StatusOverride.objects.get(item=w.council_goal)
    assert override.proposed_status == NOT_MET
    assert AuditEvent.objects.filter(object_id=str(w.council_goal.pk), action="update").exists()


def test_a_stale_value_edit_is_refused_and_nothing_is_lost(world: World) -> None:
    w = world
    indicator = _indicator(w)
    first = services.value_set(
        user=w.editor_a,
        indicator=indicator,
        expected_version=None,
        row=services.ValueInput(2025, "year", None, D("70")),
    )
    services.value_set(
        user=w.admin,
        indicator=indicator,
        expected_version=first.version,
        row=services.ValueInput(2025, "year", None, D("71")),
    )
    with pytest.raises(services.StaleIndicatorEdit, match="someone else"):
        services.value_set(
            user=w.editor_a,
            indicator=indicator,
            expected_version=first.version,
            row=services.ValueInput(2025, "year", None, D("72")),
        )
    assert Value.objects.get(indicator=indicator).value == D("71")


def test_targets_are_checked(world: World) -> None:
    w = world
    indicator = _indicator(w)
    with pytest.raises(services.IndicatorError, match="better than the target"):
        services.targets_set(
            user=w.admin,
            indicator=indicator,
            rows=[services.TargetInput(w.period, 2025, D(80), D(85))],
        )
    with pytest.raises(services.IndicatorError, match="not a year of"):
        services.targets_set(
            user=w.admin,
            indicator=indicator,
            rows=[services.TargetInput(w.period, 2031, D(80), None)],
        )
    key_figure = _indicator(w, title="Invånare", kind="key_figure")
    with pytest.raises(services.IndicatorError, match="key figure"):
        services.targets_set(
            user=w.admin,
            indicator=key_figure,
            rows=[services.TargetInput(w.period, 2025, D(1), None)],
        )
    assert not Target.objects.exists()


def test_only_levels_that_carry_indicators_are_measured(world: World) -> None:
    w = world
    indicator = _indicator(w)
    with pytest.raises(services.IndicatorError, match="do not carry indicators"):
        services.indicator_link(user=w.admin, indicator=indicator, item=w.goal_a)
    with pytest.raises(services.IndicatorError, match="another municipality"):
        services.indicator_link(user=w.admin, indicator=indicator, item=w.other_vision)


# --- File import ------------------------------------------------------------------------------


def _post_file(w: World, user: User, name: str, content: bytes) -> Any:
    client = w.client(user)
    url = reverse("indicators:import", args=[w.kramfors.code])
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def test_csv_import_with_swedish_numbers_is_all_or_nothing(world: World) -> None:
    w = world
    indicator = _indicator(w, owner=w.board_a, title="Läsförståelse åk 3")
    good = (
        "Indikator;Period;Värde;Kommentar;Målvärde;Accepterat värde\r\n"
        f"{indicator.pk};2024;1\u00a0234,5;Ny mätmetod;;\r\n"
        f"Läsförståelse åk 3;2025;1 300,25;;1 400;1 350\r\n"
        f"{indicator.pk};2023–2026;;;1 500;\r\n"
    ).encode("cp1252")
    response = _post_file(w, w.editor_a, "varden.csv", good)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "2 nya värden" in response.content.decode()
    values = {v.year: v.value for v in Value.objects.filter(indicator=indicator)}
    assert values == {2024: D("1234.5"), 2025: D("1300.25")}
    assert Target.objects.get(indicator=indicator, year=2025).accepted_value == D(1350)
    assert Target.objects.get(indicator=indicator, year=None).value == D(1500)
    batches = ValueImport.objects.count()
    audit = AuditEvent.objects.count()
    # The same file again changes nothing at all.
    again = _post_file(w, w.editor_a, "varden.csv", good)
    assert "ingenting ändrades" in again.content.decode()
    assert (ValueImport.objects.count(), AuditEvent.objects.count()) == (batches, audit)
    # A row that only sets a target leaves the year's value alone.
    target_only = f"Indikator;Period;Värde;Målvärde\n{indicator.pk};2024;;1 250\n".encode()
    assert _post_file(w, w.editor_a, "mal.csv", target_only).status_code == 200
    assert Value.objects.get(indicator=indicator, year=2024).value == D("1234.5")
    assert Target.objects.get(indicator=indicator, year=2024).value == D(1250)
    # One bad row refuses the whole file and says where.
    bad = (
        "Indikator;Period;Värde\n"
        f"{indicator.pk};2022;17,5\n"
        f"{indicator.pk};2021;12,3,4\n"
        f"{indicator.pk};år 2020;5\n"
        "Finns inte;2020;5\n"
    ).encode()
    response = _post_file(w, w.editor_a, "fel.csv", bad)
    text = response.content.decode()
    assert response.status_code == 422
    assert "Rad 3, kolumn Värde" in text and "12,3,4" in text
    assert "Rad 4, kolumn Period" in text
    assert "Rad 5, kolumn Indikator" in text
    assert not Value.objects.filter(indicator=indicator, year=2022).exists()
    # An official of another board may not import into board A's indicator.
    response = _post_file(
        w, w.editor_b, "b.csv", f"Indikator;Period;Värde\n{indicator.pk};2022;1\n".encode()
    )
    assert response.status_code == 422
    assert "får inte ändra" in response.content.decode()
    assert not Value.objects.filter(indicator=indicator, year=2022).exists()


def test_xlsx_import_reads_numbers_and_text(world: World) -> None:
    w = world
    indicator = _indicator(
        w, owner=w.board_a, title="Sjukfrånvaro", by_gender=True, direction="lower"
    )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Indikator", "Period", "Kön", "Värde"])
    sheet.append([indicator.pk, 2024, "K", 8.9])
    sheet.append([indicator.pk, "2024", "M", "4,6"])
    sheet.append([indicator.pk, 2024, None, 7.9])
    sheet.append([indicator.pk, datetime.datetime(2025, 12, 31), None, 7.5])  # a date
    buffer = io.BytesIO()
    book.save(buffer)
    response = _post_file(w, w.editor_a, "sjuk.xlsx", buffer.getvalue())
    assert response.status_code == 200, response.content.decode()[:3000]
    got = {v.gender: v.value for v in Value.objects.filter(indicator=indicator, year=2024)}
    assert got == {"K": D("8.9"), "M": D("4.6"), "T": D("7.9")}
    assert Value.objects.get(indicator=indicator, year=2025).value == D("7.5")
    broken = _post_file(w, w.editor_a, "trasig.xlsx", b"not a zip at all")
    assert broken.status_code == 422
    assert "kunde inte läsas" in broken.content.decode()


# --- Pages ------------------------------------------------------------------------------------


def test_indicator_page_has_a_chart_and_the_same_data_as_a_table(world: World) -> None:
    w = world
    indicator = _indicator(w)
    _values(w, indicator, {2021: "70", 2022: "72", 2023: "74", 2024: "76"})
    services.targets_set(
        user=w.admin, indicator=indicator, rows=[services.TargetInput(w.period, None, D(85), D(80))]
    )
    response = w.client(w.reader).get(
        reverse("indicators:detail", args=[w.kramfors.code, indicator.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg viewBox="0 0 720 320" role="img" aria-labelledby="h-chart"' in html
    assert "series-projection" in html and "series-target" in html
    for text in ("70,0", "76,0", "85,0", "80,0", "(prognos)"):
        assert text in html, text
    assert "Prognosen missar målet" in html  # about 80 by 2026: below the target 85


def test_thread_and_item_page_show_status_with_explanation(world: World) -> None:
    w = world
    indicator = _indicator(w)
    _values(w, indicator, {2025: "90"})
    services.targets_set(
        user=w.admin, indicator=indicator, rows=[services.TargetInput(w.period, 2025, D(85), None)]
    )
    client = w.client(w.reader)
    thread = client.get(reverse("steering:thread", args=[w.kramfors.code])).content.decode()
    assert "Uppnått" in thread and "Varför?" in thread
    item = client.get(reverse("steering:item", args=[w.kramfors.code, w.council_goal.pk]))
    html = item.content.decode()
    assert "Indikatorer och bedömning" in html
    assert "1 av 1 indikator nådde sitt mål" in html


def test_settings_change_the_rule(world: World) -> None:
    w = world
    ok = _indicator(w, title="A")
    bad = _indicator(w, title="B")
    _values(w, ok, {2025: "90"})
    _values(w, bad, {2025: "10"})
    for indicator in (ok, bad):
        services.targets_set(
            user=w.admin,
            indicator=indicator,
            rows=[services.TargetInput(w.period, 2025, D(85), None)],
        )
    rollup.ensure_fresh(w.kramfors)
    assert ItemRollup.objects.get(item=w.council_goal).proposed == NOT_MET
    url = reverse("indicators:settings", args=[w.kramfors.code])
    response = w.client(w.admin).post(
        url, {"scale": "traffic", "tolerance_pct": "10,0", "rollup_rule": "mean", "version": 0}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AssessmentSettings.objects.get(model__municipality=w.kramfors).rollup_rule == "mean"
    rollup.ensure_fresh(w.kramfors)
    assert ItemRollup.objects.get(item=w.council_goal).proposed == PARTLY
    page = w.client(w.reader).get(
        reverse("steering:item", args=[w.kramfors.code, w.council_goal.pk])
    )
    assert "Gul" in page.content.decode()
    # A second admin with the old form is refused.
    stale = w.client(w.admin).post(
        url, {"scale": "achieved", "tolerance_pct": "10", "rollup_rule": "worst", "version": 0}
    )
    assert stale.status_code == 409
