from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.models import Municipality
from rodtrad.steering import services
from rodtrad.steering.modelfile import parse_model, problem_text


class Command(BaseCommand):
    help = "Import a steering model file (docs/model-format.md) into a municipality."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--municipality", required=True, help="four-digit code, e.g. 0665")
        parser.add_argument("--name", help="create the municipality with this name if missing")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["municipality"]
        municipality = Municipality.objects.filter(code=code).first()
        if municipality is None:
            if not options["name"]:
                raise CommandError(f"No municipality {code}; give --name to create it.")
            municipality = services.municipality_create(code=code, name=options["name"])
        try:
            spec = parse_model(options["file"].read_bytes())
            model = services.steering_model_import(municipality=municipality, spec=spec, user=None)
        except FileProblems as exc:
            lines = "\n".join(problem_text(p) for p in exc.problems)
            raise CommandError(f"{options['file']}: nothing was changed.\n{lines}") from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Imported {model.name}: {model.levels.count()} levels.")
