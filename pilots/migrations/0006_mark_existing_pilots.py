"""Existing pilots have no readiness snapshot yet: mark them all, and the sweep recomputes them."""

import time

from django.db import migrations
from django.utils import timezone


def mark_all(apps, schema_editor):
    Pilot = apps.get_model("pilots", "Pilot")
    ReadinessMark = apps.get_model("pilots", "ReadinessMark")
    now = timezone.now()
    marks = [
        ReadinessMark(pilot_id=pilot_id, generation=time.time_ns(), marked_at=now)
        for pilot_id in Pilot.objects.values_list("id", flat=True)
    ]
    ReadinessMark.objects.bulk_create(marks, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("pilots", "0005_readiness")]

    operations = [migrations.RunPython(mark_all, migrations.RunPython.noop)]
