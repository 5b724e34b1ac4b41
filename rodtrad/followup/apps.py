from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowUpConfig(AppConfig):
    name = "rodtrad.followup"
    label = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from rodtrad.steering import extensions
        from rodtrad.steering.signals import demo_loaded

        def on_demo_loaded(sender: Any, municipality: Any, name: str, **kwargs: Any) -> None:
            from rodtrad.followup.demo import load_demo_follow_up

            load_demo_follow_up(municipality, name)

        from rodtrad.followup.views import item_panel

        extensions.item_panels.append(item_panel)
        demo_loaded.connect(on_demo_loaded, weak=False, dispatch_uid="followup-demo")
