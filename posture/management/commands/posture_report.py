"""Print the fleet's TLS posture report; a CI gate with --min-grade (exit 3 when below)."""

from django.core.management.base import BaseCommand, CommandError

from inventory.models import ACTIVE, CloudAccount, DBInstance
from posture.catalogue import GRADE_ORDER
from posture.report import below_grade, build_report, render_csv, render_json

EXIT_BELOW_MINIMUM = 3


class Command(BaseCommand):
    help = (
        "Print the TLS posture of every endpoint (JSON or CSV). With --min-grade, exit with "
        f"status {EXIT_BELOW_MINIMUM} when any endpoint is below that grade."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=("json", "csv"), default="json")
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
        report = build_report(instances)
        rows = report["instances"]
        if options["format"] == "csv":
            self.stdout.write(render_csv(rows), ending="")
        else:
            self.stdout.write(render_json(report), ending="")
        minimum = options["min_grade"]
        if minimum:
            below = below_grade(rows, minimum)
            if below:
                names = ", ".join(f"{r['account']}/{r['identifier']} ({r['grade']})" for r in below)
                self.stderr.write(f"{len(below)} endpoint(s) below {minimum}: {names}")
                raise SystemExit(EXIT_BELOW_MINIMUM)
