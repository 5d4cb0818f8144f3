from django.urls import reverse

from config.celery import app


def test_healthz_answers_503_when_the_broker_does_not(client, db):
    ok = client.get(reverse("healthz"))
    assert ok.status_code == 200
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}
