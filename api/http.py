"""What every API view shares: authentication, JSON answers and errors, pagination.

A request is authenticated by `Authorization: Bearer <token>` (a per-user API token), or,
without that header, by the browser session of a logged-in user. It then sees what its user
sees (posture.visibility), nothing more. Read-only: GET and HEAD only; neither needs a CSRF
token, and nothing here changes state but a token's last-used time.
"""

from __future__ import annotations

import math
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api.tokens import bearer_token, token_user
from posture.visibility import visible_to

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
METHODS = ("GET", "HEAD")


class ApiError(Exception):
    def __init__(self, status: int, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or {}


def json_response(data, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    response["Vary"] = "Authorization, Cookie"
    return response


def _error(status: int, detail: str, errors: dict | None = None) -> JsonResponse:
    body = {"detail": detail}
    if errors:
        body["errors"] = errors
    return json_response(body, status=status)


def authenticated_user(request):
    """The user behind the request's bearer token, or its session; None when neither."""
    if "Authorization" in request.headers:
        token = bearer_token(request)
        return token_user(token) if token else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated and user.is_active else None


def api_view(view):
    """A read-only API view: `view(request, visible, *args)`; errors become JSON answers."""

    @login_not_required  # the token (or the session) is checked below, with a JSON answer
    @csrf_exempt  # read-only; any other method gets 405 here, not a CSRF page
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in METHODS:
            response = _error(405, f"Method {request.method} not allowed: this API is read-only.")
            response["Allow"] = ", ".join(METHODS)
            return response
        user = authenticated_user(request)
        if user is None:
            response = _error(
                401, "Authentication required: send Authorization: Bearer <API token>."
            )
            response["WWW-Authenticate"] = 'Bearer realm="tlsposture API"'
            return response
        try:
            return view(request, visible_to(user), *args, **kwargs)
        except ApiError as exc:
            return _error(exc.status, exc.detail, exc.errors)

    return wrapper


def _positive_int(params, name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" from 1 to {maximum}" if maximum else " from 1"
        raise ApiError(400, "Invalid pagination.", {name: [f"A whole number{limit}."]})
    return value


def refuse_repeats(params, names) -> None:
    """A parameter given twice has no one meaning: say so rather than pick one."""
    repeated = [name for name in names if len(params.getlist(name)) > 1]
    if repeated:
        raise ApiError(400, "Invalid filters.", {n: ["Given more than once."] for n in repeated})


def paginated(request, queryset, rows) -> JsonResponse:
    """One page of `queryset` as {count, page, per_page, pages, next, previous, results}
    plus a Link header (RFC 8288); `rows(objects)` turns the page's objects into results.
    Two queries (count and page) plus what `rows` prefetches."""
    params = request.GET
    refuse_repeats(params, ("page", "per_page"))
    number = _positive_int(params, "page", 1)
    per_page = _positive_int(params, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    paginator = Paginator(queryset, per_page)
    pages = max(1, math.ceil(paginator.count / per_page))
    if number > pages:
        raise ApiError(404, f"No page {number}: there are {pages}.")
    page = paginator.page(number)

    def link(to: int) -> str:
        query = params.copy()
        query["page"] = str(to)
        return request.build_absolute_uri(request.path + "?" + urlencode(query, doseq=True))

    next_url = link(number + 1) if page.has_next() else None
    previous_url = link(number - 1) if page.has_previous() else None
    response = json_response(
        {
            "count": paginator.count,
            "page": number,
            "per_page": per_page,
            "pages": pages,
            "next": next_url,
            "previous": previous_url,
            "results": rows(page.object_list),
        }
    )
    links = [(link(1), "first"), (link(pages), "last")]
    if next_url:
        links.append((next_url, "next"))
    if previous_url:
        links.append((previous_url, "prev"))
    response["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    return response
