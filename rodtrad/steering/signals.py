"""Signals other apps listen to, so the plan never imports what is built on top of it.

- `plan_changed(municipality)`: sent inside the transaction of every write that changes the
  plan's items or links (create, update, delete, link, unlink, rollover, model import).
- `demo_loaded(municipality, name)`: sent after a demo municipality's plan is loaded, so
  apps add their own demo data (indicators, economy, follow-up) from their own files.
"""

from django.dispatch import Signal

plan_changed = Signal()
demo_loaded = Signal()
