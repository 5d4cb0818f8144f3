from django.urls import reverse

from pilots.models import GateRequest


def test_the_main_pages_render_for_each_persona(team, client_for):
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        for url in (
            reverse("workspace_home", args=[team.workspace.slug]),
            reverse("pilot_list", args=[team.workspace.slug]),
            reverse("pilot_detail", args=[team.pilot.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200, (name, url, response.status_code)


def test_a_gate_goes_from_request_to_decision(team, client_for):
    client = client_for(team.pm)
    response = client.post(reverse("gate_request", args=[team.pilot.pk]), {"note": "ready"})
    assert response.status_code == 302
    gate_request = GateRequest.objects.get(pilot=team.pilot)
    client = client_for(team.owner)
    response = client.post(
        reverse("gate_decide", args=[team.pilot.pk, gate_request.pk]),
        {"outcome": "go"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert b"Go refused" in response.content
    client.post(reverse("accept_accountability", args=[team.pilot.pk]))
    response = client.post(
        reverse("gate_decide", args=[team.pilot.pk, gate_request.pk]),
        {"outcome": "go"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert "gateDecided" in response.headers["HX-Trigger"]
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "define_success"
