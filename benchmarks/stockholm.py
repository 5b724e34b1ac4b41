"""Generate a "Stockholm-scale" municipality fast, valid under its steering model.

The model is the Nynäshamn preset (vision → effektmål → nämndmål → åtagande → aktivitet, and
uppdrag to effektmål). The organisation is Kommunfullmäktige with 40 boards and companies
(the executive board, 24 boards, 15 companies), an administration (förvaltning) under each
board, and departments and units below them: 1,500 org units in all. The plan has 30,000
items in one plan period and its current year, and a thread as a real municipality's:

- every item at a level with a required upward link has at least one, to an item its
  owner's line may contribute to (a board's goals to the council's goals, a commitment to
  its own board's goals, an activity to its own board's commitments);
- many board goals contribute to several council goals, some commitments and activities to
  two items above, most assignments to a council goal (the link is optional there);
- owners are of the kinds the level allows; one-year levels have the plan year;
- council and board goals carry Agenda 2030 values; one "create" audit event per item.

The steering model is the preset's with Stockholm's follow-up (`model_spec()`): a tertial
report (months 4, 8, 12) that every org unit reports, on the council's, the boards' and the
administrations' goals and commitments and the units' activities (so `aktivitet` is assessed
here too), with the economy, one free section and the council's approval; and the preset's
monthly economy follow-up. benchmarks/followup.py times that cycle.

Rows are written with bulk_create, not the per-item service (30,000 service calls would
take minutes); `OrgUnit.path`/`depth`, which OrgUnit.save() keeps, are set here tier by tier
once the ids are known. `rodtrad.steering.rules.validate_plan` accepts the result
(`python -m benchmarks.run --db sqlite --validate` checks it).
"""

from __future__ import annotations

import copy
import datetime
import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from rodtrad.organisations.models import (
    AuditEvent,
    Membership,
    Municipality,
    OrgUnit,
    OrgUnitKind,
    Role,
    User,
)
from rodtrad.steering import services
from rodtrad.steering.demo import preset_spec
from rodtrad.steering.modelfile import FollowUpSpec, ModelSpec, SectionSpec
from rodtrad.steering.models import (
    ClassificationValue,
    ItemStatus,
    Level,
    PlanItem,
    PlanLink,
    PlanPeriod,
    PlanYear,
    PlanYearStatus,
)

CODE = "0180"
NAME = "Stockholms stad"
PRESET = "nynashamn"
UNITS = 1_500
ITEMS = 30_000
# Stockholm's tertial follow-up: every kind of org unit the generator uses reports, on every
# assessed level (activities included: the units' part of the plan).
TERTIAL = "tertial"
ASSESSED_LEVELS = ["effektmal", "namndmal", "atagande", "aktivitet"]
REPORTERS = ["kommunfullmaktige", "kommunstyrelse", "namnd", "bolag", "forvaltning", "enhet"]

# (name, short name) of the executive board and the 24 boards; the first 12 are district
# boards (stadsdelsnämnder), which run many units each.
BOARDS = [
    ("Kommunstyrelsen", "KS"),
    ("Rinkeby-Kista stadsdelsnämnd", "RK"),
    ("Spånga-Tensta stadsdelsnämnd", "ST"),
    ("Hässelby-Vällingby stadsdelsnämnd", "HV"),
    ("Bromma stadsdelsnämnd", "BR"),
    ("Kungsholmens stadsdelsnämnd", "KH"),
    ("Norrmalms stadsdelsnämnd", "NM"),
    ("Östermalms stadsdelsnämnd", "ÖM"),
    ("Södermalms stadsdelsnämnd", "SÖ"),
    ("Enskede-Årsta-Vantörs stadsdelsnämnd", "EÅV"),
    ("Skarpnäcks stadsdelsnämnd", "SK"),
    ("Farsta stadsdelsnämnd", "FA"),
    ("Hägersten-Älvsjö stadsdelsnämnd", "HÄ"),
    ("Arbetsmarknadsnämnden", "AMN"),
    ("Exploateringsnämnden", "EXPL"),
    ("Fastighetsnämnden", "FN"),
    ("Idrottsnämnden", "IDN"),
    ("Kulturnämnden", "KUN"),
    ("Miljö- och hälsoskyddsnämnden", "MHN"),
    ("Socialnämnden", "SN"),
    ("Stadsbyggnadsnämnden", "SBN"),
    ("Trafiknämnden", "TN"),
    ("Utbildningsnämnden", "UN"),
    ("Äldrenämnden", "ÄN"),
    ("Servicenämnden", "SEN"),
]
COMPANIES = [
    ("Stockholms Stadshus AB", "SSAB"),
    ("AB Svenska Bostäder", "SB"),
    ("AB Familjebostäder", "FB"),
    ("AB Stockholmshem", "SH"),
    ("Micasa Fastigheter i Stockholm AB", "MIC"),
    ("SISAB", "SISAB"),
    ("Stockholm Vatten och Avfall AB", "SVOA"),
    ("Stockholms Hamn AB", "HAMN"),
    ("Stockholm Parkering AB", "PARK"),
    ("S:t Erik Kommunikation AB", "SEK"),
    ("Stockholm Business Region AB", "SBR"),
    ("Stockholm Globe Arena Fastigheter AB", "SGA"),
    ("Stockholms Stads Bostadsförmedling AB", "BF"),
    ("Stokab AB", "STO"),
    ("Stockholms Stads Parkerings AB", "SSP"),
]
COUNCIL_GOALS = [
    "Stockholm är en hållbar stad med god livsmiljö",
    "Alla barn och elever får en god start i livet och når kunskapsmålen",
    "Stockholm är en trygg stad där ingen lämnas efter",
    "Stockholmarna har arbete och egen försörjning",
    "Äldre i Stockholm har en god och trygg ålderdom",
    "Stockholm är en klimatsmart stad med fossilfria transporter 2040",
    "Det byggs bostäder för alla i en växande stad",
    "Stockholm har ett rikt kultur- och idrottsliv för alla",
    "Stockholm är en jämlik och jämställd stad",
    "Stockholm har ett konkurrenskraftigt näringsliv",
    "Stadens ekonomi är stark och resurserna används effektivt",
    "Personer med funktionsnedsättning har goda levnadsvillkor",
    "Stockholm är en tillgänglig stad med god framkomlighet",
    "Stockholms stad är en attraktiv arbetsgivare",
    "Stadens verksamheter är digitala, öppna och lätta att nå",
    "Stockholm är en demokratisk stad där invånarna är delaktiga",
]
GOAL_PHRASES = [
    "Fler elever är behöriga till gymnasiet",
    "Barn och unga känner sig trygga i sin närmiljö",
    "Andelen invånare med egen försörjning ökar",
    "Äldre upplever att de får inflytande över sin omsorg",
    "Utsläppen av växthusgaser från verksamheten minskar",
    "Verksamheten håller budget och har en god ekonomisk hushållning",
    "Medarbetarna upplever ett gott ledarskap",
    "Sjukfrånvaron minskar",
    "Handläggningstiderna blir kortare",
    "Fler bostäder får bygglov",
    "Parker och grönområden är välskötta och trygga",
    "Fler deltar i kultur- och fritidsaktiviteter",
    "Föräldrar är nöjda med förskolan",
    "Ingen ska behöva leva i hemlöshet",
    "Brukarna är nöjda med bemötandet",
    "Våld i nära relationer förebyggs",
    "Digitala tjänster används av fler invånare",
    "Energianvändningen i stadens lokaler minskar",
    "Fler unga har en meningsfull sommar",
    "Företagare är nöjda med stadens service",
]
VERBS = [
    "Införa",
    "Utveckla",
    "Utvärdera",
    "Förstärka",
    "Samordna",
    "Genomföra",
    "Kartlägga",
    "Följa upp",
    "Digitalisera",
    "Förebygga brister i",
]
OBJECTS = [
    "det systematiska kvalitetsarbetet",
    "samverkan med civilsamhället",
    "tidiga insatser för barn och unga",
    "stödet till nyanlända",
    "kompetensförsörjningen",
    "arbetet med trygghetsvandringar",
    "energieffektiviseringen av lokalerna",
    "den digitala dokumentationen",
    "introduktionen av nya medarbetare",
    "rutinerna för avvikelsehantering",
    "uppföljningen av avtal",
    "läsfrämjande insatser",
    "hälsofrämjande arbete",
    "arbetet mot hedersrelaterat våld",
    "brukarundersökningarna",
    "uppsökande verksamhet för äldre",
]
DESCRIPTION = (
    "Insatsen ingår i verksamhetsplanen och följs upp i tertialrapporten och "
    "verksamhetsberättelsen. Ansvarig chef redovisar resultat, avvikelser och åtgärder till "
    "nämnden; måluppfyllelsen bedöms utifrån indikatorerna och verksamhetens egna mått."
)


@dataclass
class Generated:
    municipality: Municipality
    controller: User
    period: PlanPeriod
    plan_year: PlanYear
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def model_spec() -> ModelSpec:
    """The Nynäshamn preset with Stockholm's follow-up: the tertial report (Tertial 1, 2 and
    the year, months 4, 8, 12) for every org unit, and the preset's monthly economy report.

    A copy: `preset_spec` is cached and the small demo loads the same preset.
    """
    spec = copy.deepcopy(preset_spec(PRESET))
    for level in spec.levels:
        if level.key in ASSESSED_LEVELS:
            level.assessed = True
    spec.follow_up = [
        FollowUpSpec(
            key=TERTIAL,
            name="Tertialrapport",
            name_en="Four-month report",
            description="Tertialrapport 1 och 2 och verksamhetsberättelsen; alla enheter "
            "rapporterar.",
            months=[4, 8, 12],
            deadline_days=15,
            reminders=[7, 1],
            levels=list(ASSESSED_LEVELS),
            reporters=list(REPORTERS),
            economy=True,
            indicators=True,
            council_approval=True,
            sections=[
                SectionSpec(
                    key="viktiga-handelser", name="Viktiga händelser", name_en="Important events"
                )
            ],
        ),
        *[f for f in spec.follow_up if f.key == "manadsuppfoljning"],
    ]
    return spec


def _bulk_units(
    municipality: Municipality,
    specs: Sequence[tuple[OrgUnit | None, OrgUnitKind, str, str, str]],
) -> list[OrgUnit]:
    """Create one tier of the org tree and set the materialised path that save() would."""
    units = [
        OrgUnit(
            municipality=municipality,
            parent=parent,
            kind=kind,
            name=name,
            short_name=short,
            ledger_code=ledger,
            order=order,
        )
        for order, (parent, kind, name, short, ledger) in enumerate(specs)
    ]
    OrgUnit.objects.bulk_create(units, batch_size=500)
    for unit in units:
        prefix = unit.parent.path if unit.parent is not None else "/"
        unit.path = f"{prefix}{unit.pk}/"
        unit.depth = unit.path.count("/") - 2
    OrgUnit.objects.bulk_update(units, ["path", "depth"], batch_size=500)
    return units


def _split(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainders)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def mandate_period(today: datetime.date) -> tuple[int, int]:
    """The Swedish mandate period (2023–2026, 2027–2030, ...) that contains today."""
    start = 2023 + 4 * ((today.year - 2023) // 4)
    return start, start + 3


@transaction.atomic
def generate(
    *, code: str = CODE, name: str = NAME, seed: int = 2026, scale: float = 1.0
) -> Generated:
    """Create the municipality; `scale` shrinks units and items (for a quick trial run)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    n_units = max(120, round(UNITS * scale))
    n_items = max(2_000, round(ITEMS * scale))

    municipality = services.municipality_create(code=code, name=name)
    services.steering_model_import(municipality=municipality, spec=model_spec(), user=None)
    kinds = {k.key: k for k in OrgUnitKind.objects.filter(municipality=municipality)}
    levels = {lv.key: lv for lv in Level.objects.filter(model__municipality=municipality)}
    goals_2030 = list(
        ClassificationValue.objects.filter(
            classification__model__municipality=municipality, classification__key="agenda2030"
        )
    )

    # --- Organisation: KF; 40 boards and companies; an administration per board; below. ---
    (kf,) = _bulk_units(
        municipality, [(None, kinds["kommunfullmaktige"], "Kommunfullmäktige", "KF", "")]
    )
    boards = _bulk_units(
        municipality,
        [
            (kf, kinds["kommunstyrelse" if i == 0 else "namnd"], board, short, str(100 + i))
            for i, (board, short) in enumerate(BOARDS)
        ],
    )
    companies = _bulk_units(
        municipality,
        [
            (kf, kinds["bolag"], company, short, str(800 + i))
            for i, (company, short) in enumerate(COMPANIES)
        ],
    )
    administrations = _bulk_units(
        municipality,
        [
            (
                board,
                kinds["forvaltning"],
                board.name.replace("nämnd", "förvaltning").replace(
                    "Kommunstyrelsen", "Stadsledningskontoret"
                ),
                f"{board.short_name}F",
                f"{board.ledger_code}0",
            )
            for board in boards
        ],
    )
    below = n_units - 1 - len(boards) - len(companies) - len(administrations)
    # District administrations run the most units (schools, pre-schools, elderly care).
    weights = [
        1.0 if i == 0 else (2.2 if i <= 12 else 0.9) * rng.uniform(0.7, 1.3)
        for i in range(len(boards))
    ]
    per_admin = _split(below, weights)
    department_specs = []
    n_departments: list[int] = []
    for admin, n in zip(administrations, per_admin, strict=True):
        n_dep = max(2, round(n / 9))
        n_departments.append(n_dep)
        for d in range(n_dep):
            department_specs.append(
                (
                    admin,
                    kinds["enhet"],
                    f"Avdelning {d + 1} {admin.short_name}",
                    "",
                    f"{admin.ledger_code}{d + 1}",
                )
            )
    departments = _bulk_units(municipality, department_specs)
    unit_specs = []
    cursor = 0
    for n, n_dep in zip(per_admin, n_departments, strict=True):
        mine = departments[cursor : cursor + n_dep]
        cursor += n_dep
        for d, count in enumerate(_split(n - n_dep, [1.0] * n_dep)):
            for u in range(count):
                dep = mine[d]
                unit_specs.append(
                    (
                        dep,
                        kinds["enhet"],
                        f"Enhet {u + 1} {dep.name}",
                        "",
                        f"{dep.ledger_code}{u + 1:02d}",
                    )
                )
    units = _bulk_units(municipality, unit_specs)
    # Per board: its administration, and the departments and units below it.
    line_units: dict[int, list[OrgUnit]] = defaultdict(list)
    admin_of_board = {admin.parent_id: admin for admin in administrations}
    board_of_admin = {admin.pk: int(admin.parent_id or 0) for admin in administrations}
    for unit in [*departments, *units]:
        admin_id = int(unit.path.strip("/").split("/")[2])
        line_units[board_of_admin[admin_id]].append(unit)

    # --- Users: an administrator, a controller, an editor per board, a few readers. ---
    unusable = make_password(None)
    people = [
        ("sthlm-admin", kf, Role.ADMIN),
        ("sthlm-controller", kf, Role.CONTROLLER),
        *[(f"sthlm-editor-{i}", unit, Role.EDITOR) for i, unit in enumerate([*boards, *companies])],
        *[(f"sthlm-reader-{i}", kf, Role.READER) for i in range(5)],
    ]
    users = User.objects.bulk_create(
        User(username=u, municipality=municipality, password=unusable, is_staff=r == Role.ADMIN)
        for u, _unit, r in people
    )
    Membership.objects.bulk_create(
        Membership(user=user, org_unit=unit, role=role)
        for user, (_name, unit, role) in zip(users, people, strict=True)
    )
    controller = users[1]

    # --- Plan period and the current year. ---
    start, end = mandate_period(datetime.date.today())
    period = PlanPeriod.objects.create(
        municipality=municipality,
        name=f"Mandatperioden {start}–{end}",
        start_year=start,
        end_year=end,
    )
    this_year = min(max(datetime.date.today().year, start), end)
    plan_year = PlanYear.objects.create(
        period=period,
        year=this_year,
        status=PlanYearStatus.ADOPTED,
        decided_by="Kommunfullmäktige",
        decided_on=datetime.date(this_year - 1, 11, 24),
        decision_paragraph="§ 12",
    )

    def item(level: str, owner: OrgUnit, number: str, title: str, **extra: Any) -> PlanItem:
        lv = levels[level]
        return PlanItem(
            municipality=municipality,
            level=lv,
            owner=owner,
            period=period,
            plan_year=plan_year if lv.horizon == "year" else None,
            number=number,
            title=title,
            description=DESCRIPTION,
            **extra,
        )

    links: list[tuple[PlanItem, PlanItem]] = []
    values: list[tuple[PlanItem, ClassificationValue]] = []

    # Vision and council goals (effektmål), owned by the council.
    (vision,) = PlanItem.objects.bulk_create(
        [item("vision", kf, "", "Ett Stockholm för alla – en stad att växa i")]
    )
    council_goals = PlanItem.objects.bulk_create(
        item("effektmal", kf, str(i + 1), title) for i, title in enumerate(COUNCIL_GOALS)
    )
    for goal in council_goals:
        links.append((goal, vision))
        values += [(goal, v) for v in rng.sample(goals_2030, rng.randint(1, 4))]
    # A few council goals draw far more contributors than others (every board works on them).
    goal_weights = [rng.lognormvariate(0, 0.8) for _ in council_goals]
    goal_weights[0] *= 4

    # Board goals (nämndmål): 9–15 a board, each to 1–3 council goals.
    board_goals: list[PlanItem] = []
    goals_of_board: dict[int, list[PlanItem]] = defaultdict(list)
    for board in boards:
        for k in range(rng.randint(9, 15)):
            board_goals.append(
                item("namndmal", board, f"{board.short_name}-{k + 1}", rng.choice(GOAL_PHRASES))
            )
    PlanItem.objects.bulk_create(board_goals)
    for goal in board_goals:
        goals_of_board[goal.owner_id].append(goal)
        targets = set(rng.choices(council_goals, goal_weights, k=rng.choice([1, 1, 2, 2, 3])))
        links += [(goal, target) for target in targets]
        if rng.random() < 0.7:
            values += [(goal, v) for v in rng.sample(goals_2030, rng.randint(1, 3))]

    # Assignments (uppdrag) from the council to boards and companies; most name a council goal.
    assignments = []
    for owner in [*boards, *companies]:
        for k in range(rng.randint(8, 14) if owner in boards else rng.randint(4, 10)):
            assignments.append(
                item(
                    "uppdrag",
                    owner,
                    f"U-{owner.short_name}-{k + 1}",
                    f"Uppdrag: {rng.choice(VERBS).lower()} {rng.choice(OBJECTS)}",
                    assigned_by=kf,
                    decision_reference=f"KF {this_year - 1}-11-24 § 12",
                    due_date=datetime.date(this_year, 12, 31),
                    status=rng.choice([ItemStatus.ACTIVE, ItemStatus.ONGOING, ItemStatus.DONE]),
                )
            )
    for assignment in assignments:
        if assignment.status == ItemStatus.DONE:
            assignment.completed_on = datetime.date(this_year, 6, 30)
    PlanItem.objects.bulk_create(assignments)
    for assignment in assignments:
        if rng.random() < 0.85:
            links.append((assignment, rng.choices(council_goals, goal_weights)[0]))

    # Commitments (åtaganden), about 11 % of the items (10–11 per board goal at full scale),
    # owned by the board or its administration, to the goal and sometimes a second goal of
    # the same board.
    commitments: list[PlanItem] = []
    goal_of: list[PlanItem] = []  # goal_of[i] is the board goal of commitments[i]
    per_goal = 0.11 * n_items / len(board_goals)
    board_by_id = {board.pk: board for board in boards}
    for goal in board_goals:
        board = board_by_id[goal.owner_id]
        n = max(2, min(30, round(per_goal * rng.lognormvariate(-0.1, 0.45))))
        for j in range(n):
            owner = board if rng.random() < 0.2 else admin_of_board[board.pk]
            commitments.append(
                item(
                    "atagande",
                    owner,
                    f"{goal.number}.{j + 1}",
                    f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}",
                )
            )
            goal_of.append(goal)
    PlanItem.objects.bulk_create(commitments, batch_size=1000)
    commitments_of_board: dict[int, list[int]] = defaultdict(list)  # board id -> indexes
    for index, (commitment, goal) in enumerate(zip(commitments, goal_of, strict=True)):
        links.append((commitment, goal))
        siblings = goals_of_board[goal.owner_id]
        if rng.random() < 0.2 and len(siblings) > 1:
            other = rng.choice(siblings)
            if other.pk != goal.pk:
                links.append((commitment, other))
        commitments_of_board[goal.owner_id].append(index)

    # Activities (aktiviteter): the rest, owned by the administration or a unit in the
    # commitment's board line, to the commitment and sometimes a second one of the board.
    n_activities = (
        n_items - 1 - len(council_goals) - len(board_goals) - len(assignments) - len(commitments)
    )
    commitment_weights = [rng.lognormvariate(0, 0.6) for _ in commitments]
    chosen = rng.choices(range(len(commitments)), commitment_weights, k=n_activities)
    activities: list[PlanItem] = []
    counter: dict[int, int] = defaultdict(int)
    statuses = [ItemStatus.ACTIVE] * 6 + [ItemStatus.ONGOING] * 3 + [ItemStatus.DONE]
    for index in chosen:
        commitment = commitments[index]
        board_id = goal_of[index].owner_id
        counter[index] += 1
        owner = (
            admin_of_board[board_id]
            if rng.random() < 0.1 or not line_units[board_id]
            else rng.choice(line_units[board_id])
        )
        activities.append(
            item(
                "aktivitet",
                owner,
                f"{commitment.number}.{counter[index]}"[:20],
                f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} ({owner.name})"[:300],
                status=rng.choice(statuses),
                responsible=f"Enhetschef {rng.randint(1, 999)}",
            )
        )
    PlanItem.objects.bulk_create(activities, batch_size=1000)
    for activity, index in zip(activities, chosen, strict=True):
        links.append((activity, commitments[index]))
        if rng.random() < 0.15:
            other = commitments[rng.choice(commitments_of_board[goal_of[index].owner_id])]
            if other.pk != commitments[index].pk:
                links.append((activity, other))

    PlanLink.objects.bulk_create(
        (PlanLink(from_item_id=a.pk, to_item_id=b.pk) for a, b in links), batch_size=2000
    )
    through = PlanItem.classifications.through
    through.objects.bulk_create(
        (through(planitem_id=i.pk, classificationvalue_id=v.pk) for i, v in set(values)),
        batch_size=2000,
    )
    everything = [vision, *council_goals, *board_goals, *assignments, *commitments, *activities]
    created_at = timezone.now() - datetime.timedelta(days=30)
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                municipality=municipality,
                at=created_at,
                user=controller,
                action="create",
                object_type="steering.planitem",
                object_id=str(i.pk),
                object_repr=str(i)[:255],
                after={"number": i.number, "title": i.title, "status": i.status},
            )
            for i in everything
        ),
        batch_size=2000,
    )
    by_level: dict[str, int] = defaultdict(int)
    key_of = {lv.pk: key for key, lv in levels.items()}
    for i in everything:
        by_level[key_of[i.level_id]] += 1
    counts = {
        "org_units": OrgUnit.objects.filter(municipality=municipality).count(),
        "boards_and_companies": len(boards) + len(companies),
        "plan_items": len(everything),
        **{f"items_{key}": by_level[key] for key in levels},
        "links": len(links),
        "classification_values_set": len(set(values)),
        "audit_events": len(everything),
    }
    return Generated(
        municipality=municipality,
        controller=controller,
        period=period,
        plan_year=plan_year,
        seconds=time.perf_counter() - started,
        counts=counts,
    )
