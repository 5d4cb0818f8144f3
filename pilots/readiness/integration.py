"""Integration: does the pilot plug into the systems people already use?"""

from django.urls import reverse

from pilots.checks import MISSING, Evidence, Result, check
from pilots.models import Pilot


def _pilot_link(pilot_id: int) -> tuple[str, str]:
    return ("Pilot settings", reverse("pilot_edit", args=[pilot_id]))


@check(
    id="integration.points_declared",
    section="integration",
    title="Integration points declared and feeding cases",
    gate="standardize_inputs",
    attestable=True,
)
def points_declared(pilot_ids: list[int]) -> dict[int, Result]:
    # Verified needs cases arriving from source=api as well; until cases reach ProdReady through its API,
    # a declared integration can be attested (0.5) but not verified.
    results = {}
    for pilot_id, points in Pilot.objects.filter(id__in=pilot_ids).values_list("id", "integration_points"):
        if not points:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No integration points declared.", (_pilot_link(pilot_id),)),
                "List the systems the pilot plugs into on the pilot's settings.",
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"Declared: {', '.join(points)}; no case has arrived from them through the API yet."
                ),
                f"Feed cases from {points[0]} through the API, or attest with a link to the plan.",
            )
    return results
