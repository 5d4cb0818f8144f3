"""The input standard editor: reading, publishing (inline, with errors on their rows), adding rows."""

import html
import re

from django.urls import reverse

from pilots.models import InputStandard
from tests.views.conftest import HTMX, actions
from tests.views.test_step2_helpers import SPEC, editor_data, publish


def url(pilot) -> str:
    return reverse("standard", args=[pilot.pk])


def row_url(pilot, part: str) -> str:
    return reverse("standard_row", args=[pilot.pk, part])


def body(response) -> str:
    return html.unescape(response.content.decode())


def test_every_member_reads_the_current_version(team, client_for):
    publish(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot))
        assert response.status_code == 200, name
        assert "Version 1" in body(response), name
        assert "claim_id" in body(response), name


def test_only_program_managers_and_admins_get_the_editor(team, client_for):
    publish(team)
    assert 'id="standard-editor"' in body(client_for(team.pm).get(url(team.pilot)))
    assert 'id="standard-editor"' in body(client_for(team.admin).get(url(team.pilot)))
    for name in ("owner", "reviewer", "leader"):
        page = body(client_for(team.person(name)).get(url(team.pilot)))
        assert 'id="standard-editor"' not in page, name
        assert "end_date</code> >= <code>start_date" in page, name  # the read-only view


def test_a_pilot_without_a_standard_says_so(team, client_for):
    page = body(client_for(team.pm).get(url(team.pilot)))
    assert "No standard yet" in page
    assert "Define version 1" in page
    # Blank rows are always there, so the editor works without JavaScript.
    assert 'name="inputs-0-name"' in page and 'name="inputs-1-name"' in page


def test_the_editor_is_prefilled_with_the_current_version(team, client_for):
    publish(team)
    page = body(client_for(team.pm).get(url(team.pilot)))
    assert 'name="inputs-0-name" value="claim_id"' in page
    assert 'value="^C-\\d+$"' in page
    assert 'name="inputs-2-allowed" value="web, phone"' in page
    assert 'name="inputs-TOTAL_FORMS" value="10"' in page  # 8 fields and 2 blank rows
    assert "Publish version 2" in page


def test_the_program_manager_publishes_version_1(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), editor_data(SPEC, note="first cut"))
    assert response.status_code == 302
    assert response.url == url(team.pilot)
    standard = InputStandard.objects.get(pilot=team.pilot)
    assert standard.version == 1
    assert standard.note == "first cut"
    assert standard.published_by == team.pm
    assert [f["name"] for f in standard.inputs] == [f["name"] for f in SPEC["inputs"]]
    amount = standard.inputs[1]
    assert (amount["min"], amount["max"], amount["required"]) == (0, 10000, True)
    assert standard.inputs[2]["allowed"] == ["web", "phone"]
    assert [r["kind"] for r in standard.rules] == ["compare", "requires"]
    assert (standard.event_time_field, standard.max_lateness_hours) == ("submitted_at", 48)
    assert actions(pilot=team.pilot) == ["standard.published"]
    assert "Version 1 published." in body(client_for(team.pm).get(url(team.pilot)))


def test_an_htmx_publish_returns_the_refreshed_body_and_an_event(team, client_for):
    response = client_for(team.admin).post(url(team.pilot), editor_data(SPEC), headers=HTMX)
    assert response.status_code == 200
    page = body(response)
    assert 'id="standard-body"' in page and "<html" not in page
    assert "Version 1 published." in page
    assert "standardPublished" in response.headers["HX-Trigger"]
    assert InputStandard.objects.filter(pilot=team.pilot).count() == 1


def test_editing_publishes_the_next_version_and_keeps_the_old_one(team, client_for):
    publish(team)
    changed = dict(SPEC, inputs=SPEC["inputs"] + [{"name": "policy", "type": "string", "required": True}])
    client_for(team.pm).post(url(team.pilot), editor_data(changed))
    assert list(InputStandard.objects.filter(pilot=team.pilot).values_list("version", flat=True)) == [2, 1]
    assert len(InputStandard.objects.get(pilot=team.pilot, version=1).inputs) == 8


def test_the_unchanged_current_version_posted_back_publishes_nothing(team, client_for):
    """The editor round trip: what the page shows, posted as is, is the same standard."""
    publish(team)
    client = client_for(team.pm)
    form = client.get(url(team.pilot)).context["editor"]
    data = {}
    for formset in form.formsets():
        data |= {
            f"{formset.prefix}-TOTAL_FORMS": str(formset.total_form_count()),
            f"{formset.prefix}-INITIAL_FORMS": "0",
        }
        for row in formset.forms:
            for field in row:
                value = field.value()
                if value not in (None, "", False):
                    data[field.html_name] = "on" if value is True else str(value)
    data |= {"event_time_field": "submitted_at", "max_lateness_hours": "48"}
    response = client.post(url(team.pilot), data)
    assert response.status_code == 302
    assert InputStandard.objects.filter(pilot=team.pilot).count() == 1
    assert "Nothing changed: version 1 stays current." in body(client.get(url(team.pilot)))


def test_publishing_the_same_standard_twice_makes_one_version(team, client_for):
    client = client_for(team.pm)
    assert client.post(url(team.pilot), editor_data(SPEC)).status_code == 302
    assert client.post(url(team.pilot), editor_data(SPEC)).status_code == 302
    assert InputStandard.objects.filter(pilot=team.pilot).count() == 1
    assert actions(pilot=team.pilot) == ["standard.published"]


def test_a_bad_pattern_is_shown_on_its_row_and_nothing_is_published(team, client_for):
    spec = dict(
        SPEC, inputs=[*SPEC["inputs"][:2], dict(SPEC["inputs"][2], pattern="(unclosed"), *SPEC["inputs"][3:]]
    )
    data = editor_data(spec, note="typed with care")
    response = client_for(team.pm).post(url(team.pilot), data)
    assert response.status_code == 422
    page = body(response)
    row = re.search(r'<tr class="editor-row row-error" id="inputs-2">(.*?)</tr>', page, re.S)
    assert row, "the row of the bad pattern is marked"
    assert "Not a valid regular expression" in row.group(1)
    assert 'name="inputs-2-pattern" value="(unclosed"' in row.group(1)
    assert "Not published." in page
    # Nothing typed is lost.
    assert 'name="inputs-7-name" value="urgent"' in page
    assert 'value="typed with care"' in page
    assert not InputStandard.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_errors_reach_the_row_they_name_even_after_skipped_rows(team, client_for):
    data = editor_data({"inputs": [{"name": "amount", "type": "number"}, {"name": "code", "type": "string"}]})
    # A removed first row and a blank second one shift the positions the service reports.
    data |= {
        "inputs-TOTAL_FORMS": "4",
        "inputs-2-name": "old",
        "inputs-2-type": "string",
        "inputs-2-DELETE": "on",
    }
    data |= {"inputs-3-name": "Bad Name", "inputs-3-type": "string"}
    response = client_for(team.pm).post(url(team.pilot), data, headers=HTMX)
    assert response.status_code == 422
    page = body(response)
    row = re.search(r'id="inputs-3">(.*?)</tr>', page, re.S).group(1)
    assert "Use lower-case letters" in row
    assert 'id="standard-body"' in page and "<html" not in page
    assert not InputStandard.objects.exists()


def test_a_rule_error_is_shown_under_its_rule(team, client_for):
    spec = dict(SPEC, rules=[{"kind": "compare", "left": "end_date", "op": ">=", "right": "amount"}])
    response = client_for(team.pm).post(url(team.pilot), editor_data(spec))
    assert response.status_code == 422
    assert "Compare fields of the same type." in body(response)
    assert not InputStandard.objects.exists()


def test_lateness_errors_are_shown_on_their_fields(team, client_for):
    spec = dict(SPEC, event_time_field="amount")
    response = client_for(team.pm).post(url(team.pilot), editor_data(spec))
    assert response.status_code == 422
    assert "The event time is an input field of type date or datetime." in body(response)


def test_a_number_that_is_not_one_is_refused_on_its_field(team, client_for):
    data = editor_data(SPEC) | {"inputs-1-min": "ten"}
    response = client_for(team.pm).post(url(team.pilot), data)
    assert response.status_code == 422
    assert "Give a number." in body(response)
    assert not InputStandard.objects.exists()


def test_a_standard_needs_an_input_field(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), editor_data({"inputs": []}))
    assert response.status_code == 422
    assert "Declare at least one input field." in body(response)
    assert not InputStandard.objects.exists()


def test_removed_rows_are_left_out(team, client_for):
    data = editor_data(SPEC) | {"inputs-7-DELETE": "on"}
    client_for(team.pm).post(url(team.pilot), data)
    assert [f["name"] for f in InputStandard.objects.get().inputs][-1] == "submitted_at"


def test_adding_a_row_without_javascript_keeps_the_draft_and_publishes_nothing(team, client_for):
    data = editor_data(SPEC) | {"add": "outputs"}
    response = client_for(team.pm).post(url(team.pilot), data)
    assert response.status_code == 200
    page = body(response)
    assert 'name="outputs-TOTAL_FORMS" value="3"' in page
    assert 'name="outputs-2-name"' in page
    assert 'name="inputs-0-name" value="claim_id"' in page
    assert not InputStandard.objects.exists()


def test_the_add_row_fragment_is_the_next_blank_row_with_the_new_total(team, client_for):
    response = client_for(team.pm).get(
        row_url(team.pilot, "inputs"), {"inputs-TOTAL_FORMS": "5"}, headers=HTMX
    )
    assert response.status_code == 200
    page = body(response)
    assert 'name="inputs-5-name"' in page
    assert 'name="inputs-5-DELETE"' in page
    assert 'id="id_inputs-TOTAL_FORMS" hx-swap-oob="true"' in page
    assert 'name="inputs-TOTAL_FORMS" value="6"' in page
    assert "<html" not in page


def test_a_new_rule_row_offers_the_input_names_typed_so_far(team, client_for):
    query = {"compare-TOTAL_FORMS": "1", "inputs-0-name": "start_date", "inputs-1-name": "end_date"}
    page = body(client_for(team.pm).get(row_url(team.pilot, "compare"), query, headers=HTMX))
    assert 'name="compare-1-left"' in page
    assert '<option value="start_date">start_date</option>' in page
    assert '<option value="end_date">end_date</option>' in page


def test_the_rule_selects_list_the_standards_input_names(team, client_for):
    publish(team)
    page = body(client_for(team.pm).get(url(team.pilot)))
    select = re.search(r'<select name="compare-0-left".*?</select>', page, re.S).group(0)
    assert '<option value="end_date" selected>' in select
    assert '<option value="claim_id">' in select


def test_the_add_row_fragment_is_for_editors_only(team, client_for):
    assert client_for(team.reviewer).get(row_url(team.pilot, "inputs")).status_code == 403
    assert client_for(team.outsider).get(row_url(team.pilot, "inputs")).status_code == 404
    assert client_for(team.pm).get(row_url(team.pilot, "nonsense")).status_code == 404
    assert client_for(team.pm).post(row_url(team.pilot, "inputs")).status_code == 405


def test_forged_fields_are_ignored(team, client_for):
    data = editor_data(SPEC) | {"version": "7", "published_by": str(team.admin.pk), "pilot": "999"}
    client_for(team.pm).post(url(team.pilot), data)
    standard = InputStandard.objects.get()
    assert (standard.version, standard.published_by, standard.pilot) == (1, team.pm, team.pilot)


def test_it_requires_the_program_manager_or_admin_role_to_publish(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(team.pilot), editor_data(SPEC)).status_code == 403, name
    assert not InputStandard.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_it_is_a_404_for_an_outsider(team, client_for):
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.post(url(team.pilot), editor_data(SPEC)).status_code == 404
    assert not InputStandard.objects.exists()


def test_it_allows_only_get_and_post(team, client_for):
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
    assert client_for(team.pm).delete(url(team.pilot)).status_code == 405
    assert not InputStandard.objects.exists()


def names_url(pilot) -> str:
    return reverse("standard_names", args=[pilot.pk])


def test_the_field_selects_follow_the_names_typed_so_far(team, client_for):
    query = {
        "inputs-TOTAL_FORMS": "3",
        "inputs-INITIAL_FORMS": "0",
        "inputs-0-name": "opened_on",
        "inputs-0-type": "date",
        "inputs-1-name": "closed_on",
        "inputs-1-type": "datetime",
        "inputs-2-name": "amount",
        "inputs-2-type": "number",
        "compare-TOTAL_FORMS": "1",
        "compare-INITIAL_FORMS": "0",
        "compare-0-left": "closed_on",
        "requires-TOTAL_FORMS": "1",
        "requires-INITIAL_FORMS": "0",
        "event_time_field": "opened_on",
    }
    response = client_for(team.pm).get(names_url(team.pilot), query, headers=HTMX)
    assert response.status_code == 200
    page = body(response)
    left = re.search(r'<select name="compare-0-left".*?</select>', page, re.S).group(0)
    assert 'id="id_compare-0-left"' in left and 'hx-swap-oob="true"' in left
    assert '<option value="closed_on" selected>' in left
    assert '<option value="amount">' in left
    assert 'name="requires-0-then_field"' in page
    event = re.search(r'<select name="event_time_field".*?</select>', page, re.S).group(0)
    assert '<option value="opened_on" selected>' in event
    assert "amount" not in event  # only date and datetime fields hold an event time


def test_the_field_selects_are_for_editors_only(team, client_for):
    assert client_for(team.leader).get(names_url(team.pilot)).status_code == 403
    assert client_for(team.outsider).get(names_url(team.pilot)).status_code == 404
    assert client_for(team.pm).post(names_url(team.pilot)).status_code == 405
