#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 for Vigie's notification tests (aiosmtpd).

Prints the port it listens on, then keeps every message it is handed as DIR/NNNN.eml, written
the moment the message's data has arrived (before the reply, so a client that stops waiting
for the reply has still delivered it).

  --fail-first N   answer the first N messages `451 4.3.0` (a temporary failure)
  --delay S        wait S seconds before answering each message
"""
import argparse
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, fail_first, delay):
        self.directory = directory
        self.fail_first = fail_first
        self.delay = delay
        self.seen = 0
        self.stored = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen <= self.fail_first:
            return "451 4.3.0 try again later"
        n = self.stored
        self.stored += 1
        path = os.path.join(self.directory, f"{n:04d}.eml")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"X-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.content)
        os.rename(tmp, path)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--delay", type=float, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    sink = Sink(a.dir, a.fail_first, a.delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test", data_size_limit=10_000_000),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    # Stops when the test closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
