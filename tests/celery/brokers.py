"""Brokers on loopback for the worker tests, and pointing this process's Celery app at one.

Each test gets its own namespace so parallel runs never take each other's messages: unique
queue names always, and on Redis a key prefix of its own as well (Redis keeps the unacked
messages of a whole database in one hash; without the prefix, a worker of one run could
hand another run's in-flight messages back to the queue).
"""

from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field

import kombu.pools
import redis
from kombu import Connection

from tlsposture.celery import app

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


@dataclass
class Broker:
    kind: str  # redis | rabbitmq
    url: str
    transport_options: dict = field(default_factory=dict)

    def env(self, **transport_options) -> dict[str, str]:
        options = {**self.transport_options, **transport_options}
        return {
            "CELERY_BROKER_URL": self.url,
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(options),
        }

    def queue_size(self, queue: str) -> int:
        if self.kind == "redis":
            # A Redis queue is a list under the prefixed name (kombu's passive declare
            # ignores the prefix).
            client = redis.Redis.from_url(self.url)
            return client.llen(self.transport_options["global_keyprefix"] + queue)
        with self._connection() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count

    def take_messages(self, queue: str) -> list[dict]:
        """Consume what waits in `queue`: each task message's headers, args and kwargs."""
        taken = []
        with self._connection() as conn, conn.SimpleQueue(queue) as simple:
            while True:
                try:
                    message = simple.get(timeout=0.5)
                except simple.Empty:
                    return taken
                args, kwargs, _ = message.payload
                taken.append({**message.headers, "args": args, "kwargs": kwargs})
                message.ack()

    def delete_queues(self, queues: list[str]) -> None:
        with self._connection() as conn:
            for queue in queues:
                conn.default_channel.queue_delete(queue=queue)
        if self.kind == "redis":
            client = redis.Redis.from_url(self.url)
            prefix = self.transport_options["global_keyprefix"]
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)

    def _connection(self) -> Connection:
        return Connection(self.url, transport_options=self.transport_options)


def redis_broker() -> Broker | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return None
    prefix = f"tlsp-test-{secrets.token_hex(4)}:"
    return Broker("redis", REDIS_URL, {"global_keyprefix": prefix})


def rabbitmq_broker() -> Broker | None:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:  # kombu raises the transport's own errors
        return None
    return Broker("rabbitmq", RABBITMQ_URL)


@contextmanager
def project_app_on(broker: Broker):
    """Point tlsposture's Celery app (what enqueue_sync publishes with) at `broker`.

    The app caches its connection pools; they are dropped so the next publish connects
    to this broker, and dropped again afterwards.
    """
    before = (app.conf.broker_url, app.conf.broker_transport_options)
    _drop_pools()
    app.conf.broker_url = broker.url
    app.conf.broker_transport_options = broker.transport_options
    try:
        yield app
    finally:
        _drop_pools()
        app.conf.broker_url, app.conf.broker_transport_options = before


def _drop_pools() -> None:
    # What Celery does after a fork (Celery._after_fork), minus the fork signal; kombu's
    # shared producer pools are keyed by broker URL and would hand out closed connections.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
