"""The OpenAPI 3.0 document of /api/v1/, served at /api/v1/openapi.json.

Written here next to the views it describes; the filter parameters are read from the filter
set's form (api.filters), the row keys are the report's. The suite runs schemathesis against
a live server with this document, so a view that answers otherwise fails it.
"""

from __future__ import annotations

from api.filters import filter_parameters
from api.http import DEFAULT_PER_PAGE, MAX_PER_PAGE
from checker.models import CheckRun, Observation
from inventory.models import DBInstance, Provider, SyncRegion, SyncRun
from posture.grades import EVERY_GRADE, SEVERITIES
from posture.report import NEVER_CHECKED, ROW_KEYS
from posture.rules_clients import READINESS_STATES

FILTER_NAMES = tuple(p.name for p in filter_parameters())
# Free text may hold anything the filter form takes; the form refuses NUL characters.
_TEXT = r"^[^\u0000]*$"
# key=value: a key with a visible character (the form strips white space around it); empty
# (or only white space) is no filter.
_BLANK = r"[\s\u001c-\u001f\u0085]*"
_TAG = rf"^{_BLANK}$|^{_BLANK}[^=\s\u0000-\u001f\u007f-\u009f][^=\u0000]*=[^\u0000]*$"
_INT64 = 2**63 - 1


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
TIME = {"type": "string", "format": "date-time", "example": "2026-11-23T08:00:00Z"}
STRINGS = {"type": "array", "items": STRING}

FINDING = {
    "type": "object",
    "required": ["id", "severity", "evidence", "remediation"],
    "properties": {
        "id": {**STRING, "description": "Catalogue id, e.g. transport.not_enforced."},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "evidence": {"description": "Raw values and their sources."},
        "remediation": STRING,
    },
}

READINESS_HELP = (
    "Would the change break a client seen within TLSPOSTURE_CLIENT_WINDOW_DAYS? done = already so."
)

# One row of the fleet report (docs/design.md "Interfaces that scripts and CI pipelines
# rely on"), plus the endpoint's id.
ENDPOINT_PROPERTIES = {
    "id": {"type": "integer", "description": "Use it with /api/v1/endpoints/{id}."},
    "provider": {"type": "string", "enum": list(Provider.values)},
    "account": STRING,
    "region": STRING,
    "kind": {"type": "string", "enum": list(DBInstance.Kind.values)},
    "identifier": STRING,
    "engine": STRING,
    "engine_version": _nullable(STRING),
    "endpoint": _nullable({**STRING, "description": "host:port"}),
    "grade": {"type": "string", "enum": list(EVERY_GRADE), "description": "? = no evidence."},
    "transport_enforced": _nullable({"type": "boolean"}),
    "transport_enforced_source": _nullable(STRING),
    "ssl_enabled": _nullable({"type": "boolean", "description": "ApsaraDB SSLEnabled."}),
    "ssl_forced": _nullable({"type": "boolean", "description": "ApsaraDB ForceEncryption."}),
    "tls_versions_configured": _nullable(STRINGS),
    "tls_versions_accepted": _nullable(STRINGS),
    "lowest_tls_accepted": _nullable({**STRING, "description": "Lowest version accepted."}),
    "lowest_tls_accepted_source": _nullable(STRING),
    "server_cert_not_after": _nullable(TIME),
    "server_cert_source": _nullable(STRING),
    "ca_identifier": _nullable(STRING),
    "ca_valid_till": _nullable(TIME),
    "last_checked": _nullable(TIME),
    "check_status": {"type": "string", "enum": [*Observation.Status.values, NEVER_CHECKED]},
    "evaluated_at": _nullable(TIME),
    "evaluation_behind": {"type": "boolean"},
    "enforce_tls_readiness": _nullable(
        {"type": "string", "enum": list(READINESS_STATES), "description": READINESS_HELP}
    ),
    "enforce_tls_verdict": _nullable(STRING),
    "drop_legacy_tls_readiness": _nullable(
        {"type": "string", "enum": list(READINESS_STATES), "description": READINESS_HELP}
    ),
    "drop_legacy_tls_verdict": _nullable(STRING),
    "findings": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
    "unknown": {
        "type": "object",
        "additionalProperties": STRING,
        "description": "Why each null is null: {fact: reason}.",
    },
}
assert set(ENDPOINT_PROPERTIES) == {"id", *ROW_KEYS}  # the report's keys, no more, no less

IDENTITY = {key: ENDPOINT_PROPERTIES[key] for key in ("provider", "account", "region", "kind")}
IDENTITY |= {"identifier": STRING, "endpoint": ENDPOINT_PROPERTIES["endpoint"]}

FINDING_ROW = {
    "type": "object",
    "properties": {
        "endpoint_id": {"type": "integer"},
        **IDENTITY,
        "id": FINDING["properties"]["id"],
        "title": _nullable(STRING),
        "severity": FINDING["properties"]["severity"],
        "first_seen": TIME,
        "last_seen": TIME,
        "evidence": FINDING["properties"]["evidence"],
        "remediation": STRING,
    },
}

CERTIFICATE_ROW = {
    "type": "object",
    "properties": {
        "endpoint_id": {"type": "integer"},
        **IDENTITY,
        **{
            key: ENDPOINT_PROPERTIES[key]
            for key in ("server_cert_not_after", "server_cert_source", "ca_identifier")
        },
        "ca_valid_till": ENDPOINT_PROPERTIES["ca_valid_till"],
    },
}

SYNC_REGION = {
    "type": "object",
    "properties": {
        "region": STRING,
        "status": {"type": "string", "enum": list(SyncRegion.Status.values)},
        "error": STRING,
        "warnings": STRINGS,
        "instances_found": {"type": "integer"},
        "api_calls": {"type": "integer"},
        "started_at": TIME,
        "finished_at": TIME,
    },
}

SYNC_RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "account": STRING,
        "provider": ENDPOINT_PROPERTIES["provider"],
        "started_at": TIME,
        "finished_at": _nullable(TIME),
        "status": {"type": "string", "enum": list(SyncRun.Status.values)},
        "trigger": STRING,
        "error": STRING,
        **{
            key: {"type": "integer"}
            for key in ("instances_seen", "created", "changed", "marked_gone", "api_calls")
        },
        "regions": {"type": "array", "items": {"$ref": "#/components/schemas/SyncRegion"}},
    },
}

CHECK_RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "started_at": TIME,
        "finished_at": _nullable(TIME),
        "status": {"type": "string", "enum": list(CheckRun.Status.values)},
        "trigger": STRING,
        "network_zone": STRING,
        **{key: {"type": "integer"} for key in ("targets", "ok", "failed", "workers")},
        "error": STRING,
    },
}

ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": STRING,
        "errors": {"type": "object", "additionalProperties": STRINGS},
    },
}


def _required(schema: dict) -> dict:
    return {**schema, "required": list(schema["properties"]), "additionalProperties": False}


def _page_of(item: str) -> dict:
    url = _nullable({"type": "string", "format": "uri"})
    return {
        "type": "object",
        "required": ["count", "page", "per_page", "pages", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "next": url,
            "previous": url,
            "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        },
    }


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


ERRORS = {
    "401": _error_response("No valid API token (or session)."),
}
LINK = {
    "Link": {
        "description": "first, last, next and prev pages (RFC 8288).",
        "schema": STRING,
    }
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


PAGINATION = [
    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
        "Rows per page.",
    ),
]


def _filter_parameters() -> list[dict]:
    parameters = []
    for f in filter_parameters():
        schema: dict = {"type": "string"}
        if f.enum is not None:
            schema["enum"] = list(f.enum)
        else:
            schema["pattern"] = _TAG if f.name == "tag" else _TEXT
            if f.max_length:
                schema["maxLength"] = f.max_length
        description = f.label
        if f.name in ("account", "region", "engine", "engine_version"):
            description += " (a value that exists nowhere matches nothing)"
        parameters.append(_query(f.name, schema, description))
    return parameters


def _list(summary: str, item: str, parameters: list[dict], description: str = "") -> dict:
    return {
        "get": {
            "summary": summary,
            "description": description,
            "operationId": summary.lower().replace(" ", "_"),
            "parameters": [*parameters, *PAGINATION],
            "responses": {
                "200": {
                    "description": summary,
                    "headers": LINK,
                    "content": {"application/json": {"schema": _page_of(item)}},
                },
                "400": _error_response("Invalid filters or pagination."),
                **ERRORS,
                "404": _error_response("A page past the last."),
            },
        }
    }


def openapi_document(request) -> dict:
    filters = _filter_parameters()
    endpoint_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": _INT64},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tlsposture API",
            "version": "1",
            "description": (
                "Read-only JSON API of tlsposture: the fleet report's endpoint rows, open "
                "findings, certificates and runs. Authenticate with a per-user API token "
                "(Authorization: Bearer tlsp_…; create one at /api/tokens/); a token sees "
                "what its user sees. Filters are those of the dashboard's instance list. "
                "Unknown values are null, and `unknown` says why."
            ),
        },
        "servers": [{"url": request.build_absolute_uri("/").rstrip("/")}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/endpoints": _list(
                "List endpoints",
                "Endpoint",
                filters,
                "One row per database endpoint, in account, region, identifier order.",
            ),
            "/api/v1/endpoints/{id}": {
                "get": {
                    "summary": "Get an endpoint",
                    "operationId": "get_endpoint",
                    "parameters": [endpoint_id],
                    "responses": {
                        "200": {
                            "description": "The endpoint's row.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Endpoint"}
                                }
                            },
                        },
                        **ERRORS,
                        "404": _error_response("No such endpoint (or not visible)."),
                    },
                }
            },
            "/api/v1/findings": _list(
                "List findings",
                "FindingRow",
                filters,
                "One row per open finding of the endpoints the filters select; `finding` "
                "and `severity` also narrow the findings themselves.",
            ),
            "/api/v1/certificates": _list(
                "List certificates",
                "CertificateRow",
                filters,
                "Server certificate and CA of each endpoint, soonest expiry first.",
            ),
            "/api/v1/runs/sync": _list(
                "List sync runs",
                "SyncRun",
                [
                    _query("account", {"type": "string", "pattern": _TEXT}, "Account name."),
                    _query("status", {"type": "string", "enum": list(SyncRun.Status.values)}, ""),
                ],
                "Inventory syncs, newest first, with each region's outcome.",
            ),
            "/api/v1/runs/check": _list(
                "List check runs",
                "CheckRun",
                [_query("status", {"type": "string", "enum": list(CheckRun.Status.values)}, "")],
                "Check runs, newest first.",
            ),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "tlsp_…"}
            },
            "schemas": {
                "Finding": FINDING,
                "Endpoint": _required({"type": "object", "properties": ENDPOINT_PROPERTIES}),
                "FindingRow": _required(FINDING_ROW),
                "CertificateRow": _required(CERTIFICATE_ROW),
                "SyncRegion": _required(SYNC_REGION),
                "SyncRun": _required(SYNC_RUN),
                "CheckRun": _required(CHECK_RUN),
                "Error": ERROR,
            },
        },
    }
