"""The chat session on API Gateway WebSocket APIs: `$connect`, `$default`, `$disconnect` Lambdas
driving the same session engine as the long-lived WebSocket function, replying through
`apigatewaymanagementapi.post_to_connection`.

Connect with `wss://<api>/<stage>?user_id=...&chat_id=...&auth_token=<JWT or ticket>`; the
`session` frame comes with the answer to the first frame the client sends (API Gateway cannot
post to a connection before `$connect` returns). A `$default` invocation lasts as long as the reply
it starts: set the function's timeout to the longest reply. Resume and `stop` from another
connection work as on the long-lived function (Redis and NATS required, as for any replicas).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from lib.auth.tokens import TokenClaims
from lib.chats.access import owned_chat, socket_principal
from lib.chats.engine import ChatEngine
from lib.errors import ApiError
from lib.http import json
from lib.http.background_loop import run_coroutine
from lib.services import get_services

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
    """`$connect`: authenticate, check the chat, remember who this connection is."""
    services = get_services()
    query = event.get("queryStringParameters") or {}
    try:
        user_id, chat_id = query.get("user_id", ""), query.get("chat_id", "")
        principal = socket_principal(services, query.get("auth_token", ""), user_id, chat_id)
        owned_chat(services, user_id, chat_id)
    except ApiError as error:
        return {"statusCode": error.status, "body": json.dumps(error.problem()).decode()}
    record = {
        "claims": dataclasses.asdict(principal.claims),
        "chat_id": chat_id,
        "session_token": query.get("session_token"),
        "opened": False,
    }
    services.cache.set(_key(event), json.dumps(record).decode(), CONNECTION_SECONDS)
    return {"statusCode": 200}


async def _frame(event: Event, record: dict[str, Any]) -> None:
    global _engine
    services = get_services()
    if _engine is None:
        _engine = ChatEngine(services, services.llm)
    claims = TokenClaims(**record["claims"])
    chat = owned_chat(services, claims.user_id, record["chat_id"])
    transport = ApiGatewaySocket(_management_client(event), event["requestContext"]["connectionId"])
    if record["opened"]:
        connection = _engine.attach(claims, chat, transport)
    else:
        resume = _engine.resume_token(record["session_token"] or "", claims.user_id, chat.chat_id)
        connection = await _engine.open(claims, chat, transport, resume, -1)
    try:
        await _engine.receive(connection, event.get("body") or "")
        job = _engine.jobs.get(chat.chat_id)
        if job is not None and job.task is not None:
            await asyncio.shield(job.task)  # the invocation lasts as long as the reply
    finally:
        _engine.close(connection)


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
