"""Bad input found by review: each gives a clear refusal, never a crash or a broken plan."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.models import OrgUnit
from rodtrad.steering import rules, services
from rodtrad.steering.modelfile import export_model, parse_model
from rodtrad.steering.models import PlanItem, PlanYear, SteeringModel
from tests.conftest import World
from tests.test_modelfile import GOOD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: &n [*n]\n", "anchors and aliases"),
        ("a: &x 1\nb: *x\n", "anchors and aliases"),
        ("name: !!python/name:os.system\n", "could not be read"),
        ("name: !!timestamp 'xx'\n", "could not be read"),
        ("name: " + "9" * 5000 + "\n", "could not be read"),
    ],
)
def test_odd_yaml_is_refused_with_a_message(text: str, expected: str) -> None:
    with pytest.raises(FileProblems, match=expected):
        parse_model(text)


def test_names_longer_than_the_database_allows_are_refused() -> None:
    with pytest.raises(FileProblems, match=r"levels\[0\]\.name: at most 80 characters"):
        parse_model(GOOD.replace("name: Vision", "name: " + "V" * 81))


def test_a_required_link_to_itself_only_and_duplicates_are_refused() -> None:
    text = GOOD.replace("links_to: [vision]", "links_to: [mal, mal]")
    with pytest.raises(FileProblems) as info:
        parse_model(text)
    messages = str(info.value)
    assert "'mal' is named twice" in messages
    assert "names no level above this one" in messages


def test_an_import_the_plan_would_break_is_refused(world: World) -> None:
    model = SteeringModel.objects.get(municipality=world.kramfors)
    before = export_model(model)
    spec = parse_model(before)
    board_goals = next(level for level in spec.levels if level.key == "namndmal")
    board_goals.owners = ["kommunstyrelse"]  # the world's board goals are owned by nämnder
    with pytest.raises(FileProblems, match="the plan would break the new model"):
        services.steering_model_import(municipality=world.kramfors, spec=spec, user=world.admin)
    assert export_model(SteeringModel.objects.get(municipality=world.kramfors)) == before


def test_rollover_refuses_to_leave_items_without_their_required_link(world: World) -> None:
    PlanItem.objects.filter(pk=world.goal_a.pk).update(status="done")
    PlanYear.objects.filter(pk=world.year.pk).update(year=2025)
    world.year.refresh_from_db()
    with pytest.raises(services.PlanError, match="Läsombud på varje skola"):
        services.plan_year_rollover(user=world.controller, source=world.year, target_year=2026)
    assert not PlanYear.objects.filter(period=world.period, year=2026).exists()
    assert rules.validate_plan(world.kramfors) == []


def test_an_org_unit_cannot_be_moved_below_itself(world: World) -> None:
    board = OrgUnit.objects.get(pk=world.board_a.pk)
    board.parent = world.school
    with pytest.raises(ValueError, match="under itself or under a unit below it"):
        board.save()
    board.refresh_from_db()
    assert board.parent == world.kf


def test_the_admin_refuses_an_org_unit_cycle_and_a_rule_breaking_item(world: World) -> None:
    client = world.client(world.admin)
    url = reverse("admin:organisations_orgunit_change", args=[world.board_a.pk])
    response = client.post(
        url,
        {
            "municipality": world.kramfors.pk,
            "parent": world.school.pk,
            "kind": world.board_a.kind_id,
            "name": world.board_a.name,
            "order": 0,
        },
    )
    assert response.status_code == 200
    assert "under itself" in response.content.decode() or "under sig själv" in (
        response.content.decode()
    )
    assert OrgUnit.objects.get(pk=world.board_a.pk).parent == world.kf


def test_bad_query_parameters_do_not_crash(world: World) -> None:
    client = world.client(world.reader)
    children = reverse("steering:children", args=["2282", world.council_goal.pk])
    assert client.get(children + "?offset=99999999999999999999").status_code == 200
    assert client.get(reverse("steering:thread", args=["2282"]) + "?level=a%00b").status_code == 200
    item = reverse("steering:item", args=["2282", world.goal_a.pk])
    assert world.client(world.editor_a).get(item + "?sok=a%00b").status_code == 200


def test_platform_staff_are_out_of_reach_of_a_municipality_admin(world: World) -> None:
    from rodtrad.organisations.models import User

    staff = User.objects.create_superuser(
        "platform", "p@example.se", "x", municipality=world.kramfors
    )
    response = world.client(world.admin).get(
        reverse("admin:organisations_user_change", args=[staff.pk])
    )
    assert response.status_code == 302


def test_the_admin_keeps_items_that_others_contribute_to(world: World) -> None:
    url = reverse("admin:steering_planitem_delete", args=[world.goal_a.pk])
    assert world.client(world.admin).post(url, {"post": "yes"}).status_code == 403
    assert PlanItem.objects.filter(pk=world.goal_a.pk).exists()


def test_admin_changes_to_many_to_many_fields_are_audited(world: World) -> None:
    from rodtrad.organisations.models import AuditEvent

    level = world.level("aktivitet")
    client = world.client(world.admin)
    url = reverse("admin:steering_level_change", args=[level.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["owner_kinds"] = [world.school.kind_id]  # only units own activities from now on
    data["parents"] = [p.pk for p in level.parents.all()]
    for key in ("link_required", "assessed", "has_indicators", "is_assignment"):
        if not data.get(key):
            data.pop(key, None)
    data.update(
        {
            "classification_rules-TOTAL_FORMS": "0",
            "classification_rules-INITIAL_FORMS": "0",
            "classification_rules-MIN_NUM_FORMS": "0",
            "classification_rules-MAX_NUM_FORMS": "1000",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(action="admin-change", object_id=str(level.pk)).latest("id")
    assert event.after == {"owner_kinds": [world.school.kind_id]}
    assert event.before is not None and len(event.before["owner_kinds"]) == 4
