"""Slow chats: a burst of simultaneous `POST .../messages` while the double takes 2 s per chat, and how a
cheap call (`GET /personal/entities`) fares meanwhile."""

import threading
import time
from dataclasses import dataclass

from bench import procs
from bench.hey import run_hey
from bench.target import Target
from bench.wrk import WrkResult, run_wrk

CHAT_LATENCY_MS = 2000


@dataclass(frozen=True)
class SlowChatsResult:
    chats: int
    created_201: int
    other_statuses: dict[int, int]
    wall_seconds: float
    chat_p50_s: float
    chat_p99_s: float
    list_p50_ms: float
    list_p99_ms: float
    list_requests: int
    list_non_2xx: int
    peak_rss_mib: float  # gunicorn master, workers and the double together
    max_in_flight_upstream: int | None


def slow_chats(target: Target, *, chats: int) -> SlowChatsResult:
    double = target.double
    double.switch(latency_ms=CHAT_LATENCY_MS, latency_match="POST .*/chat$")
    listings: list[WrkResult] = []

    def list_during_chats() -> None:
        time.sleep(0.3)  # once the chats are in flight
        listing = run_wrk(
            f"{target.wisdom_url}/personal/entities", label="list during chats", log=target.commands,
            connections=4, threads=1, seconds=2, headers=target.auth_headers,
        )  # fmt: skip
        listings.append(listing)

    lister = threading.Thread(target=list_during_chats)
    try:
        with procs.peak_rss([target.wisdom_pid, double.process.pid]) as memory:
            lister.start()
            burst = run_hey(
                f"{target.entity_url}/messages", label="slow chats", log=target.commands, requests=chats,
                method="POST", body='{"content": "benchmark"}', headers=target.auth_headers,
            )  # fmt: skip
            lister.join()
    finally:
        double.clear_switches()
    (listing,) = listings
    return SlowChatsResult(
        chats=chats,
        created_201=burst.statuses.get(201, 0),
        other_statuses={code: n for code, n in burst.statuses.items() if code != 201},
        wall_seconds=burst.wall_seconds,
        chat_p50_s=burst.p50_s,
        chat_p99_s=burst.p99_s,
        list_p50_ms=listing.p50_ms,
        list_p99_ms=listing.p99_ms,
        list_requests=listing.requests,
        list_non_2xx=listing.non_2xx,
        peak_rss_mib=round(memory.bytes / 2**20, 1),
        max_in_flight_upstream=double.stats().get("max_in_flight"),
    )
