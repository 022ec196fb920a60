"""Re-evaluate posture when inventory or the checker announce new facts.

A failure here is logged, not raised: the sync or check that announced has already
finished and recorded its own outcome, and the next announcement evaluates again.
"""

from __future__ import annotations

import logging

from posture.services import evaluate_account, evaluate_instances

log = logging.getLogger(__name__)


def on_sync_finished(sender, run=None, account=None, **kwargs):
    if account is None:
        return
    # Only the regions the run read: queued syncs run one region per task, and evaluating
    # the whole account after each would repeat the work once per region.
    regions = list(run.regions.values_list("region", flat=True)) if run is not None else []
    try:
        evaluate_account(account, regions=regions)
    except Exception:
        log.exception("posture evaluation after the sync of %s failed", account.name)


def on_check_finished(sender, run=None, instance_ids=(), **kwargs):
    if not instance_ids:
        return
    try:
        evaluate_instances(instance_ids)
    except Exception:
        log.exception("posture evaluation after check run %s failed", getattr(run, "pk", None))
