from django.test import Client
from django.urls import reverse


def test_it_answers_ok_when_the_database_and_the_broker_answer(db):
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_needs_no_login(db):
    response = Client().get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_it_is_never_cached(db):
    response = Client().get(reverse("healthz"))
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_it_requires_get(db):
    assert Client().post(reverse("healthz")).status_code == 405
