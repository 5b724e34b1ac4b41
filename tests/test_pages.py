"""Pages through their URLs: the thread and its filters, item pages, assignments, language."""

from __future__ import annotations

import datetime

from django.urls import reverse

from rodtrad.organisations.models import OrgUnit, OrgUnitKind, User
from rodtrad.steering import services
from rodtrad.steering.demo import load_preset
from rodtrad.steering.models import Level, PlanItem, PlanYear
from tests.conftest import World, _unit, _user


def page(world: World, user: User, name: str, *args: object, query: str = "") -> str:
    response = world.client(user).get(reverse(name, args=args) + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_thread_shows_the_top_and_loads_contributors_on_demand(world: World) -> None:
    html = page(world, world.reader, "steering:thread", "2282")
    assert world.vision.title in html
    assert world.goal_a.title not in html  # deeper levels load on demand
    children = page(world, world.reader, "steering:children", "2282", world.vision.pk)
    assert world.direction.title in children
    assert 'aria-expanded="false"' in children


def test_thread_filters_by_org_unit_line(world: World) -> None:
    query = f"?unit={world.board_a.pk}"
    council = page(
        world, world.reader, "steering:children", "2282", world.council_goal.pk, query=query
    )
    assert world.goal_a.title in council
    assert world.goal_b.title not in council  # another board's goal is outside the line


def test_thread_filters_by_level_and_classification(world: World) -> None:
    html = page(world, world.reader, "steering:thread", "2282", query="?level=namndmal")
    assert world.goal_a.title in html and world.goal_b.title in html
    assert world.vision.title not in html.split("<main")[1].split("</main>")[0]
    value = world.value("perspektiv", "kramforsbon")
    html = page(world, world.reader, "steering:thread", "2282", query=f"?c={value.pk}")
    assert world.direction.title in html and world.activity_a.title not in html


def test_item_page_shows_the_chain_above_and_what_is_below(world: World) -> None:
    html = page(world, world.reader, "steering:item", "2282", world.goal_a.pk)
    for above in (world.council_goal, world.direction, world.vision):
        assert above.title in html
    assert world.activity_a.title in html
    assert world.goal_b.title not in html


def test_readers_see_no_edit_controls(world: World) -> None:
    html = page(world, world.reader, "steering:item", "2282", world.goal_a.pk)
    assert reverse("steering:item_edit", args=["2282", world.goal_a.pk]) not in html
    html = page(world, world.editor_a, "steering:item", "2282", world.goal_a.pk)
    assert reverse("steering:item_edit", args=["2282", world.goal_a.pk]) in html


def test_item_page_search_offers_items_outside_the_owners_line(world: World) -> None:
    # The link form lists the owner's line; a search finds any item the model allows.
    html = page(world, world.editor_a, "steering:item", "2282", world.activity_a.pk)
    assert f'value="{world.goal_b.pk}"' not in html
    html = page(
        world, world.editor_a, "steering:item", "2282", world.activity_a.pk, query="?sok=trygga"
    )
    assert f'value="{world.goal_b.pk}"' in html


def test_start_page_counts_levels_and_gaps(world: World) -> None:
    html = page(world, world.editor_a, "steering:home", "2282")
    assert "Kramfors kommun" in html
    assert world.goal_a.title in html  # the editor's own organisation's items


def test_home_sends_members_to_their_municipality(world: World) -> None:
    response = world.client(world.reader).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("steering:home", args=["2282"])
    assert world.client(None).get(reverse("home"))["Location"] == reverse("login")


def test_english_is_available(world: World) -> None:
    client = world.client(world.reader)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("steering:thread", args=["2282"])).content.decode()
    assert '<html lang="en">' in html
    assert "The red thread" in html
    assert "Vision" in html


def test_swedish_is_the_default(world: World) -> None:
    html = page(world, world.reader, "steering:thread", "2282")
    assert '<html lang="sv">' in html
    assert "Röda tråden" in html


def test_assignments_are_tracked_to_done(db: None) -> None:
    municipality = services.municipality_create(code="0192", name="Nynäshamns kommun")
    load_preset("nynashamn", municipality)
    kf = _unit(municipality, "Kommunfullmäktige", "kommunfullmaktige", None)
    board = _unit(municipality, "Socialnämnden", "namnd", kf)
    period = services.plan_period_create(
        user=None, municipality=municipality, name="2023–2026", start_year=2023, end_year=2026
    )
    year = PlanYear.objects.create(period=period, year=2026, status="adopted")
    level = Level.objects.get(model__municipality=municipality, key="uppdrag")
    reader = _user("reader-n", municipality, kf, "reader")
    editor = _user("editor-n", municipality, board, "editor")

    def assign(title: str, due: datetime.date) -> PlanItem:
        return services.plan_item_create(
            user=None,
            level=level,
            owner=board,
            period=period,
            plan_year=year,
            data={
                "title": title,
                "assigned_by": kf,
                "decision_reference": "KF § 12",
                "due_date": due,
                "status": "ongoing",
            },
            parents=[],
            values=[],
        )

    late = assign("Utred hemtjänstens schemaläggning", datetime.date(2020, 1, 1))
    assign("Ta fram en plan mot ensamhet", datetime.date(2099, 6, 30))
    from django.test import Client

    client = Client()
    client.force_login(reader)
    html = client.get(reverse("steering:assignments", args=["0192"])).content.decode()
    assert "Utred hemtjänstens schemaläggning" in html and "försenat" in html.lower()
    # The board marks it done; the completion date is recorded.
    client.force_login(editor)
    response = client.post(
        reverse("steering:item_edit", args=["0192", late.pk]),
        {
            "owner": board.pk,
            "plan_year": year.pk,
            "title": late.title,
            "status": "done",
            "assigned_by": kf.pk,
            "decision_reference": "KF § 12",
            "due_date": "2020-01-01",
            "version": late.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    late.refresh_from_db()
    assert late.status == "done" and late.completed_on == datetime.date.today()
    assert OrgUnit.objects.filter(municipality=municipality).count() == 2
    assert OrgUnitKind.objects.filter(municipality=municipality, builtin=True).count() == 8


def test_the_pages_own_css_and_scripts_are_served(world: World) -> None:
    client = world.client(None)
    for path in ("rodtrad/site.css", "rodtrad/app.js", "vendor/htmx-2.0.11/htmx.min.js"):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
    html = page(world, world.reader, "steering:thread", "2282")
    assert "/static/rodtrad/site.css" in html and "/static/vendor/htmx-2.0.11/htmx.min.js" in html


def test_long_lists_of_contributors_come_in_pages(world: World) -> None:
    perspective = world.value("perspektiv", "kramforsbon")
    for n in range(55):
        services.plan_item_create(
            user=None,
            level=world.level("namndmal"),
            owner=world.board_b,
            period=world.period,
            plan_year=world.year,
            data={"title": f"Mål {n:02}"},
            parents=[world.council_goal],
            values=[perspective],
        )
    first = page(world, world.reader, "steering:children", "2282", world.council_goal.pk)
    assert first.count('class="tree-node"') == 50
    assert "offset=50" in first
    rest = page(
        world,
        world.reader,
        "steering:children",
        "2282",
        world.council_goal.pk,
        query=f"?period={world.period.pk}&year=2026&offset=50",
    )
    assert rest.count('class="tree-node"') == 7
    assert "offset=" not in rest and "<ul" not in rest


def test_the_browsers_language_does_not_switch_the_interface(world: World) -> None:
    client = world.client(world.reader)
    url = reverse("steering:thread", args=["2282"])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="sv">' in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert '<html lang="en">' in html
