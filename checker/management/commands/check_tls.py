"""`manage.py check_tls [--all | --instance ID ...] [--workers N] [--queue]`: probe and log
in, store one observation per endpoint. With --queue the endpoints go, in batches, to the
Celery workers of each account's network zone instead, and the command returns once queued."""

import time

from django.core.management.base import BaseCommand, CommandError

from checker.services import Progress, run_checks
from checker.targets import UnknownInstance, checkable_instances, find_instances
from checker.tasks import enqueue_checks
from common.queues import BrokerNotConfigured
from common.terminal import LiveLine


class Command(BaseCommand):
    help = "Check the TLS posture of database endpoints and store what was seen."

    def add_arguments(self, parser):
        chosen = parser.add_mutually_exclusive_group(required=True)
        chosen.add_argument("--all", action="store_true", help="every active endpoint")
        chosen.add_argument(
            "--instance",
            action="append",
            metavar="ID",
            help="a primary key, an identifier or account/identifier (repeatable)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="most checks at once (TLSPOSTURE_WORKERS); up to 16 it is a fixed number, "
            "above the number adapts from 16 to what the CPU allows",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="queue batches for the Celery workers of each account's zone "
            "(needs CELERY_BROKER_URL) instead of checking in this process",
        )

    def handle(self, *args, **options):
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        if options["all"]:
            instances = list(checkable_instances())
        else:
            try:
                instances = find_instances(options["instance"])
            except UnknownInstance as exc:
                raise CommandError(str(exc)) from None
            missing = [str(i) for i in instances if not i.endpoint_host]
            if missing:
                raise CommandError(f"no endpoint known yet for: {', '.join(missing)}")
        if not instances:
            self.stdout.write("nothing to check: no active instance with an endpoint")
            return
        if options["queue"]:
            return self._enqueue(instances)
        self.live = LiveLine(self.stdout)
        started = time.monotonic()
        run = run_checks(
            instances,
            workers=options["workers"],
            progress=self._show_progress if self.live.tty else None,
        )
        self.live.close()
        self._summary(run, time.monotonic() - started)

    def _enqueue(self, instances) -> None:
        try:
            batches = enqueue_checks(instances)
        except BrokerNotConfigured as exc:
            raise CommandError(str(exc)) from None
        for queue in dict.fromkeys(b.queue for b in batches):
            mine = [b for b in batches if b.queue == queue]
            endpoints = sum(b.endpoints for b in mine)
            self.stdout.write(f"queued {endpoints} endpoint(s) in {len(mine)} batch(es) on {queue}")

    def _show_progress(self, progress: Progress) -> None:
        self.live.status(
            f"{progress.done}/{progress.total} checked · {progress.rate:.1f}/s · "
            f"{progress.failed} failed"
        )

    def _summary(self, run, seconds: float) -> None:
        counts: dict[str, int] = {}
        failures = []
        for observation in run.observations.select_related("instance__account").order_by("pk"):
            counts[observation.status] = counts.get(observation.status, 0) + 1
            if observation.status != "ok":
                failures.append(observation)
        breakdown = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.stdout.write(f"checked {run.targets} endpoint(s) in {seconds:.1f} s: {breakdown}")
        for observation in failures:
            self.stdout.write(
                f"  {observation.instance} {observation.status}: {observation.reason}"
            )
