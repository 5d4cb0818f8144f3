"""Recording a correction on a case: the form (the AI's value beside a value widget fitting the output's
type, the pilot's reasons), refusals on their fields with nothing lost, and the case afterwards."""

from django.urls import reverse

from feedback.models import Correction
from pilots.models import Case
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_corrections import arrive, ready


def url(team, case, pilot=None) -> str:
    return reverse("case_correct", args=[(pilot or team.pilot).pk, case.pk])


def case_url(team, case) -> str:
    return reverse("case_detail", args=[team.pilot.pk, case.pk])


def post(
    client, team, case, *, field="category", value="theft", reason="wrong_extraction", note="", **kwargs
):
    data = {"field": field, "corrected_value": value, "reason": reason, "note": note}
    return client.post(url(team, case), data, **kwargs)


def test_the_form_fits_the_output(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    for name in ("pm", "reviewer"):
        assert client_for(team.person(name)).get(url(team, case)).status_code == 200, name
    page = client_for(team.reviewer).get(url(team, case)).content.decode()
    assert "<html" in page and 'id="correct-form"' in page
    assert '<option value="category" selected>Category — AI: glass</option>' in page
    assert '<option value="approved">Approved — AI: true</option>' in page
    assert '<select name="corrected_value"' in page and '<option value="water">water</option>' in page
    assert '<option value="wrong_extraction">Wrong extraction</option>' in page
    # Choosing another output re-renders the form with its widget, keeping the reason and note.
    assert f'hx-get="{url(team, case)}"' in page
    text = (
        client_for(team.reviewer)
        .get(url(team, case) + "?field=confidence&reason=other&note=Low", headers=HTMX)
        .content.decode()
    )
    assert "<html" not in text and text.strip().startswith('<form id="correct-form"')
    assert '<input type="text" name="corrected_value"' in text and 'inputmode="decimal"' in text
    assert '<option value="other" selected>' in text and ">\nLow</textarea>" in text
    boolean = client_for(team.reviewer).get(url(team, case) + "?field=approved").content.decode()
    assert '<option value="false">false</option>' in boolean


def test_a_retired_reason_is_not_offered(team, client_for):
    from feedback.services import taxonomy

    ready(team)
    (case,) = arrive(team, "c1")
    reason = next(r for r in taxonomy.ensure_taxonomy(team.pilot) if r.code == "policy_changed")
    taxonomy.update_reason(reason=reason, label=reason.label, active=False, actor=team.pm)
    page = client_for(team.pm).get(url(team, case)).content.decode()
    assert "Policy changed" not in page and "Input defect" in page


def test_a_correction_is_recorded_and_the_case_shows_it(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    client = client_for(team.reviewer)
    response = post(client, team, case, note="Smashed lock: theft.")
    assert response.status_code == 302 and response["Location"] == case_url(team, case)
    correction = Correction.objects.get()
    assert (correction.field, correction.ai_value, correction.corrected_value) == (
        "category",
        "glass",
        "theft",
    )
    assert (correction.reason.code, correction.note, correction.by) == (
        "wrong_extraction",
        "Smashed lock: theft.",
        team.reviewer,
    )
    assert correction.ai_version.identifier == "v1" and correction.decision is None
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints) == (True, 1)
    assert "case.corrected" in actions(pilot=team.pilot)
    page = client.get(case_url(team, case)).content.decode()
    assert "Correction recorded on case c1: category glass → theft." in page
    assert (
        'id="case-corrections"' in page and "Smashed lock: theft." in page and "not incorporated yet" in page
    )
    assert f'href="{url(team, case)}"' in page


def test_htmx_is_sent_back_to_the_case(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    response = post(client_for(team.pm), team, case, field="confidence", value="0.25", headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == case_url(team, case)
    assert Correction.objects.get().corrected_value == 0.25


def test_refusals_come_back_on_their_fields_with_nothing_lost(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    client = client_for(team.pm)
    unknown = post(client, team, case, reason="made_up", note="My note")
    assert unknown.status_code == 422
    assert unknown.context["form"].errors == {"reason": ["Choose a reason from the pilot's taxonomy."]}
    page = unknown.content.decode()
    assert ">\nMy note</textarea>" in page and '<option value="theft" selected>' in page
    same = post(client, team, case, value="glass", headers=HTMX)
    assert same.status_code == 422
    body = same.content.decode()
    assert body.strip().startswith('<form id="correct-form"') and "That is what the AI gave" in body
    wrong_type = post(client, team, case, field="confidence", value="high")
    assert wrong_type.status_code == 422 and "must be a number" in wrong_type.content.decode()
    undeclared = post(client, team, case, field="colour", value="red")
    assert undeclared.status_code == 422 and "declares no AI output" in undeclared.content.decode()
    empty = post(client, team, case, value="", reason="")
    assert empty.status_code == 422 and set(empty.context["form"].errors) == {"corrected_value", "reason"}
    case.refresh_from_db()
    assert (Correction.objects.count(), case.corrected, case.touchpoints) == (0, False, 0)
    assert "case.corrected" not in actions(pilot=team.pilot)


def test_a_case_without_outputs_to_correct_says_so(team, client_for):
    (case,) = arrive(team, "c1", ai_version="")  # no standard yet: nothing declared
    client = client_for(team.pm)
    assert "arrived before the pilot had an input standard" in client.get(url(team, case)).content.decode()
    assert post(client, team, case).status_code == 422
    assert Correction.objects.count() == 0


def test_a_repeated_post_records_the_correction_once(team, client_for):
    """A double submit (the same person, the same correction, moments apart) is one correction and one
    touchpoint."""
    ready(team)
    (case,) = arrive(team, "c1")
    client = client_for(team.pm)
    assert post(client, team, case).status_code == 302
    assert post(client, team, case).status_code == 302
    case.refresh_from_db()
    assert (Correction.objects.count(), case.touchpoints) == (1, 1)


def test_other_roles_are_refused(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    for name in ("admin", "owner", "leader"):
        assert client_for(team.person(name)).get(url(team, case)).status_code == 403, name
        assert post(client_for(team.person(name)), team, case).status_code == 403, name
    assert Correction.objects.count() == 0
    page = client_for(team.leader).get(case_url(team, case)).content.decode()
    assert url(team, case) not in page


def test_it_is_a_404_for_an_outsider(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    assert client_for(team.outsider).get(url(team, case)).status_code == 404
    assert post(client_for(team.outsider), team, case).status_code == 404
    assert Correction.objects.count() == 0


def test_a_case_of_another_workspace_is_a_404_and_nothing_is_stored(team, client_for):
    ready(team)
    elsewhere = factories.PilotFactory(
        workspace=team.other_workspace, program_manager=team.outsider, workflow_owner=team.outsider
    )
    ready(team, pilot=elsewhere, actor=team.outsider)
    (foreign,) = arrive(team, "theirs", pilot=elsewhere, actor=team.outsider)
    client = client_for(team.pm)
    # Through our pilot's address, and through theirs.
    assert client.get(url(team, foreign)).status_code == 404
    assert post(client, team, foreign).status_code == 404
    assert client.post(url(team, foreign, pilot=elsewhere), {"field": "category"}).status_code == 404
    foreign.refresh_from_db()
    assert (Correction.objects.count(), foreign.corrected, foreign.touchpoints) == (0, False, 0)


def test_a_case_of_another_pilot_is_a_404(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    ready(team, pilot=other)
    (case,) = arrive(team, "x", pilot=other)
    assert post(client_for(team.pm), team, case).status_code == 404
    assert Correction.objects.count() == 0 and not Case.objects.get().corrected


def test_it_allows_only_get_and_post(team, client_for):
    ready(team)
    (case,) = arrive(team, "c1")
    assert client_for(team.pm).put(url(team, case)).status_code == 405
    assert client_for(team.pm).delete(url(team, case)).status_code == 405
