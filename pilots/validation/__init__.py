"""Checking cases against an input standard: the standard's own shape (spec), reading values (values),
and the compiled validator (compiler)."""

from pilots.validation.compiler import EMAIL_PATTERN, Checked, Problem, Validator, validator_for
from pilots.validation.spec import (
    COMPARE_OPS,
    FIELD_TYPES,
    PROBLEM_KINDS,
    StandardError,
    validate_standard,
)
from pilots.validation.values import parse_boolean, parse_date, parse_datetime, parse_number

__all__ = [
    "COMPARE_OPS",
    "EMAIL_PATTERN",
    "FIELD_TYPES",
    "PROBLEM_KINDS",
    "Checked",
    "Problem",
    "StandardError",
    "Validator",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_number",
    "validate_standard",
    "validator_for",
]
