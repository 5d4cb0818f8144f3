"""case_store.Rows: rows made while COPY reads them, kept for the staging path's second read."""

from pilots.services.case_store import Rows


def test_rows_are_made_once_as_they_are_read_and_read_again_in_full():
    made = []

    def make():
        for i in range(5):
            made.append(i)
            yield (i, f"case-{i}")

    rows = Rows(5, make())
    assert len(rows) == 5 and made == []  # nothing made before the first read
    first = iter(rows)
    assert [next(first), next(first)] == [(0, "case-0"), (1, "case-1")]  # a COPY that stopped at a clash
    del first
    assert list(rows) == [(i, f"case-{i}") for i in range(5)]  # the stage reads every row
    assert list(rows) == [(i, f"case-{i}") for i in range(5)]
    assert made == [0, 1, 2, 3, 4]  # each row made once
