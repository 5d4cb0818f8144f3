"""A pilot's reason taxonomy: the defaults on first view, then added to, renamed and retired by whoever
edits reason codes (admin, program manager); every member reads it."""

from django.urls import reverse

from feedback.models import DEFAULT_REASONS, ReasonCode
from feedback.services import taxonomy
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_corrections import arrive, correct, ready


def url(team) -> str:
    return reverse("reason_codes", args=[team.pilot.pk])


def reason(team, code) -> ReasonCode:
    return ReasonCode.objects.get(pilot=team.pilot, code=code)


def test_every_member_reads_the_taxonomy_with_its_use(team, client_for):
    ready(team)
    correct(team, arrive(team, "c1")[0], reason="input_defect")
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team))
        assert response.status_code == 200, name
    page = response.content.decode()
    for code, label in DEFAULT_REASONS:
        assert f"<code>{code}</code>" in page and label in page
    used = {r.code: r.used for r, _ in response.context["rows"]}
    assert used["input_defect"] == 1 and used["other"] == 0
    assert 'name="label"' not in page  # the leader reads, does not edit
    assert 'name="label"' in client_for(team.pm).get(url(team)).content.decode()


def test_the_program_manager_adds_a_reason(team, client_for):
    client = client_for(team.pm)
    response = client.post(url(team), {"label": "Outdated price list"})
    assert response.status_code == 302 and response["Location"] == url(team)
    added = reason(team, "outdated_price_list")
    assert (added.label, added.active) == ("Outdated price list", True)
    assert "reason_code.added" in actions(pilot=team.pilot)
    assert "Reason “Outdated price list” added." in client.get(url(team)).content.decode()


def test_a_reason_is_renamed_retired_and_brought_back(team, client_for):
    taxonomy.ensure_taxonomy(team.pilot)
    target = reason(team, "policy_changed")
    client = client_for(team.admin)
    assert (
        client.post(url(team), {"reason": target.pk, "label": "Policy update", "active": "1"}).status_code
        == 302
    )
    target.refresh_from_db()
    assert (target.label, target.active) == ("Policy update", True)
    response = client.post(
        url(team), {"reason": target.pk, "label": "Policy update", "active": "0"}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        body.strip().startswith('<section class="card reason-codes"')
        and "retired: kept on its corrections" in body
    )
    target.refresh_from_db()
    assert target.active is False
    assert (
        client.post(url(team), {"reason": target.pk, "label": "Policy update", "active": "1"}).status_code
        == 302
    )
    target.refresh_from_db()
    assert target.active is True
    assert actions(pilot=team.pilot).count("reason_code.changed") == 3


def test_refusals_show_on_the_field(team, client_for):
    taxonomy.ensure_taxonomy(team.pilot)
    client = client_for(team.pm)
    duplicate = client.post(url(team), {"label": "Other"})
    assert duplicate.status_code == 422 and "is in the taxonomy already" in duplicate.content.decode()
    assert duplicate.context["add_form"].errors["label"]
    assert 'value="Other"' in duplicate.content.decode()  # what was typed stays
    empty = client.post(url(team), {"label": "  "}, headers=HTMX)
    assert empty.status_code == 422 and "Name the reason" in empty.content.decode()
    target = reason(team, "other")
    unnamed = client.post(url(team), {"reason": target.pk, "label": "", "active": "1"})
    assert unnamed.status_code == 422 and "Name the reason." in unnamed.content.decode()
    for code, _ in DEFAULT_REASONS[:-1]:
        taxonomy.update_reason(reason=reason(team, code), label=code, active=False, actor=team.pm)
    last = client.post(url(team), {"reason": target.pk, "label": "Other", "active": "0"})
    assert last.status_code == 422 and "Keep at least one reason in use." in last.content.decode()
    target.refresh_from_db()
    assert (target.label, target.active) == ("Other", True)
    assert ReasonCode.objects.filter(pilot=team.pilot).count() == len(DEFAULT_REASONS)


def test_adding_twice_is_refused_the_second_time(team, client_for):
    client = client_for(team.pm)
    assert client.post(url(team), {"label": "Late data"}).status_code == 302
    assert client.post(url(team), {"label": "Late data"}).status_code == 422
    assert ReasonCode.objects.filter(pilot=team.pilot, code="late_data").count() == 1
    assert actions(pilot=team.pilot).count("reason_code.added") == 1


def test_editing_needs_the_role(team, client_for):
    taxonomy.ensure_taxonomy(team.pilot)
    target = reason(team, "other")
    for name in ("reviewer", "owner", "leader"):
        client = client_for(team.person(name))
        assert client.post(url(team), {"label": "Mine"}).status_code == 403, name
        assert (
            client.post(url(team), {"reason": target.pk, "label": "X", "active": "0"}).status_code == 403
        ), name
    target.refresh_from_db()
    assert (target.label, target.active) == ("Other", True)
    assert not ReasonCode.objects.filter(code="mine").exists()


def test_a_reason_of_another_pilot_is_a_404(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    theirs = taxonomy.ensure_taxonomy(other)[0]
    response = client_for(team.pm).post(url(team), {"reason": theirs.pk, "label": "Hijacked", "active": "1"})
    assert response.status_code == 404
    assert (
        client_for(team.pm).post(url(team), {"reason": "x", "label": "Y", "active": "1"}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.label != "Hijacked"


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(url(team)).status_code == 404
    assert client_for(team.outsider).post(url(team), {"label": "Mine"}).status_code == 404
    assert not ReasonCode.objects.filter(code="mine").exists()


def test_it_allows_only_get_and_post(team, client_for):
    assert client_for(team.pm).put(url(team)).status_code == 405
    assert client_for(team.pm).delete(url(team)).status_code == 405


def test_reading_the_taxonomy_writes_nothing(team, client_for):
    """A reader sees the default reasons; they are stored only when an editor opens the page to edit."""
    page = client_for(team.leader).get(url(team)).content.decode()
    assert all(label in page for _code, label in DEFAULT_REASONS)
    assert not ReasonCode.objects.filter(pilot=team.pilot).exists()
    client_for(team.pm).get(url(team))
    assert ReasonCode.objects.filter(pilot=team.pilot).count() == len(DEFAULT_REASONS)
