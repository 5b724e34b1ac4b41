from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rodtrad.lib.yamlfile import FileProblems
from rodtrad.organisations.models import Membership
from rodtrad.steering.demo import DEMO_PASSWORD, create_platform_admin, demo_files, load_demo_file


class Command(BaseCommand):
    help = "Load the five seed municipalities with their models, organisations, plans and users."

    def handle(self, *args: Any, **options: Any) -> None:
        for path in demo_files():
            try:
                municipality = load_demo_file(path)
            except FileProblems as exc:
                raise CommandError(f"{path.name}: {exc}") from None
            if municipality is None:
                self.stdout.write(f"{path.stem}: already loaded")
            else:
                items = municipality.plan_items.count()
                self.stdout.write(f"{path.stem}: loaded {municipality.name} ({items} plan items)")
        create_platform_admin()
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin  (platform administrator, Django admin for all municipalities)")
        memberships = Membership.objects.select_related("user__municipality", "org_unit").order_by(
            "user__municipality__name", "user__username"
        )
        for m in memberships:
            self.stdout.write(
                f"  {m.user.username:28} {m.user.municipality}: {m.get_role_display()}"
                f" – {m.org_unit.name}"
            )
