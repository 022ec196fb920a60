"""Column definitions of the dashboard's tables: header, accessor, sort key, cell format.

The instance and finding tables are built on the reports' own columns
(posture.report.REPORT_COLUMNS, posture.finding_report.FINDING_COLUMNS): a page shows a
chosen few of them, formatted for people, and the CSV/XLSX exports write all of them
through the same accessors, so a page and its export never disagree. Rows are report rows
(`report_row`, `finding_row`): one per endpoint, or one per finding.

A column's `sort` is the ordering for ascending order; unknown values sort last both ways,
and the primary key breaks ties so pages never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.expressions import BaseExpression

from common.normalise import TLS_VERSIONS, lowest_tls_version
from common.tabular import Column
from posture.finding_report import FINDING_COLUMNS, finding_row
from posture.grades import GRADE_ORDER, SEVERITIES
from posture.report import REPORT_COLUMNS, REPORT_ORDER, report_row

_REPORT = {column.key: column for column in REPORT_COLUMNS}
# Most urgent first: who would break, then what is not known, then the ready and the done.
READINESS_ORDER = ("not-ready", "unknown", "ready", "done")
_FINDING = {column.key: column for column in FINDING_COLUMNS}


def _rank(field: str, order: Iterable[str]) -> Case:
    return Case(
        *(When(**{field: value}, then=Value(rank)) for rank, value in enumerate(order)),
        default=Value(None),
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class TableColumn:
    key: str
    header: str
    value: Callable[[Any], Any]
    cell: str = "text"  # how the HTML cell is drawn: a key of dashboard.cells.RENDERERS
    sort: tuple[str | BaseExpression, ...] = ()

    @property
    def sortable(self) -> bool:
        return bool(self.sort)


def report_column(key: str, *, header: str | None = None, **kwargs) -> TableColumn:
    column: Column = _REPORT[key]
    return TableColumn(key, header or column.header.capitalize(), column.value, **kwargs)


@dataclass(frozen=True)
class Ordering:
    key: str  # the column key, "" for the default order
    descending: bool
    order_by: tuple

    def param_for(self, key: str) -> str:
        """The `sort` value a header link sets: the other direction when already sorted."""
        return f"-{key}" if key == self.key and not self.descending else key


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[TableColumn, ...]
    default_order: tuple[str, ...]
    # Columns the column chooser leaves out until asked for (`?cols=`); the first column
    # (the endpoint) is always shown.
    hidden_by_default: tuple[str, ...] = ()

    def visible(self, chosen: list[str] | None) -> tuple[TableColumn, ...]:
        first = self.columns[0].key
        if chosen:
            wanted = {*chosen, first}
            return tuple(c for c in self.columns if c.key in wanted)
        return tuple(c for c in self.columns if c.key not in self.hidden_by_default)

    def ordering(self, sort: str | None) -> Ordering:
        """The ordering a `sort` parameter asks for (`grade`, `-grade`); anything else, or a
        column that cannot sort, falls back to the default order."""
        sort = (sort or "").strip()
        descending = sort.startswith("-")
        key = sort.lstrip("-")
        column = next((c for c in self.columns if c.key == key and c.sortable), None)
        if column is None:
            return Ordering("", False, self.default_order)
        order_by = []
        for part in column.sort:
            expression = F(part) if isinstance(part, str) else part
            order_by.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        return Ordering(key, descending, (*order_by, "pk"))


@dataclass(frozen=True)
class Row:
    pk: int  # the endpoint the row links to
    data: dict  # a report row


def report_table_rows(instances: Iterable) -> list[Row]:
    """Rows of an instance table page; `instances` come from `with_report_relations()`."""
    return [Row(instance.pk, report_row(instance, detail=False)) for instance in instances]


def _lowest_accepted(row: dict) -> str | None:
    return lowest_tls_version(row["tls_versions_accepted"])


INSTANCE_TABLE = Table(
    name="instances",
    columns=(
        report_column("identifier", header="Endpoint", cell="instance", sort=("identifier",)),
        report_column("provider", cell="provider", sort=("provider",)),
        report_column("account", sort=("account__name",)),
        report_column("region", sort=("region",)),
        report_column("engine", cell="engine", sort=("engine", "engine_version")),
        report_column("endpoint", header="Address", cell="code", sort=("endpoint_host",)),
        # Worst first: the first click on "Grade" answers "which are the worst".
        report_column(
            "grade", cell="grade", sort=(_rank("posture__grade", tuple(reversed(GRADE_ORDER))),)
        ),
        report_column(
            "transport_enforced",
            header="Transport",
            cell="enforced",
            sort=("posture__transport_enforced",),
        ),
        report_column(
            "enforce_tls_readiness",
            header="Safe to enforce TLS",
            cell="readiness",
            sort=(_rank("posture__enforce_tls_readiness", READINESS_ORDER),),
        ),
        TableColumn(
            "lowest_tls",
            "Lowest TLS accepted",
            _lowest_accepted,
            cell="tls",
            sort=(_rank("posture__lowest_tls_accepted", TLS_VERSIONS),),
        ),
        report_column(
            "server_cert_not_after",
            header="Certificate expires",
            cell="expiry",
            sort=("posture__server_cert_not_after",),
        ),
        report_column(
            "finding_ids", header="Open findings", cell="findings", sort=("posture__open_findings",)
        ),
        report_column(
            "last_checked", header="Checked", cell="checked", sort=("check_state__last_checked",)
        ),
    ),
    default_order=REPORT_ORDER,
    # The address is long and rarely read in a list: the endpoint page shows it.
    hidden_by_default=("endpoint",),
)

CERTIFICATE_TABLE = Table(
    name="certificates",
    columns=(
        report_column("identifier", header="Endpoint", cell="instance", sort=("identifier",)),
        report_column("account", sort=("account__name",)),
        report_column("region", sort=("region",)),
        report_column(
            "server_cert_not_after",
            header="Server certificate expires",
            cell="expiry",
            sort=("posture__server_cert_not_after",),
        ),
        report_column("server_cert_source", header="Known from", cell="code"),
        report_column("ca_identifier", header="CA", cell="code", sort=("ca_identifier",)),
        report_column(
            "ca_valid_till",
            header="CA expires",
            cell="expiry",
            sort=("posture__ca_valid_till",),
        ),
    ),
    default_order=(F("posture__server_cert_not_after").asc(nulls_last=True), *REPORT_ORDER),
)

PER_PAGE_CHOICES = (25, 50, 100, 250)
DEFAULT_PER_PAGE = 50


def _finding_column(key: str, header: str, **kwargs) -> TableColumn:
    column: Column = _FINDING[key]
    return TableColumn(key, header, column.value, **kwargs)


def finding_table_rows(findings: Iterable) -> list[Row]:
    """Rows of a findings page; `findings` come from `in_report_order()` (instance joined)."""
    return [Row(finding.instance_id, finding_row(finding)) for finding in findings]


FINDING_TABLE = Table(
    name="findings",
    columns=(
        _finding_column("identifier", "Endpoint", cell="instance", sort=("instance__identifier",)),
        _finding_column("account", "Account", sort=("instance__account__name",)),
        _finding_column("region", "Region", sort=("instance__region",)),
        _finding_column(
            "severity", "Severity", cell="severity", sort=(_rank("severity", SEVERITIES),)
        ),
        _finding_column("first_seen", "First seen", cell="when", sort=("first_seen",)),
        _finding_column("last_seen", "Last seen", cell="when", sort=("last_seen",)),
        _finding_column("evidence", "Evidence", cell="evidence"),
        _finding_column("remediation", "Remediation", cell="remediation"),
    ),
    default_order=(
        "instance__account__name",
        "instance__region",
        "instance__identifier",
        "instance_id",
    ),
)


def _worklist_column(key: str, header: str, **kwargs) -> TableColumn:
    return TableColumn(key, header, lambda row, key=key: row[key], **kwargs)


# The fleet worklist (/findings/): endpoint × finding in the order to fix them
# (dashboard/worklist.py sets the order; the columns do not re-sort it).
WORKLIST_TABLE = Table(
    name="worklist",
    columns=(
        _worklist_column("identifier", "Endpoint", cell="instance"),
        _worklist_column("id", "Finding", cell="finding"),
        _worklist_column("severity", "Severity", cell="severity"),
        _worklist_column("grade", "Grade", cell="grade"),
        _worklist_column("expires", "Expires first", cell="expiry"),
        _worklist_column("one_change_fixes", "One change fixes", cell="reach"),
        _worklist_column("environment", "Environment"),
        _worklist_column("account", "Account"),
        _worklist_column("region", "Region"),
    ),
    default_order=(
        "severity_rank",
        "grade_rank",
        "expires_first",
        "-one_change_fixes",
        "instance__identifier",
        "instance_id",
        "finding_id",
    ),
)
