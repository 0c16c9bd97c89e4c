"""Slow clients on loopback, for the tests and bench/slow_clients.py: connections that send
nothing, that trickle their headers a byte a second, and that ask for pages and never read
them, all held open in one thread while a reader's requests are timed beside them."""

import asyncio
import http.client
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

KINDS = ("idle", "trickle", "unread")


class SlowClients:
    """`count` connections to `url`, split evenly among KINDS, held until stop()."""

    def __init__(self, url, count, page="/"):
        parts = urlsplit(url)
        self.host, self.port, self.page = parts.hostname, parts.port, page
        self.count = count
        self.opened = 0
        self._stop = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    def __enter__(self):
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    async def _main(self):
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        sockets = []
        tasks = [asyncio.create_task(self._hold(KINDS[n % len(KINDS)], sockets)) for n in range(self.count)]
        await asyncio.sleep(1)  # the connections are open; the trickle has begun
        self._ready.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in sockets:
            sock.close()

    async def _hold(self, kind, sockets):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # a reader that takes nothing in
        sock.setblocking(False)
        sockets.append(sock)
        try:
            await self._loop.sock_connect(sock, (self.host, self.port))
        except OSError:
            return
        self.opened += 1
        request = f"GET {self.page} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept-Encoding: identity\r\n"
        try:
            if kind == "trickle":
                for byte in (request + "X-Slow: " + "a" * 10000).encode():
                    await self._loop.sock_sendall(sock, bytes([byte]))
                    await asyncio.sleep(1)
            elif kind == "unread":
                # Pipelined, so that a server that keeps connections alive has many answers to write.
                await self._loop.sock_sendall(sock, ((request + "\r\n") * 50).encode())
            await asyncio.Event().wait()
        except OSError:
            pass


def fetch(url, path, timeout=30):
    """One reader's request on a connection of its own: (status or None, seconds)."""
    parts = urlsplit(url)
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status, time.perf_counter() - start
    except OSError:
        return None, time.perf_counter() - start


def readers(url, path, seconds, interval=0.1):
    """A reader's requests one after another for `seconds`: their statuses and latencies."""
    statuses, latencies = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, latency = fetch(url, path)
        statuses.append(status)
        latencies.append(latency)
        time.sleep(interval)
    return statuses, latencies


def usual_latency(url, path, requests=30):
    """The median latency of a reader's request with nothing else going on."""
    for _ in range(5):
        fetch(url, path)
    return statistics.median(fetch(url, path)[1] for _ in range(requests))
