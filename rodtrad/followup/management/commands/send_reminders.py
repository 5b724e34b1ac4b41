"""Send the follow-up reminders that are due today (run daily, e.g. from cron)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rodtrad.followup.services import reminders_send
from rodtrad.organisations.models import Municipality


class Command(BaseCommand):
    help = (
        "E-mail reminders for follow-up reports: before each deadline on the days the steering "
        "model names, and once a week to those late. Each reminder is sent once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kommun", help="Only this municipality (its four-digit code).")
        parser.add_argument("--datum", help="Act as if today were this date (YYYY-MM-DD).")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be sent; send nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["datum"]:
            try:
                today = datetime.date.fromisoformat(options["datum"])
            except ValueError:
                raise CommandError(
                    f"--datum {options['datum']!r} is not a date; write it as 2026-05-15."
                ) from None
        municipality = None
        if options["kommun"]:
            municipality = Municipality.objects.filter(code=options["kommun"]).first()
            if municipality is None:
                raise CommandError(f"No municipality has the code {options['kommun']!r}.")
        sent = reminders_send(today=today, municipality=municipality, dry_run=options["dry_run"])
        for report, key, addresses in sent:
            who = ", ".join(addresses) or "nobody (no editor with an e-mail address)"
            self.stdout.write(f"{report.period.municipality.code} {report} [{key}] -> {who}")
        verb = "would be sent" if options["dry_run"] else "sent"
        self.stdout.write(f"{len(sent)} reminders {verb}.")
