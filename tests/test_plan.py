"""The thread's rules: forbidden links, required links, stale edits, audit, rollover, gaps."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from rodtrad.organisations.models import AuditEvent, OrgUnit
from rodtrad.steering import rules, services
from rodtrad.steering.models import ClassificationValue, PlanItem, PlanLink, PlanYear
from tests.conftest import World


def new_item(
    world: World,
    level: str,
    owner: OrgUnit,
    title: str,
    parents: list[PlanItem],
    values: list[ClassificationValue] | None = None,
    year: bool = True,
) -> PlanItem:
    return services.plan_item_create(
        user=world.editor_a,
        level=world.level(level),
        owner=owner,
        period=world.period,
        plan_year=world.year if year else None,
        data={"title": title},
        parents=parents,
        values=values or [],
    )


def council_goal_of_2025(world: World) -> PlanItem:
    """A council goal in a closed year 2025 of the world's plan period."""
    year_2025 = PlanYear.objects.create(period=world.period, year=2025, status="closed")
    return services.plan_item_create(
        user=None,
        level=world.level("kommunovergripande-mal"),
        owner=world.kf,
        period=world.period,
        plan_year=year_2025,
        data={"title": "Mål 2025"},
        parents=[world.direction],
        values=[world.value("perspektiv", "kramforsbon")],
    )


def test_a_link_to_a_level_the_model_does_not_allow_is_refused(world: World) -> None:
    with pytest.raises(services.PlanError) as info:
        services.plan_link_add(
            user=world.editor_a, from_item=world.activity_a, to_item=world.council_goal
        )
    activity, goal = world.level("aktivitet"), world.level("namndmal")
    council = world.level("kommunovergripande-mal")
    assert info.value.messages == [
        f"In this steering model, items at the level {activity} contribute to {goal}, "
        f"not to {council}."
    ]
    assert not PlanLink.objects.filter(
        from_item=world.activity_a, to_item=world.council_goal
    ).exists()


def test_a_link_across_municipalities_is_refused(world: World) -> None:
    with pytest.raises(services.PlanError, match="different municipalities"):
        services.plan_link_add(
            user=world.admin, from_item=world.direction, to_item=world.other_vision
        )


def test_a_link_that_closes_a_circle_is_refused(world: World) -> None:
    # Let board goals contribute to board goals, so that a circle becomes possible.
    level = world.level("namndmal")
    level.parents.add(level)
    services.plan_link_add(user=world.admin, from_item=world.goal_b, to_item=world.goal_a)
    with pytest.raises(services.PlanError, match="close a circle"):
        services.plan_link_add(user=world.admin, from_item=world.goal_a, to_item=world.goal_b)


def test_a_link_between_years_is_refused(world: World) -> None:
    council_2025 = council_goal_of_2025(world)
    with pytest.raises(services.PlanError, match=r"is for 2026 but .* is for 2025"):
        services.plan_link_add(user=world.admin, from_item=world.goal_a, to_item=council_2025)


def test_a_duplicate_link_is_refused(world: World) -> None:
    with pytest.raises(services.PlanError, match="already contributes"):
        services.plan_link_add(
            user=world.editor_a, from_item=world.goal_a, to_item=world.council_goal
        )


def test_a_required_link_must_be_given_when_creating(world: World) -> None:
    count = PlanItem.objects.count()
    with pytest.raises(services.PlanError, match="must contribute to at least one of: Board goal"):
        new_item(world, "aktivitet", world.school, "Utan koppling", [])
    assert PlanItem.objects.count() == count


def test_the_owner_must_be_of_a_kind_the_level_allows(world: World) -> None:
    with pytest.raises(
        services.PlanError,
        match=re.escape(
            "are owned by: Municipal council. Barn- och utbildningsnämnden is of the kind Board."
        ),
    ):
        new_item(
            world,
            "kommunovergripande-mal",
            world.board_a,
            "Fel ägare",
            [world.direction],
            [world.value("perspektiv", "kramforsbon")],
        )


def test_required_and_single_classifications(world: World) -> None:
    with pytest.raises(services.PlanError, match="must have a value for Perspective"):
        new_item(world, "namndmal", world.board_a, "Utan perspektiv", [world.council_goal])
    both = [world.value("perspektiv", "kramforsbon"), world.value("perspektiv", "ekonomi")]
    with pytest.raises(services.PlanError, match="Choose only one value for Perspective"):
        new_item(world, "namndmal", world.board_a, "Två perspektiv", [world.council_goal], both)


def test_a_one_year_level_needs_a_year(world: World) -> None:
    with pytest.raises(services.PlanError, match="are set for one year: choose the year"):
        new_item(world, "aktivitet", world.school, "Utan år", [world.goal_a], year=False)


def test_the_last_required_link_cannot_be_removed(world: World) -> None:
    with pytest.raises(services.PlanError, match="this is its only link"):
        services.plan_link_remove(
            user=world.editor_a, from_item=world.activity_a, to_item=world.goal_a
        )
    assert world.activity_a.contributes_to.get() == world.goal_a


def test_links_are_audited_with_before_and_after(world: World) -> None:
    second = new_item(
        world,
        "namndmal",
        world.board_a,
        "Andra målet",
        [world.council_goal],
        [world.value("perspektiv", "kramforsbon")],
    )
    services.plan_link_add(user=world.editor_a, from_item=world.activity_a, to_item=second)
    services.plan_link_remove(user=world.editor_a, from_item=world.activity_a, to_item=world.goal_a)
    events = AuditEvent.objects.filter(object_id=str(world.activity_a.pk)).order_by("id")
    assert [e.action for e in events] == ["create", "link", "unlink"]
    assert events[1].user == world.editor_a
    assert events[1].after == {"contributes_to": {"id": second.pk, "title": "Andra målet"}}
    assert events[2].before == {
        "contributes_to": {"id": world.goal_a.pk, "title": world.goal_a.title}
    }


def test_a_stale_edit_is_refused_and_the_first_save_survives(world: World) -> None:
    item = PlanItem.objects.get(pk=world.goal_a.pk)
    version = item.version
    services.plan_item_update(
        user=world.editor_a, item=item, expected_version=version, data={"title": "Först sparat"}
    )
    with pytest.raises(services.StaleEdit, match="changed by someone else"):
        services.plan_item_update(
            user=world.admin, item=item, expected_version=version, data={"title": "Sent sparat"}
        )
    item.refresh_from_db()
    assert item.title == "Först sparat"
    event = AuditEvent.objects.filter(action="update", object_id=str(item.pk)).get()
    assert event.before == {"title": "Alla elever når målen i svenska"}
    assert event.after == {"title": "Först sparat"}


def test_a_stale_edit_through_the_form_shows_a_clear_message(world: World) -> None:
    client = world.client(world.editor_a)
    url = reverse("steering:item_edit", args=["2282", world.activity_a.pk])
    form = {
        "owner": world.school.pk,
        "plan_year": world.year.pk,
        "title": "Ny titel",
        "status": "active",
        "version": world.activity_a.version,
    }
    assert client.post(url, form).status_code == 302
    form["title"] = "Min titel"
    response = client.post(url, form)
    assert response.status_code == 409
    assert "ändrades av någon annan" in response.content.decode()
    world.activity_a.refresh_from_db()
    assert world.activity_a.title == "Ny titel"


def test_creating_through_the_form_links_and_classifies(world: World) -> None:
    client = world.client(world.editor_a)
    url = reverse("steering:item_create", args=["2282"]) + "?level=namndmal"
    response = client.post(
        url,
        {
            "level": "namndmal",
            "owner": world.board_a.pk,
            "plan_year": world.year.pk,
            "title": "Fler läser böcker",
            "status": "active",
            "parents": [world.council_goal.pk],
            "class_perspektiv": world.value("perspektiv", "kramforsbon").pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item = PlanItem.objects.get(title="Fler läser böcker")
    assert list(item.contributes_to.all()) == [world.council_goal]
    assert item.classifications.get().key == "kramforsbon"


def test_a_refused_form_says_why(world: World) -> None:
    client = world.client(world.editor_a)
    url = reverse("steering:item_create", args=["2282"]) + "?level=aktivitet"
    response = client.post(
        url,
        {
            "level": "aktivitet",
            "owner": world.school.pk,
            "plan_year": world.year.pk,
            "title": "X",
            "status": "active",
        },
    )
    assert response.status_code == 422
    assert not PlanItem.objects.filter(title="X").exists()


def test_link_add_through_htmx_returns_the_links_section(world: World) -> None:
    second = new_item(
        world,
        "namndmal",
        world.board_a,
        "Andra målet",
        [world.council_goal],
        [world.value("perspektiv", "kramforsbon")],
    )
    client = world.client(world.editor_a)
    url = reverse("steering:link_add", args=["2282", world.activity_a.pk])
    response = client.post(
        url, {"to_item": second.pk, "version": world.activity_a.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="links"' in response.content.decode()
    assert "Andra målet" in response.content.decode()
    stale = client.post(url, {"to_item": world.goal_a.pk, "version": 1}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409


def test_delete_is_refused_while_items_contribute(world: World) -> None:
    with pytest.raises(services.PlanError, match="1 item contributes"):
        services.plan_item_delete(user=world.editor_a, item=world.goal_a)
    pk = world.activity_a.pk
    services.plan_item_delete(user=world.editor_a, item=world.activity_a)
    assert not PlanItem.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="delete", object_id=str(pk))
    assert event.before is not None
    assert event.before["title"] == "Läsombud på varje skola"
    assert event.before["contributes_to"] == [world.goal_a.pk]


def test_rollover_creates_a_planning_version_with_links(world: World) -> None:
    services.plan_period_create(
        user=None,
        municipality=world.kramfors,
        name="Mandatperioden 2027–2030",
        start_year=2027,
        end_year=2030,
    )
    with pytest.raises(services.PlanError, match="already exists"):
        services.plan_year_rollover(user=world.controller, source=world.year, target_year=2026)
    target = services.plan_year_rollover(user=world.controller, source=world.year, target_year=2027)
    assert target.status == "planning"
    assert target.period.start_year == 2027
    copies = PlanItem.objects.filter(period=target.period)
    # One-year items and the period's items are copied into the new period.
    assert copies.count() == PlanItem.objects.filter(period=world.period).count()
    activity = copies.get(copied_from=world.activity_a)
    assert activity.plan_year == target
    assert activity.contributes_to.get().copied_from == world.goal_a
    assert rules.validate_plan(world.kramfors) == []
    # Adoption records the decision.
    services.plan_year_adopt(
        user=world.admin,
        plan_year=target,
        decided_by="KF",
        decided_on=datetime.date(2026, 11, 20),
        paragraph="§ 101",
    )
    target.refresh_from_db()
    assert (target.status, target.decision_paragraph) == ("adopted", "§ 101")
    with pytest.raises(services.PlanError, match="Only a planning version"):
        services.plan_year_adopt(
            user=world.admin,
            plan_year=target,
            decided_by="KF",
            decided_on=datetime.date(2026, 11, 20),
            paragraph="§ 1",
        )


def test_rollover_within_a_period_keeps_links_to_period_items(world: World) -> None:
    council = council_goal_of_2025(world)
    year_2025 = council.plan_year
    assert year_2025 is not None
    PlanYear.objects.filter(pk=world.year.pk).update(year=2024)  # free 2026 for the rollover
    target = services.plan_year_rollover(user=world.controller, source=year_2025, target_year=2026)
    copy = PlanItem.objects.get(copied_from=council)
    assert copy.plan_year == target
    assert copy.contributes_to.get() == world.direction  # the period's item, not a copy


def test_gaps_find_unsupported_unlinked_and_missing_links(world: World) -> None:
    lonely = new_item(
        world,
        "kommunovergripande-mal",
        world.kf,
        "Ingen bidrar",
        [world.direction],
        [world.value("perspektiv", "ekonomi")],
    )
    # A required link that went missing (e.g. data from before a model change).
    PlanLink.objects.filter(from_item=world.goal_b).delete()
    gaps = {g.unit.name: g for g in rules.find_gaps(world.kramfors, world.period, world.year)}
    assert lonely in gaps["Kommunfullmäktige"].unsupported
    assert world.goal_b in gaps["Omsorgsnämnden"].missing_required
    response = world.client(world.reader).get(reverse("steering:gaps", args=["2282"]))
    page = response.content.decode()
    assert "Ingen bidrar" in page and "Äldre känner sig trygga" in page
    within = rules.find_gaps(world.kramfors, world.period, world.year, within=world.board_a)
    assert within == []


def test_the_world_plan_is_valid(world: World) -> None:
    assert rules.validate_plan(world.kramfors) == []


def test_rollover_leaves_done_items_behind(world: World) -> None:
    PlanItem.objects.filter(pk=world.activity_a.pk).update(status="done")
    PlanYear.objects.filter(pk=world.year.pk).update(year=2025)
    world.year.refresh_from_db()
    target = services.plan_year_rollover(user=world.controller, source=world.year, target_year=2026)
    copied = set(PlanItem.objects.filter(plan_year=target).values_list("copied_from", flat=True))
    assert world.activity_a.pk not in copied
    assert world.goal_a.pk in copied and world.council_goal.pk in copied
    event = AuditEvent.objects.get(action="rollover")
    assert event.after == {"from": 2025, "to": 2026, "items": 3, "links": 3}
