"""The model file: every error names its line and key, and a refused import changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.models import AuditEvent
from rodtrad.steering import services
from rodtrad.steering.modelfile import export_model, parse_model, problem_text
from rodtrad.steering.models import Level, SteeringModel
from tests.conftest import World

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
format: rodtrad/styrmodell-1
name: Testmodell
classifications:
  - key: agenda2030
    name: Agenda 2030
    kind: agenda2030
    values: standard
levels:
  - key: vision
    name: Vision
    plural: Visioner
    owners: [kommunfullmaktige]
  - key: mal
    name: Mål
    plural: Mål
    owners: [kommunfullmaktige]
    links_to: [vision]
    link_required: true
    classifications:
      agenda2030: required
"""


def problems(text: str) -> list[str]:
    with pytest.raises(FileProblems) as info:
        parse_model(text)
    return [problem_text(p) for p in info.value.problems]


def test_a_good_file_parses() -> None:
    spec = parse_model(GOOD)
    assert [lv.key for lv in spec.levels] == ["vision", "mal"]
    assert spec.levels[1].classifications == {"agenda2030": True}
    assert len(spec.classifications[0].values) == 17
    assert spec.classifications[0].values[2].name == "3. Hälsa och välbefinnande"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("owners: [kommunfullmaktige]\n  - key: mal", "owners: [namd]\n  - key: mal"),
            "line 12, levels[0].owners[0]: unknown org unit kind 'namd'",
        ),
        (
            ("links_to: [vision]", "links_to: [visio]"),
            "line 17, levels[1].links_to[0]: unknown level 'visio'",
        ),
        (
            ("    plural: Visioner\n", "    plurl: Visioner\n"),
            "line 11, levels[0].plurl: unknown key 'plurl'",
        ),
        (
            ("link_required: true", "link_required: ja"),
            "line 18, levels[1].link_required: expected true or false, not 'ja'",
        ),
        (
            ("agenda2030: required", "agenda2030: must"),
            "line 20, levels[1].classifications.agenda2030: write 'required' or 'optional'",
        ),
        (("format: rodtrad/styrmodell-1", "format: 2"), "line 1, format: unknown format 2"),
        (("  - key: mal", "  - key: vision"), "levels[1].key: the key 'vision' is used twice"),
        (
            ("name: Testmodell\n", "name: Testmodell\nname: Igen\n"),
            "line 3, name: the key 'name' appears twice",
        ),
        (
            ("    owners: [kommunfullmaktige]\n    links_to", "    links_to"),
            "line 13, levels[1]: the key 'owners' is missing",
        ),
        (("levels:\n", "levels:\n  - [\n"), "line 10: invalid YAML"),
    ],
)
def test_errors_name_line_and_key(change: tuple[str, str], expected: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    found = problems(text)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("[kommunfullmaktige]", "[nobody]").replace("horizon", "x")
    assert len(problems(text)) == 2


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(FileProblems, match="not UTF-8"):
        parse_model("name: Värmland".encode("latin-1"))


def test_export_and_import_round_trip(world: World) -> None:
    model = SteeringModel.objects.get(municipality=world.kramfors)
    first = export_model(model)
    services.steering_model_import(
        municipality=world.kramfors, spec=parse_model(first), user=world.admin
    )
    assert export_model(SteeringModel.objects.get(municipality=world.kramfors)) == first


def test_removing_a_level_with_items_is_refused_and_changes_nothing(world: World) -> None:
    model = SteeringModel.objects.get(municipality=world.kramfors)
    before = export_model(model)
    events = AuditEvent.objects.count()
    spec = parse_model(before.replace("key: aktivitet", "key: aktiviteter"))
    with pytest.raises(FileProblems, match="'aktivitet' is not in the file but 1 plan item is"):
        services.steering_model_import(municipality=world.kramfors, spec=spec, user=world.admin)
    assert export_model(SteeringModel.objects.get(municipality=world.kramfors)) == before
    assert AuditEvent.objects.count() == events


def test_import_updates_names_and_rules_and_is_audited(world: World) -> None:
    model = SteeringModel.objects.get(municipality=world.kramfors)
    text = export_model(model).replace("name: Nämndmål", "name: Nämndens mål", 1)
    services.steering_model_import(
        municipality=world.kramfors, spec=parse_model(text), user=world.admin
    )
    assert world.level("namndmal").name == "Nämndens mål"
    event = AuditEvent.objects.filter(action="import").latest("id")
    assert event.user == world.admin
    assert event.before is not None and event.after is not None
    assert "Nämndmål" in event.before["file"] and "Nämndens mål" in event.after["file"]


def test_import_page_shows_errors_and_changes_nothing(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = world.client(world.admin)
    before = export_model(SteeringModel.objects.get(municipality=world.kramfors))
    broken = GOOD.replace("links_to: [vision]", "links_to: [visio]").encode()
    response = client.post(
        reverse("steering:model_import", args=["2282"]),
        {"file": SimpleUploadedFile("m.yaml", broken, content_type="application/yaml")},
    )
    assert response.status_code == 422
    assert "rad 17, levels[1].links_to[0]" in response.content.decode()
    assert export_model(SteeringModel.objects.get(municipality=world.kramfors)) == before


def test_import_page_imports_a_good_file(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = export_model(SteeringModel.objects.get(municipality=world.kramfors))
    text = text.replace("plural: Aktiviteter", "plural: Aktiviteterna")
    response = world.client(world.admin).post(
        reverse("steering:model_import", args=["2282"]),
        {"file": SimpleUploadedFile("m.yaml", text.encode())},
    )
    assert response.status_code == 302
    assert world.level("aktivitet").plural == "Aktiviteterna"


def test_export_page_downloads_the_file(world: World) -> None:
    response = world.client(world.reader).get(reverse("steering:model_export", args=["2282"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('styrmodell-2282.yaml"')
    spec = parse_model(response.content)
    assert [lv.key for lv in spec.levels][:2] == ["vision", "inriktningsmal"]


def test_commands_import_and_export(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = ROOT / "docs" / "examples" / "exempelkommun.yaml"
    call_command("import_model", str(path), municipality="9999", name="Exempelkommun")
    assert Level.objects.filter(model__municipality__code="9999").count() >= 5
    capsys.readouterr()
    call_command("export_model", municipality="9999")
    out = capsys.readouterr().out
    assert parse_model(out).name == parse_model(path.read_text()).name
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("[vision]", "[nowhere]"))
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("import_model", str(bad), municipality="9999")
