"""The sync: read every region of an account through its source and hand each to the
region writer (inventory/region_writer.py); record the run and announce it.

inventory/accounts_as_code.py imports accounts; these three modules are the only writers
of inventory models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.utils import timezone

from common.runs import close_abandoned_runs
from inventory.facts import RegionInventory, SourceError
from inventory.models import CloudAccount, SyncRegion, SyncRun
from inventory.region_writer import RegionOutcome, write_region
from inventory.signals import sync_finished
from inventory.sources import source_for

log = logging.getLogger(__name__)

Progress = Callable[..., None]

# Fetching regions is network-bound; writing stays on the calling thread.
REGION_FETCH_THREADS = 4


def sync_accounts(
    accounts: Iterable[CloudAccount],
    regions: list[str] | None = None,
    *,
    trigger: str = "command",
    progress: Progress | None = None,
) -> list[SyncRun]:
    return [
        sync_account(account, regions, trigger=trigger, progress=progress) for account in accounts
    ]


def sync_account(
    account: CloudAccount,
    regions: list[str] | None = None,
    *,
    trigger: str = "command",
    progress: Progress | None = None,
    source=None,
    task_id: str = "",
) -> SyncRun:
    """Read every region of an account and write what it holds.

    A region that fails keeps its earlier data and records why; the other regions go on.
    """
    notify = progress or (lambda *a, **k: None)
    run = SyncRun.objects.create(
        account=account, started_at=timezone.now(), trigger=trigger, task_id=task_id
    )
    outcomes: list[RegionOutcome] = []
    try:
        source = source or source_for(account)
        region_names = list(dict.fromkeys(regions or account.regions or source.regions()))
    except SourceError as exc:
        return _account_done(notify, _finish(run, outcomes, error=str(exc)))
    except Exception as exc:  # a misconfigured account must not stop the other accounts
        log.exception("sync of account %s could not start", account.name)
        return _account_done(notify, _finish(run, outcomes, error=f"{type(exc).__name__}: {exc}"))

    notify("account-start", account=account.name, regions=len(region_names))
    with ThreadPoolExecutor(max_workers=min(REGION_FETCH_THREADS, max(1, len(region_names)))) as ex:
        futures = {region: ex.submit(_fetch, source, region) for region in region_names}
        for region in region_names:
            started = timezone.now()
            inventory, error = futures[region].result()
            if error:
                outcome = RegionOutcome(region=region, ok=False, error=error)
            else:
                outcome = write_region(account, inventory)
            SyncRegion.objects.create(
                run=run,
                region=region,
                status=SyncRegion.Status.OK if outcome.ok else SyncRegion.Status.FAILED,
                error=outcome.error,
                warnings=outcome.warnings,
                instances_found=outcome.instances_found,
                api_calls=outcome.api_calls,
                started_at=started,
                finished_at=timezone.now(),
            )
            outcomes.append(outcome)
            notify(
                "region-done",
                account=account.name,
                region=region,
                ok=outcome.ok,
                instances=outcome.instances_found,
                error=outcome.error,
                warnings=outcome.warnings,
            )
    return _account_done(notify, _finish(run, outcomes))


def record_sync_failure(
    account: CloudAccount, error: str, *, trigger: str, task_id: str = ""
) -> SyncRun:
    """A sync that could not start (e.g. regions not discoverable), recorded as failed."""
    run = SyncRun.objects.create(
        account=account, started_at=timezone.now(), trigger=trigger, task_id=task_id
    )
    return _finish(run, [], error=error)


def abandon_sync_runs(
    *, reason: str, task_id: str = "", started_before: datetime | None = None
) -> int:
    """Close runs a dead worker or process left `running` as failed; returns how many.

    Nothing of theirs needs undoing: each region is written in one transaction, so a run
    that died kept only whole regions. Without this they would look in progress forever.
    """
    return close_abandoned_runs(
        SyncRun.objects.all(), reason=reason, task_id=task_id, started_before=started_before
    )


def _account_done(notify: Progress, run: SyncRun) -> SyncRun:
    notify("account-done", account=run.account.name, status=run.status, error=run.error)
    return run


def _fetch(source, region: str) -> tuple[RegionInventory | None, str]:
    try:
        return source.fetch_region(region), ""
    except SourceError as exc:
        return None, str(exc) or type(exc).__name__
    except Exception as exc:
        log.exception("region %s failed unexpectedly", region)
        return None, f"unexpected {type(exc).__name__}: {exc}"


def _finish(run: SyncRun, outcomes: list[RegionOutcome], error: str = "") -> SyncRun:
    failed = [o for o in outcomes if not o.ok]
    if error or (outcomes and len(failed) == len(outcomes)):
        run.status = SyncRun.Status.FAILED
    elif failed:
        run.status = SyncRun.Status.PARTIAL
    else:
        run.status = SyncRun.Status.OK
    run.error = error
    run.finished_at = timezone.now()
    run.instances_seen = sum(o.instances_found for o in outcomes)
    run.created = sum(o.created for o in outcomes)
    run.changed = sum(o.changed for o in outcomes)
    run.marked_gone = sum(o.marked_gone for o in outcomes)
    run.api_calls = sum(o.api_calls for o in outcomes)
    run.save()
    sync_finished.send(sender=SyncRun, run=run, account=run.account)
    return run
