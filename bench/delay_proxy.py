#!/usr/bin/python3
# A delaying TCP proxy for the WAN benchmark rows (this kernel has no netem):
# every byte waits RTT/2 in each direction, order kept, connections counted.
"""Usage: bench/delay_proxy.py --target PORT [--rtt 0.05] [--port 0]

Accepts on 127.0.0.1, connects to 127.0.0.1:TARGET for each accepted
connection, and forwards the bytes of both directions, each chunk held until
RTT/2 after it was read (so a request/answer exchange costs one RTT and a
TLS handshake its real number of round trips; a new connection's first
bytes wait one RTT more, as the TCP handshake would make them). Bandwidth is not limited.
From Python: DelayProxy(target_port, rtt).start(); .port, .connections,
.stop(). As a program it prints its port, runs until SIGTERM/SIGINT and
prints the number of connections it accepted.
"""

import argparse
import asyncio
import signal
import sys
import threading

CHUNK = 256 * 1024
QUEUE_CHUNKS = 1024         # per direction: at most 256 MiB held back
MAX_CONNECTIONS = 4096      # open at once; more are refused
CONNECT_TIMEOUT = 10.0


class DelayProxy:
    def __init__(self, target_port, rtt=0.05, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.delay = rtt / 2.0
        self.rtt = rtt
        self.port = None
        self.connections = 0        # accepted since start
        self.refused = 0
        self._open = set()
        self._loop = None
        self._server = None
        self._thread = None
        self._lock = threading.Lock()

    # --- control (any thread) -------------------------------------------
    def start(self, port=0):
        ready = threading.Event()
        err = []

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._server = self._loop.run_until_complete(
                    asyncio.start_server(self._accept, "127.0.0.1", port,
                                         backlog=512))
                self.port = self._server.sockets[0].getsockname()[1]
            except Exception as e:  # noqa: BLE001 (handed to start())
                err.append(e)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="delay-proxy",
                                        daemon=True)
        self._thread.start()
        if not ready.wait(10) or err:
            raise RuntimeError("delay proxy did not start: %s" %
                               (err[0] if err else "timeout"))
        return self

    def stop(self):
        if not self._loop or not self._thread:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            fut.result(10)
        except Exception:  # noqa: BLE001 (stopping anyway)
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def count(self):
        with self._lock:
            return self.connections

    # --- the loop ------------------------------------------------------------
    async def _shutdown(self):
        self._server.close()
        for w in list(self._open):
            w.close()
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _accept(self, creader, cwriter):
        with self._lock:
            self.connections += 1
        # A real client's first bytes reach the server 1.5 RTT after it
        # sent its SYN; the local connect() took no time, so they wait here.
        first = asyncio.get_running_loop().time() + self.rtt
        if len(self._open) >= 2 * MAX_CONNECTIONS:    # two ends each
            self.refused += 1
            cwriter.close()
            return
        try:
            ureader, uwriter = await asyncio.wait_for(
                asyncio.open_connection(*self.target), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            cwriter.close()
            return
        self._open.update((cwriter, uwriter))
        try:
            await asyncio.gather(self._pump(creader, uwriter, first),
                                 self._pump(ureader, cwriter, 0.0),
                                 return_exceptions=True)
        finally:
            for w in (cwriter, uwriter):
                self._open.discard(w)
                w.close()

    async def _pump(self, reader, writer, not_before):
        """Read from one side, write to the other RTT/2 later, in order;
        nothing is sent before not_before + RTT/2 (the TCP handshake)."""
        loop = asyncio.get_running_loop()
        q = asyncio.Queue(QUEUE_CHUNKS)

        async def read_side():
            try:
                while True:
                    data = await reader.read(CHUNK)
                    await q.put((max(loop.time(), not_before) + self.delay,
                                 data))
                    if not data:
                        return
            except OSError:
                await q.put((loop.time() + self.delay, None))

        async def write_side():
            while True:
                due, data = await q.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:            # the reader side broke
                    writer.close()
                    return
                if not data:                # EOF: pass the half-close on
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        rt = asyncio.ensure_future(read_side())
        try:
            await write_side()
        except OSError:
            writer.close()
        finally:
            if not rt.done():
                rt.cancel()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--rtt", type=float, default=0.05, help="seconds")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    p = DelayProxy(a.target, a.rtt).start(a.port)
    print(p.port, flush=True)
    done = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: done.set())
    while not done.wait(1):
        pass
    p.stop()
    print("connections %d" % p.count(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
