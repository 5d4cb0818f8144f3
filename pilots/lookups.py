"""`field__any_of=[…]`: membership in a long list of ids as one parameter.

Django's `__in` sends one placeholder per value; for the readiness engine's batches of thousands of
pilot ids, building and splitting those statements costs more than running them. On PostgreSQL this
lookup sends the list as a single array (`= ANY(%s)`); elsewhere it is an ordinary IN.
"""

from django.db import models
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if connection.vendor == "postgresql":
            # The array's text, written here: psycopg's array dumper adapts a list value by value, a
            # few milliseconds per thousand ids (a recompute sends hundreds of these lists).
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + ",".join(map(str, values)) + "}"]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own
