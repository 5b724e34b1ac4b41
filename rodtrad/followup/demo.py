"""Demo follow-up for the seed municipalities (filled in by load_demo_follow_up)."""

from __future__ import annotations

from rodtrad.organisations.models import Municipality


def load_demo_follow_up(municipality: Municipality, name: str) -> None:
    """Periods, an approved earlier period and one in progress, in the model's own kinds."""
