from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rodtrad.indicators import kolada
from rodtrad.lib import kolada as lib


class Command(BaseCommand):
    help = (
        "Import Kolada's KPI catalogue: the copy shipped with Röd tråd (April 2026) by "
        "default, or the current one from Kolada's API with --online."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--online", action="store_true", help="Fetch the catalogue from api.kolada.se."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["online"]:
            try:
                kpis = kolada.get_client().kpis()
            except lib.KoladaError as exc:
                raise CommandError(f"Kolada could not be asked; nothing changed: {exc}") from None
        else:
            kpis = lib.load_catalogue()
        total = kolada.catalogue_import(kpis)
        self.stdout.write(f"{len(kpis)} KPIs imported; the catalogue holds {total}.")
