"""What every API router shares (issue 7): key authentication, the per-key rate limit, idempotent
writes, errors as JSON (`{"detail": …, "errors": [{"loc": …, "msg": …}]}`) for every 4xx, and input
types every database can store (Text, JsonObject, Scalar, Moment).

The routers live in each app's `api.py`; config/api.py composes them and applies `idempotent` to every
URL. Keys and sessions never mix: the API reads only the bearer key (no cookie), and the web pages never
read a key.
"""

import logging
import math
import re
import time
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field, PlainValidator, WithJsonSchema

from pilots import gcpause
from pilots.models import ApiKey, Membership, Pilot
from pilots.services import api_keys, audit, idempotency

log = logging.getLogger(__name__)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LARGE_BODY = 100_000  # bytes: a write this large pauses the cycle collector (pilots.gcpause)


def error(
    status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None
) -> JsonResponse:
    response = JsonResponse({"detail": detail, "errors": errors or []}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class Refused(Exception):
    """A precise 4xx from a router: `errors` name the fields (`loc`) it concerns."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None):
        self.status = status
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail)


def message_of(item: dict) -> str:
    """A pydantic error's message, without the "Value error, " pydantic puts before our own messages."""
    return str(item.get("msg", "")).removeprefix("Value error, ")


def field_error(status: int, loc: list, message: str) -> Refused:
    return Refused(status, message, [{"loc": loc, "msg": message}])


def refusal_of(error: DjangoValidationError) -> Refused:
    """A service's ValidationError as a 422: each message under the body field it names (the routers name
    their fields as the services do)."""
    if not hasattr(error, "error_dict"):
        messages = error.messages
        return Refused(422, " ".join(messages), [{"loc": ["body"], "msg": m} for m in messages])
    errors = [
        {"loc": ["body", name], "msg": message}
        for name, messages in error.message_dict.items()
        for message in messages
    ]
    return Refused(422, "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors), errors)


# Typed inputs that the database can always store: no NUL character (PostgreSQL refuses it in text and
# JSON) and no lone surrogate (not encodable as UTF-8), at any depth; moments in a sane range (a year-1
# time with an offset cannot even be converted to UTC).
#
# A decoded JSON string can only hold a NUL or a lone surrogate if the body has one of these: the escape
# \u0000, an escape \uD800–\uDFFF, a raw NUL, or a raw UTF-8-encoded surrogate (json.loads decodes bytes
# with "surrogatepass"). `idempotent` looks once per body; when it finds none, the per-value walk (a
# fifth of a 1,000-case batch's parsing) is skipped. A false alarm (e.g. a literal backslash before
# "u0000") only means the walk runs.
MAYBE_UNSTORABLE = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|\x00|\xed[\xa0-\xbf]")
_body_is_storable: ContextVar[bool] = ContextVar("body_is_storable", default=False)


def _maybe_unstorable(body: bytes) -> bool:
    """Whether the body may hold such a string. Each alternative of the pattern starts with one of three
    byte strings; finding none of them (three scans at memory speed) is a third of the pattern's time."""
    if b"\\u" not in body and b"\x00" not in body and b"\xed" not in body:
        return False
    return MAYBE_UNSTORABLE.search(body) is not None


def _storable(value: Any) -> Any:
    if _body_is_storable.get():
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (a lone surrogate is not)") from None
    elif isinstance(value, dict):
        for name, item in value.items():
            _storable(name)
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)
    return value


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number")
    if not isinstance(value, str | int | float):  # bool is an int
        raise ValueError("a string, a number, true or false")
    return _storable(value)


Text = Annotated[str, AfterValidator(_storable)]
# One JSON value that is not an object, array or null (e.g. a corrected AI output), with one error if not.
Scalar = Annotated[
    str | int | float | bool,
    PlainValidator(_scalar),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]


def _json_object(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise ValueError("Input should be a valid dictionary")
    return _storable(value)


# A JSON object, taken as parsed (its keys are text): pydantic's own dict[str, Any] would copy it and
# check every value against Any, a third of a 1,000-case batch's validation.
JsonObject = Annotated[
    dict[str, Any],
    PlainValidator(_json_object),
    WithJsonSchema({"additionalProperties": True, "type": "object"}),
]
# Compared as instants, a time without an offset as UTC, by pydantic itself (no Python call per value).
Moment = Annotated[datetime, Field(ge=EARLIEST, lt=LATEST)]


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


def check_rate(key: ApiKey) -> None:
    """A fixed one-minute window per key, counted in the cache (Redis when REDIS_URL is set)."""
    limit = settings.API_RATE_LIMIT_PER_MINUTE
    now = time.time()
    window = int(now // 60)
    name = f"api-rate:{key.pk}:{window}"
    try:
        cache.add(name, 0, timeout=120)
        try:
            count = cache.incr(name)
        except ValueError:  # evicted between add and incr
            cache.set(name, 1, timeout=120)
            count = 1
    except Exception:  # the cache (Redis) is down: serve rather than refuse; the limit is a courtesy
        log.warning("rate limit unavailable: the cache does not answer", exc_info=True)
        return
    if count > limit:
        raise RateLimited(max(1, math.ceil((window + 1) * 60 - now)))


def bearer_token(request: HttpRequest) -> str | None:
    """The token of `Authorization: Bearer <token>`, read exactly as ninja's HttpBearer reads it (the
    scheme in any case), so the idempotent wrapper and the router always agree on the key."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token.strip() else None


class KeyAuth(HttpBearer):
    """`Authorization: Bearer pr_…`: the request acts as the key's workspace."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = getattr(request, "api_key", None) or api_keys.authenticate(token)
        if key is None:
            return None
        if request.method in UNSAFE and not key.may_write:
            raise HttpError(403, "This API key is read-only.")
        check_rate(key)
        request.api_key = key
        return key


def pilot_of(request: HttpRequest, pilot_id: int) -> Pilot:
    """The key's workspace's pilot, or 404 (a pilot of another workspace does not exist for the key)."""
    pilot = (
        Pilot.objects.select_related("workspace")
        .filter(pk=pilot_id, workspace=request.auth.workspace)
        .first()
    )
    if pilot is None:
        raise Http404("No such pilot.")
    return pilot


def member_of(request: HttpRequest, username: str | None, *, field: str = "reviewer"):
    """The member a write acts for (on behalf of), who must belong to the key's workspace."""
    if not username:
        return None
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace=request.auth.workspace, user__username=username, user__is_active=True)
        .first()
    )
    if membership is None:
        raise field_error(422, ["body", field], f"“{username}” is not a member of this workspace.")
    membership.user.membership = membership
    return membership.user


def _json(response: HttpResponse) -> bytes:
    return bytes(response.content)


def _json_type(request: HttpRequest) -> bool:
    kind = request.content_type.lower()
    return kind == "application/json" or kind.endswith("+json")


def _nul_in_url(request: HttpRequest) -> bool:
    """PostgreSQL refuses NUL in text: a path or query parameter holding one could never match."""
    return "\x00" in request.path or any("\x00" in v for _, values in request.GET.lists() for v in values)


def idempotent(view: Callable) -> Callable:
    """Every write takes an Idempotency-Key: the first response is stored and replayed.

    The checks come in the order a client can act on them: body size (413), the key (401, answered by
    the router), a read-only key (403), the content type (415), the Idempotency-Key header (400); only
    then is the Idempotency-Key claimed."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _nul_in_url(request):
            return error(400, "The URL holds a NUL character.")
        if request.method not in UNSAFE:
            return view(request, *args, **kwargs)
        try:
            body = request.body
        except RequestDataTooBig:
            return error(413, f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        token = bearer_token(request)
        key = api_keys.authenticate(token) if token else None
        if key is None:
            return view(request, *args, **kwargs)  # the router answers 401
        request.api_key = key
        if not key.may_write:
            return error(403, "This API key is read-only.")
        if body and not _json_type(request):
            return error(
                415,
                f"Send the body as JSON (Content-Type: application/json), not {request.content_type or '—'}.",
                [{"loc": ["header", "Content-Type"], "msg": "must be application/json"}],
            )
        given = request.headers.get("Idempotency-Key", "").strip()
        if not given:
            return error(
                400,
                "Every write needs an Idempotency-Key header.",
                [{"loc": ["header", "Idempotency-Key"], "msg": "required"}],
            )
        if len(given) > idempotency.MAX_KEY_LENGTH:
            return error(
                400,
                "The Idempotency-Key is longer than 255 characters.",
                [{"loc": ["header", "Idempotency-Key"], "msg": "at most 255 characters"}],
            )
        try:
            claim = idempotency.claim(
                api_key=key,
                key=given,
                fingerprint=idempotency.request_hash(request.method, request.path, body),
            )
        except idempotency.IdempotencyConflict as conflict:
            return error(
                conflict.status, str(conflict), [{"loc": ["header", "Idempotency-Key"], "msg": str(conflict)}]
            )
        if claim.replay:
            response = HttpResponse(
                bytes(claim.record.response or b""),
                status=claim.record.status_code,
                content_type="application/json",
            )
            response["Idempotent-Replayed"] = "true"
            return response
        storable = _body_is_storable.set(not _maybe_unstorable(body))
        # A large batch's parsed items and rows all live until its response: see pilots.gcpause.
        pause = gcpause.paused() if len(body) >= LARGE_BODY else nullcontext()
        # The write and its stored response commit together (one commit, not two): a response is never
        # stored for writes that were rolled back, nor writes kept whose response could not be stored.
        try:
            with transaction.atomic(), audit.acting_through(key), pause:
                response = view(request, *args, **kwargs)
                retry = response.status_code >= 500 or response.status_code in (401, 429)
                if retry:
                    transaction.set_rollback(True)
                else:
                    idempotency.finish(
                        record=claim.record, status_code=response.status_code, body=_json(response)
                    )
        except Exception:
            idempotency.release(record=claim.record)
            raise
        finally:
            _body_is_storable.reset(storable)
        if retry:
            idempotency.release(record=claim.record)  # nothing was done: the same key may be retried
        return response

    return wrapper


def _loc(loc) -> list:
    """ninja puts the body parameter's name after "body" (`["body", "batch", "cases", 0]`); every operation
    of this API has one body parameter, so the client's own path is the rest (`["body", "cases", 0]`)."""
    loc = list(loc)
    return [loc[0], *loc[2:]] if loc[:1] == ["body"] and len(loc) >= 2 else loc


def install_handlers(api) -> None:
    """JSON errors of one shape for every 4xx the API can give."""
    from ninja.errors import AuthenticationError
    from ninja.errors import ValidationError as NinjaValidationError

    @api.exception_handler(NinjaValidationError)
    def invalid(request, exc):
        errors = [{"loc": _loc(item.get("loc", [])), "msg": message_of(item)} for item in exc.errors]
        return error(422, "The request does not fit the schema.", errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return error(401, "A valid API key is required: Authorization: Bearer <key>.")

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        cause = exc.__cause__
        if exc.status_code == 400 and cause is not None:  # ninja could not parse the body
            return error(400, f"The body is not valid JSON: {cause}.", [{"loc": ["body"], "msg": str(cause)}])
        return error(exc.status_code, str(exc))

    @api.exception_handler(Refused)
    def refused(request, exc):
        return error(exc.status, exc.detail, exc.errors)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error(404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return error(403, str(exc) or "Not allowed.")

    @api.exception_handler(RateLimited)
    def limited(request, exc):
        return error(
            429, "Too many requests for this key; slow down.", headers={"Retry-After": str(exc.retry_after)}
        )


@login_not_required
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/: JSON like every other API answer, not the web's HTML page."""
    return error(404, f"No API endpoint at {request.path}. The API is described at /api/v1/openapi.json.")
