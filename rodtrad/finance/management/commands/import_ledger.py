import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rodtrad.finance import services
from rodtrad.organisations.models import Municipality


class Command(BaseCommand):
    help = (
        "Import ledger outcome from a SIE4 file (or CSV/XLSX) for a municipality, as the "
        "import page does: all or nothing; the months in the file replace earlier imports."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--municipality", required=True, help="The municipality's code.")
        parser.add_argument(
            "--no-budget", action="store_true", help="Do not take #PBUDGET as internal budget."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = Municipality.objects.filter(code=options["municipality"]).first()
        if municipality is None:
            raise CommandError(f"No municipality with code {options['municipality']}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        if path.suffix.lower() in (".csv", ".xlsx"):
            result = services.ledger_import_csv(
                user=None, municipality=municipality, data=path.read_bytes(), filename=path.name
            )
        else:
            with path.open("rb") as stream:
                result = services.ledger_import_sie4(
                    user=None,
                    municipality=municipality,
                    stream=stream,
                    filename=path.name,
                    with_budget=not options["no_budget"],
                )
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"{path.name}: {problem}")
            self.stderr.write("Nothing was imported.")
            sys.exit(1)
        for warning in result.warnings:
            self.stdout.write(f"{path.name}: warning: {warning}")
        batch = result.batch
        assert batch is not None
        self.stdout.write(
            f"{path.name}: {batch.rows} rows for {batch.year}, months "
            f"{', '.join(map(str, batch.months))}; {batch.stored} outcome rows kept, "
            f"{batch.budget_lines} internal budget lines."
        )
