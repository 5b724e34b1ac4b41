from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rodtrad.steering.modelfile import export_model
from rodtrad.steering.models import SteeringModel


class Command(BaseCommand):
    help = "Write a municipality's steering model as a model file to standard output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="four-digit code, e.g. 0665")

    def handle(self, *args: Any, **options: Any) -> None:
        model = SteeringModel.objects.filter(municipality__code=options["municipality"]).first()
        if model is None:
            raise CommandError(f"Municipality {options['municipality']} has no steering model.")
        self.stdout.write(export_model(model), ending="")
