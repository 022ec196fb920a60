"""Print the fleet's TLS posture report; a CI gate with --min-grade (exit 3 when below)."""

from django.core.management.base import BaseCommand, CommandError

from common.tabular import write_xlsx
from inventory.models import ACTIVE, CloudAccount, DBInstance
from posture.finding_report import (
    FINDING_COLUMNS,
    findings_csv_lines,
    findings_json,
    iter_finding_rows,
    open_findings,
)
from posture.grades import GRADE_ORDER
from posture.report import (
    REPORT_COLUMNS,
    endpoints_below,
    iter_report_rows,
    report_csv_lines,
    report_json,
)

EXIT_BELOW_MINIMUM = 3


class Command(BaseCommand):
    help = (
        "Print the TLS posture of every endpoint (JSON, CSV or XLSX), or with --findings one "
        f"row per open finding. With --min-grade, exit with status {EXIT_BELOW_MINIMUM} when "
        "any endpoint is below that grade."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
        parser.add_argument(
            "--findings",
            action="store_true",
            help="One row per open finding, with its evidence and remediation.",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write here instead of standard output (required for xlsx).",
        )
        parser.add_argument(
            "--min-grade",
            choices=GRADE_ORDER,
            help="A+ > A > B > C > D > F. An endpoint graded ? (no evidence yet) counts as "
            "below any minimum.",
        )
        parser.add_argument("--account", help="Only the endpoints of this account (by name).")

    def handle(self, *args, **options):
        instances = DBInstance.objects.filter(ACTIVE)
        account = options["account"]
        if account:
            if not CloudAccount.objects.filter(name=account).exists():
                raise CommandError(f"no account named {account!r}")
            instances = instances.filter(account__name=account)
        if options["format"] == "xlsx":
            self._write_xlsx(instances, options)
        else:
            self._write_text(self._text(instances, options), options["output"])
        minimum = options["min_grade"]
        if minimum:
            below = endpoints_below(instances, minimum)
            if below:
                names = ", ".join(f"{label} ({grade})" for label, grade in below)
                self.stderr.write(f"{len(below)} endpoint(s) below {minimum}: {names}")
                raise SystemExit(EXIT_BELOW_MINIMUM)

    def _text(self, instances, options):
        if options["findings"]:
            findings = open_findings(instances)
            if options["format"] == "csv":
                return findings_csv_lines(findings)
            return findings_json(findings)
        if options["format"] == "csv":
            return report_csv_lines(instances)
        return report_json(instances)

    def _write_text(self, pieces, output):
        # Piece by piece: 50,000 endpoints never sit in memory as one string.
        if output:
            with open(output, "w", encoding="utf-8", newline="") as target:
                target.writelines(pieces)
            return
        for piece in pieces:
            self.stdout.write(piece, ending="")

    def _write_xlsx(self, instances, options):
        output = options["output"]
        if not output:
            raise CommandError("xlsx is a binary file: give --output FILE")
        if options["findings"]:
            columns, rows = FINDING_COLUMNS, iter_finding_rows(open_findings(instances))
            title = "findings"
        else:
            columns, rows = REPORT_COLUMNS, iter_report_rows(instances, detail=False)
            title = "instances"
        write_xlsx(output, columns, rows, title=title)
