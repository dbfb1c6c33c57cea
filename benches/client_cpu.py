"""Alibaba's official Python SDK (alibabacloud-ens20171110 12.1.0) calling DescribeHaVips against
the emulator, for benches/client_cpu.rs (which runs it when CLIENT_CPU_PYTHON names a venv).

Prints one line per round: the CPU time of this process per call, then the wall time per call,
both in microseconds (time.process_time: every thread of the process; the interpreter's start
and the imports are not counted). At --in-flight 1 the synchronous client is used; above, the
asynchronous one (aiohttp) with that many tasks. The AccessKey secret is read from the
environment variable CLIENT_CPU_SECRET.
"""

import argparse
import asyncio
import os
import sys
import time

from alibabacloud_ens20171110 import models
from alibabacloud_ens20171110.client import Client
from alibabacloud_tea_openapi import utils_models


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True, help="HOST:PORT of the emulator")
    p.add_argument("--access-key-id", required=True)
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--rounds", type=int, required=True)
    p.add_argument("--in-flight", type=int, default=1)
    a = p.parse_args()
    client = Client(
        utils_models.Config(
            access_key_id=a.access_key_id,
            access_key_secret=os.environ["CLIENT_CPU_SECRET"],
            endpoint=a.endpoint,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )

    def check(resp):
        if resp.status_code != 200 or not resp.body.request_id:
            sys.exit(f"unexpected answer: {resp.status_code} {resp.body}")

    def one():
        check(client.describe_ha_vips(models.DescribeHaVipsRequest()))

    async def task(n):
        for _ in range(n):
            check(await client.describe_ha_vips_async(models.DescribeHaVipsRequest()))

    async def concurrent(calls):
        per_task = -(-calls // a.in_flight)
        await asyncio.gather(*(task(per_task) for _ in range(a.in_flight)))
        return per_task * a.in_flight

    def run(calls):
        if a.in_flight == 1:
            for _ in range(calls):
                one()
            return calls
        return loop.run_until_complete(concurrent(calls))

    loop = asyncio.new_event_loop()
    run(max(a.calls // 10, a.in_flight))  # warm up: connections, imports done lazily
    for _ in range(a.rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        n = run(a.calls)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"{cpu / n * 1e6:.2f} {wall / n * 1e6:.2f}", flush=True)
    loop.close()


if __name__ == "__main__":
    main()
