"""Re-evaluate posture now (it also runs after every sync and check)."""

from django.core.management.base import BaseCommand, CommandError

from inventory.models import CloudAccount
from posture.services import evaluate_account, evaluate_all


class Command(BaseCommand):
    help = (
        "Evaluate the TLS posture of every active endpoint (or one account's) from the "
        "stored inventory and latest observations, e.g. after upgrading the rules."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="Only the endpoints of this account (by name).")

    def handle(self, *args, **options):
        name = options["account"]
        if name:
            account = CloudAccount.objects.filter(name=name).first()
            if account is None:
                raise CommandError(f"no account named {name!r}")
            outcome = evaluate_account(account)
        else:
            outcome = evaluate_all()
        self.stdout.write(
            f"evaluated {outcome.evaluated} endpoint(s): {outcome.opened} finding(s) opened, "
            f"{outcome.resolved} resolved, {outcome.grade_changes} grade change(s)"
        )
