"""Prefetch per queue, not per worker: why "check now" is deterministic on RabbitMQ.

A zone's worker consumes two queues, `zone.<name>` and `now.<name>` (common/queues.py). On
RabbitMQ, Celery applies the prefetch limit to the whole channel ("global QoS"): with every
slot busy on a round's batches, the one credit an acknowledgement frees goes to whichever
queue's process answers first, so a "check now" could wait behind any number of batches.
Per-consumer prefetch (RabbitMQ's own default semantics) gives each queue its own credit: a
"check now" is delivered at once, waits in the worker's pool queue ahead of any batch
delivered later, and runs at the next free slot. The cost is that a worker may hold up to
`concurrency × prefetch multiplier` messages per queue it consumes instead of in all; see
docs/design.md "Scale". Redis takes its queues in turn and has no global QoS.

Celery decides global QoS inside its `Tasks` consumer step; the steps that require it name
the class, so they are swapped for subclasses that require this one instead.
"""

from celery.worker.consumer import Consumer as CeleryConsumer
from celery.worker.consumer.control import Control
from celery.worker.consumer.delayed_delivery import DelayedDelivery
from celery.worker.consumer.tasks import Tasks


class PerQueuePrefetchTasks(Tasks):
    name = Tasks.name

    def qos_global(self, c) -> bool:
        return False


class ControlAfterPerQueuePrefetchTasks(Control):
    name = Control.name
    requires = (PerQueuePrefetchTasks,)


class DelayedDeliveryAfterPerQueuePrefetchTasks(DelayedDelivery):
    name = DelayedDelivery.name
    requires = (PerQueuePrefetchTasks,)


_SWAPPED = {
    "celery.worker.consumer.tasks:Tasks": PerQueuePrefetchTasks,
    "celery.worker.consumer.control:Control": ControlAfterPerQueuePrefetchTasks,
    "celery.worker.consumer.delayed_delivery:DelayedDelivery": (
        DelayedDeliveryAfterPerQueuePrefetchTasks
    ),
}


class Consumer(CeleryConsumer):
    class Blueprint(CeleryConsumer.Blueprint):
        default_steps = [
            _SWAPPED.get(step, step) for step in CeleryConsumer.Blueprint.default_steps
        ]
