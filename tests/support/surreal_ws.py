"""Test fixture: ONE embedded SurrealDB engine served over SurrealDB's WebSocket RPC (`/rpc`,
CBOR frames), so that several Kiroshi processes share a real engine through `ws://` as they would
share a SurrealDB server. There is no SurrealDB server binary here; this is never a deployment.

    python -m tests.support.surreal_ws PORT [ENGINE_URL]   (ENGINE_URL defaults to mem://)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from surrealdb._surrealdb_ext import AsyncEmbeddedDB
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


async def main(port: int, engine_url: str) -> None:
    engine: Any = AsyncEmbeddedDB(engine_url)
    await engine.connect()

    async def rpc(connection: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):  # clients that exit without a close frame
            async for frame in connection:
                if isinstance(frame, bytes):  # CBOR requests, answered as the engine writes them
                    await connection.send(await engine.execute(frame))

    async with serve(rpc, "127.0.0.1", port, subprotocols=["cbor"], max_size=None):  # type: ignore[list-item]
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "mem://"))
