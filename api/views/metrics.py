"""GET /metrics for Prometheus: bearer TLSPOSTURE_METRICS_TOKEN, off (404) when it is unset.

The only view besides the unsubscribe link that the login middleware lets through: the
token is its login. Everything else (HTTPS redirect, security headers) applies as usual.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from api.exposition import CONTENT_TYPE, stream
from api.metrics import FleetCollector
from api.tokens import bearer_token, matches


@login_not_required
@require_GET
@gzip_page
def metrics(request):
    expected = settings.TLSPOSTURE.get("METRICS_TOKEN") or ""
    if not expected:
        raise Http404("Metrics are off: TLSPOSTURE_METRICS_TOKEN is not set.")
    if not matches(bearer_token(request), expected):
        response = HttpResponse(
            "401 Unauthorized: send Authorization: Bearer <TLSPOSTURE_METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="tlsposture metrics"'
        return response
    response = StreamingHttpResponse(stream(FleetCollector()), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
