"""The chat session on API Gateway WebSocket APIs: `$connect`, `$default`, `$disconnect` Lambdas
translated to the session function of the long-lived WebSocket (functions.chats.session), over the
same engine, replying through `apigatewaymanagementapi.post_to_connection`.

Connect with `wss://<api>/<stage>?user_id=...&chat_id=...&auth_token=<JWT or ticket>` (and
`session_token`, `last_index` to resume); `$connect` admits the session and keeps the admission in
the cache under the connection id. The `session` frame comes with the answer to the first frame
the client sends (API Gateway cannot post to a connection before `$connect` returns). A `$default`
invocation lasts as long as the reply it starts: set the function's timeout to the longest reply.
Resume and `stop` from another connection work as on the long-lived function (Redis and NATS
required, as for any replicas). No process holds the sockets, so the per-user socket limit is not
checked here (API Gateway's own connection limits apply).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from functions.chats import session
from lib.auth.tokens import TokenClaims
from lib.errors import ApiError
from lib.http import json
from lib.http.background_loop import run_coroutine
from lib.services import get_services

if TYPE_CHECKING:
    from lib.chats.engine import ChatEngine

__all__ = ["connect", "default", "disconnect"]

Event = dict[str, Any]
CONNECTION_SECONDS = 2 * 3600
_engine: ChatEngine | None = None


class ApiGatewaySocket:
    """The engine's Transport: frames posted to an API Gateway connection."""

    def __init__(self, client: Any, connection_id: str) -> None:
        self._client = client
        self._connection_id = connection_id

    async def send_text(self, text: str) -> None:
        await asyncio.to_thread(self._client.post_to_connection, ConnectionId=self._connection_id, Data=text.encode())

    async def close(self, code: int) -> None:
        await asyncio.to_thread(self._client.delete_connection, ConnectionId=self._connection_id)


def _management_client(event: Event) -> Any:
    import boto3  # noqa: PLC0415 - the Lambda runtime provides it

    context = event["requestContext"]
    return boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{context['domainName']}/{context['stage']}")


def _key(event: Event) -> str:
    return f"apigw-connection:{event['requestContext']['connectionId']}"


def connect(event: Event, context: Any) -> dict[str, Any]:
    """`$connect`: admit the session (functions.chats.session.admit), remember who this connection is."""
    services = get_services()
    query = event.get("queryStringParameters") or {}
    try:
        admission = session.admit(services, None, query.get("user_id", ""), query.get("chat_id", ""), query)
    except ApiError as error:
        return {"statusCode": error.status, "body": json.dumps(error.problem()).decode()}
    record = {
        "claims": dataclasses.asdict(admission.claims),
        "chat_id": admission.chat.chat_id,
        "session_token": admission.session_token,
        "last_index": admission.last_index,
        "opened": False,
    }
    services.cache.set(_key(event), json.dumps(record).decode(), CONNECTION_SECONDS)
    return {"statusCode": 200}


async def _frame(event: Event, record: dict[str, Any]) -> None:
    global _engine
    services = get_services()
    if _engine is None:
        _engine = session.new_engine(services)
    admission = session.readmit(
        services, TokenClaims(**record["claims"]), record["chat_id"], record["session_token"], record["last_index"]
    )
    transport = ApiGatewaySocket(_management_client(event), event["requestContext"]["connectionId"])
    await session.on_invocation(_engine, admission, transport, event.get("body") or "", opened=record["opened"])


def default(event: Event, context: Any) -> dict[str, Any]:
    """`$default`: one client frame; the reply is posted to the connection as it streams."""
    services = get_services()
    raw = services.cache.get(_key(event))
    if raw is None:
        return {"statusCode": 410}
    record = json.loads(raw)
    run_coroutine(_frame(event, record))
    if not record["opened"]:
        services.cache.set(_key(event), json.dumps({**record, "opened": True}).decode(), CONNECTION_SECONDS)
    return {"statusCode": 200}


def disconnect(event: Event, context: Any) -> dict[str, Any]:
    """`$disconnect`: forget the connection."""
    get_services().cache.take(_key(event))
    return {"statusCode": 200}
