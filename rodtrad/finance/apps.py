from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "rodtrad.finance"
    verbose_name = _("Economy")

    def ready(self) -> None:
        from rodtrad.finance.views import item_money_panel
        from rodtrad.steering import extensions
        from rodtrad.steering.signals import demo_loaded

        extensions.item_panels.append(item_money_panel)

        def on_demo_loaded(sender: Any, municipality: Any, name: str, **kwargs: Any) -> None:
            from rodtrad.finance.demo import load_demo_economy

            load_demo_economy(municipality, name)

        demo_loaded.connect(on_demo_loaded, weak=False, dispatch_uid="finance-demo")
