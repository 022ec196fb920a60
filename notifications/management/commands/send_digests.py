"""Send every expiry digest that is due now (run it as often as you like: each subscription
gets one digest per period)."""

from django.core.management.base import BaseCommand

from notifications.services import send_due_digests


class Command(BaseCommand):
    help = "Send the expiry digests that are due, once per subscription and period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what is due; claim and send nothing."
        )
        parser.add_argument("--subscription", type=int, metavar="ID", help="Only this one.")

    def handle(self, *args, dry_run, subscription, **options):
        runs = send_due_digests(subscription_id=subscription, dry_run=dry_run)
        for run in runs:
            counts = {}
            for d in run.deliveries:
                counts[d.outcome] = counts.get(d.outcome, 0) + 1
            detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            self.stdout.write(
                f"#{run.subscription.pk} {run.subscription.name} {run.period}: {run.status}"
                + (f" ({detail})" if detail else "")
                + (f" — {run.summary}" if run.summary else "")
            )
        if not runs:
            self.stdout.write("Nothing due.")
