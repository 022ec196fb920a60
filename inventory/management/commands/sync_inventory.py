"""Read every enabled cloud account (or the ones named) and write what it holds.

Exits non-zero when an account or a region failed, naming each; the other regions and
accounts are synced all the same. On a terminal one status line shows progress.

With --queue the work goes to the Celery workers of each account's network zone instead
(one task per account and region) and the command returns once it is queued.
"""

from django.core.management.base import BaseCommand, CommandError

from common.queues import BrokerNotConfigured
from common.terminal import LiveLine
from inventory.models import CloudAccount
from inventory.services import sync_accounts
from inventory.tasks import enqueue_sync


class Command(BaseCommand):
    help = "Sync the inventory of cloud accounts: instances, clusters, proxies, TLS parameters."

    def add_arguments(self, parser):
        parser.add_argument(
            "--account", action="append", default=[], metavar="NAME", help="only this account"
        )
        parser.add_argument(
            "--region", action="append", default=[], metavar="R", help="only this region"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="queue the work for the Celery workers of each account's zone "
            "(needs CELERY_BROKER_URL) instead of syncing in this process",
        )

    def handle(self, *args, **options):
        accounts = list(CloudAccount.objects.filter(enabled=True))
        if options["account"]:
            by_name = {a.name: a for a in CloudAccount.objects.filter(name__in=options["account"])}
            unknown = [n for n in options["account"] if n not in by_name]
            if unknown:
                raise CommandError(f"no such account: {', '.join(unknown)}")
            accounts = [by_name[n] for n in dict.fromkeys(options["account"])]
        if not accounts:
            self.stdout.write("no enabled accounts to sync (see `manage.py import_accounts`)")
            return
        if options["queue"]:
            return self._enqueue(accounts, options["region"] or None)
        progress = _Progress(self.stdout, len(accounts))
        runs = sync_accounts(accounts, options["region"] or None, progress=progress)
        progress.close()
        failures = []
        for run in runs:
            regions = list(run.regions.all())
            ok = sum(r.status == r.Status.OK for r in regions)
            self.stdout.write(
                f"{run.account.name}: {run.status}, {ok}/{len(regions)} regions, "
                f"{run.instances_seen} endpoints ({run.created} new, {run.changed} changed, "
                f"{run.marked_gone} gone), {run.api_calls} API calls"
            )
            if run.error:
                failures.append(f"{run.account.name}: {run.error}")
            failures += [f"{run.account.name}/{r.region}: {r.error}" for r in regions if r.error]
        if failures:
            raise CommandError("sync failed for " + "; ".join(failures))

    def _enqueue(self, accounts, regions):
        try:
            queued = enqueue_sync(accounts, regions)
        except BrokerNotConfigured as exc:
            raise CommandError(str(exc)) from None
        for item in queued:
            what = item.region or "regions to be discovered by the zone's worker"
            self.stdout.write(f"queued {item.account}: {what} on {item.queue}")


class _Progress:
    """Receives sync_account's progress events; a live line on a TTY, plain lines otherwise."""

    def __init__(self, out, accounts: int):
        self.live = LiveLine(out)
        self.tty = self.live.tty
        self.accounts, self.accounts_done = accounts, 0
        self.regions, self.regions_done = 0, 0
        self.instances, self.failures = 0, 0

    def __call__(self, event: str, **info):
        if event == "account-start":
            self.regions += info["regions"]
        elif event == "region-done":
            self.regions_done += 1
            self.instances += info["instances"]
            if not info["ok"]:
                self.failures += 1
                self._line(f"{info['account']}/{info['region']} failed: {info['error']}")
            elif not self.tty:
                self._line(f"{info['account']}/{info['region']}: {info['instances']} endpoints")
            for warning in info.get("warnings") or ():
                self._line(f"{info['account']}/{info['region']} warning: {warning}")
        elif event == "account-done":
            self.accounts_done += 1
            if info["error"]:
                self.failures += 1
                self._line(f"{info['account']} failed: {info['error']}")
        self._status()

    def _status(self):
        self.live.status(
            f"accounts {self.accounts_done}/{self.accounts} · regions "
            f"{self.regions_done}/{self.regions} · {self.instances} endpoints · "
            f"{self.failures} failed"
        )

    def _line(self, text: str):
        self.live.line(text)

    def close(self):
        self.live.close()
