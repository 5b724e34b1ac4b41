import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rodtrad.indicators import kolada
from rodtrad.organisations.models import Municipality


class Command(BaseCommand):
    help = (
        "Fetch every Kolada-backed indicator again (values, title, discontinuation); report "
        "new and revised values per indicator. Exits with status 1 if any indicator failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", help="Only this municipality (its code).")

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"]).first()
            if municipality is None:
                raise CommandError(f"No municipality with code {options['municipality']}.")
        failed = 0
        for indicator, outcome in kolada.refresh_all(municipality=municipality):
            where = f"{indicator.municipality.code} {indicator.kolada_kpi} {indicator.title}"
            if isinstance(outcome, str):
                failed += 1
                self.stderr.write(f"{where}: failed, nothing changed: {outcome}")
                continue
            flags = [
                name
                for name, on in (
                    ("renamed in Kolada", indicator.kolada_renamed),
                    ("discontinued", indicator.kolada_discontinued),
                    ("no longer in Kolada", indicator.kolada_missing),
                )
                if on
            ]
            self.stdout.write(
                f"{where}: {outcome.created} new, {outcome.updated} revised, "
                f"{outcome.unchanged} unchanged" + (f" ({', '.join(flags)})" if flags else "")
            )
        if failed:
            sys.exit(1)
