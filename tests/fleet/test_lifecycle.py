"""Fleet servers start in parallel and are always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pymysql
import pytest

from fleet.certs import make_ca, make_server_cert
from fleet.mariadb import Fleet, FleetError, PortTaken, ServerSpec, free_port

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; it only waits to be reaped.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_servers_stop_when_the_block_fails(tmp_path):
    ca = make_ca()
    specs = [
        ServerSpec(f"s{i}", certificate=make_server_cert([f"s{i}.fleet.test"], issuer=ca))
        for i in range(3)
    ]
    pids = []
    with (
        pytest.raises(RuntimeError, match="test body failed"),
        Fleet(specs, base_dir=tmp_path) as fleet,
    ):
        pids = [server.process.pid for server in fleet]
        assert len(pids) == 3 and all(_alive(p) for p in pids)
        raise RuntimeError("test body failed")
    assert all(_wait_gone(p) for p in pids)


def test_servers_die_with_a_killed_parent(tmp_path):
    """Even SIGKILL of the process that started them leaves no server behind."""
    script = textwrap.dedent(
        f"""
        import pathlib, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from fleet.mariadb import Fleet, ServerSpec
        fleet = Fleet([ServerSpec("orphan")], base_dir=pathlib.Path({str(tmp_path)!r}))
        fleet.start()
        print(fleet["orphan"].process.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    server_pid = int(parent.stdout.readline())
    assert _alive(server_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    assert _wait_gone(server_pid), "mariadbd outlived its killed parent"


def test_six_servers_start_side_by_side_each_on_its_own_port(tmp_path):
    # How long they take is bench/check_fleet.py's figure ("N servers started in …").
    ca = make_ca()
    specs = [
        ServerSpec(f"p{i}", certificate=make_server_cert([f"p{i}.fleet.test"], issuer=ca))
        for i in range(6)
    ]
    with Fleet(specs, base_dir=tmp_path) as fleet:
        ports = {s.port for s in fleet}
        assert len(ports) == 6
        assert all(s.query("SELECT @@have_ssl")[0][0] == "YES" for s in fleet)


def test_a_kept_data_directory_outlives_a_restart_and_takes_new_passwords(tmp_path):
    port = free_port()
    spec = ServerSpec("kept", port=port)
    with Fleet([spec], base_dir=tmp_path, keep_data=True) as fleet:
        first = fleet["kept"]
        assert first.port == port
        first.query("CREATE DATABASE kept_between_runs")
        old_password = first.checker.password
    with Fleet([spec], base_dir=tmp_path, keep_data=True) as fleet:
        second = fleet["kept"]
        assert second.port == port
        assert ("kept_between_runs",) in second.query("SHOW DATABASES")

        def login(password: str):
            return pymysql.connect(
                host="127.0.0.1", port=port, user="tlsposture", password=password, connect_timeout=2
            )

        with login(second.checker.password) as conn, conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone()[0] == "tlsposture@%"
        with pytest.raises(pymysql.err.OperationalError) as refused:
            login(old_password)
        assert refused.value.args[0] == 1045  # access denied: the old password is gone


def test_a_server_listens_on_the_loopback_address_it_is_given(tmp_path):
    specs = [ServerSpec("elsewhere", host="127.0.0.3")]
    with Fleet(specs, base_dir=tmp_path) as fleet:
        server = fleet["elsewhere"]
        assert server.host == "127.0.0.3"
        socket.create_connection(("127.0.0.3", server.port), timeout=5).close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()


def test_a_server_refuses_an_address_beyond_loopback(tmp_path):
    with (
        pytest.raises(FleetError, match="loopback only"),
        Fleet([ServerSpec("public", host="192.0.2.10")], base_dir=tmp_path),
    ):
        pass


def test_a_server_asked_for_a_port_that_is_taken_says_so_and_is_not_moved(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(FleetError) as failed:
            Fleet([ServerSpec("taken", port=port)], base_dir=tmp_path).start()
    assert not isinstance(failed.value, PortTaken)  # a port asked for is not swapped
    assert "Address already in use" in str(failed.value)


def test_a_chosen_port_lies_outside_the_range_of_outgoing_connections():
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(port < low for port in ports)
    for port in ports:  # and nobody listens there
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
