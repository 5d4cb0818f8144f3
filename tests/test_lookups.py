"""`__any_of`: the same rows as `__in`, on SQLite and on PostgreSQL (where the ids go as one array)."""

import pytest

from pilots.models import Workspace


@pytest.mark.django_db
def test_any_of_matches_what_in_matches():
    made = [Workspace.objects.create(name=f"W{n}", slug=f"w{n}").pk for n in range(5)]
    wanted = [made[0], made[3], 10**12, made[3]]  # an unknown id and a repeat change nothing
    found = set(Workspace.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    assert found == set(Workspace.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == {made[0], made[3]}
    assert not Workspace.objects.filter(pk__any_of=[]).exists()
    assert Workspace.objects.filter(pk__any_of=(str(made[1]),)).get().pk == made[1]  # ids as text: ints
    many = list(range(10**9, 10**9 + 5000)) + [made[4]]
    assert list(Workspace.objects.filter(pk__any_of=many).values_list("pk", flat=True)) == [made[4]]


@pytest.mark.django_db
def test_any_of_refuses_what_is_not_an_id():
    with pytest.raises(ValueError):
        list(Workspace.objects.filter(pk__any_of=["1; DROP TABLE pilots_workspace"]))
