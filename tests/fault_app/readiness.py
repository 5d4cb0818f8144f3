"""Stall a recompute while READINESS_STALL_FILE names a file: the first run writes its pid there and
waits; a later run (the redelivery, in a new pool child) finds a pid already written and goes on."""

import os
import time
from pathlib import Path

from pilots.checks import figures


@figures("fault_app")
def stall_once(pilot_ids: list[int]) -> dict[int, dict]:
    flag = os.environ.get("READINESS_STALL_FILE")
    if flag and Path(flag).exists():
        runs = Path(flag).read_text().split()
        with Path(flag).open("a") as out:
            out.write(f"{os.getpid()}\n")
        if not runs:
            time.sleep(60)  # killed long before this ends
    return {pilot_id: {"runs": 1} for pilot_id in pilot_ids}
