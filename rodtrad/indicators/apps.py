from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "rodtrad.indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from rodtrad.steering.signals import demo_loaded, plan_changed

        def on_plan_changed(sender: Any, municipality: Any, **kwargs: Any) -> None:
            from rodtrad.indicators.rollup import mark_stale

            mark_stale(municipality)

        def on_demo_loaded(sender: Any, municipality: Any, name: str, **kwargs: Any) -> None:
            from rodtrad.indicators.demo import load_demo_indicators

            load_demo_indicators(municipality, name)

        from rodtrad.indicators.views import item_panel, node_badges
        from rodtrad.steering import extensions

        extensions.node_decorators.append(node_badges)
        extensions.item_panels.append(item_panel)
        plan_changed.connect(on_plan_changed, weak=False, dispatch_uid="indicators-plan")
        demo_loaded.connect(on_demo_loaded, weak=False, dispatch_uid="indicators-demo")
