"""The reference provider served for real by uvicorn on loopback."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from reference_helpers import AUTH, MODEL

from chatconform.reference import ReferenceServer

COUNT = {"model": MODEL, "messages": [{"role": "user", "content": "Count from 1 to 5."}]}


def test_serves_models_on_loopback_and_stops() -> None:
    with ReferenceServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert (server.api_key, server.model) == ("sk-reference", MODEL)
        response = httpx.get(f"{server.base_url}/models", headers=AUTH, timeout=5)
        assert response.status_code == 200
        listed = [m["id"] for m in response.json()["data"]]
        assert listed[0] == MODEL and server.reasoning_model in listed
        base_url = server.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/models", headers=AUTH, timeout=2)
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_the_listener_is_tcp_with_nagle_off_for_its_connections() -> None:
    # asyncio turns Nagle's algorithm off only on sockets made as TCP by name; with it on,
    # each answer on a kept-alive connection waited ~40 ms for the ACK of its headers.
    with ReferenceServer() as server:
        (listener,) = [s for served in server._server.servers for s in served.sockets]
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_stream_is_paced_chunk_by_chunk() -> None:
    with ReferenceServer(pace_s=0.05) as server:
        arrivals = []
        started = time.monotonic()
        with httpx.stream(
            "POST",
            f"{server.base_url}/chat/completions",
            json={**COUNT, "stream": True},
            headers=AUTH,
            timeout=10,
        ) as response:
            for piece in response.iter_raw():
                arrivals.append((time.monotonic() - started, piece))
    body = b"".join(piece for _, piece in arrivals)
    assert body.count(b"\n\n") == 8 and body.endswith(b"data: [DONE]\n\n")
    # Eight events, 50 ms apart: they cannot all come in one read, nor all at once.
    assert len(arrivals) > 3
    assert arrivals[-1][0] - arrivals[0][0] >= 0.25


def test_stalled_stream_trips_the_read_timeout_and_the_server_still_stops() -> None:
    with ReferenceServer(faults={"stream-stalls"}, pace_s=0) as server:
        received = b""
        with (
            pytest.raises(httpx.ReadTimeout),
            httpx.stream(
                "POST",
                f"{server.base_url}/chat/completions",
                json={**COUNT, "stream": True},
                headers=AUTH,
                timeout=httpx.Timeout(5, read=0.5),
            ) as response,
        ):
            for piece in response.iter_raw():
                received += piece
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3
    assert received.count(b'"content":') == 4 and b"[DONE]" not in received


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(RuntimeError, match="cannot listen on"),
            ReferenceServer(port=port),
        ):
            pass


def test_unknown_fault_is_rejected_before_starting() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        ReferenceServer(faults={"nope"})
