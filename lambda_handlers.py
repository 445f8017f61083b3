"""AWS Lambda handlers, one per HTTP route of functions/routes.py (named like main.py's targets),
`handler` for every route in one Lambda, and the three of the chat session on API Gateway
WebSockets. serverless.yml points at these names.

Generated from functions/routes.py by `make lambda_handlers.py`, which runs
`python -m lib.platform.entrypoints lambda_handlers.py > lambda_handlers.py`;
do not edit: a test fails when it drifts. A function imports its handler on its first request:
a cold start loads its own code only.
"""

from __future__ import annotations

from typing import Any

from lib.platform import aws

handler = aws.handler

users_register = aws.route_handler("users.register")
users_login = aws.route_handler("users.login")
users_logout = aws.route_handler("users.logout")
users_me = aws.route_handler("users.me")
users_list = aws.route_handler("users.list")
users_get = aws.route_handler("users.get")
users_change_nickname = aws.route_handler("users.change_nickname")
users_change_name = aws.route_handler("users.change_name")
users_change_surname = aws.route_handler("users.change_surname")
users_change_email = aws.route_handler("users.change_email")
users_change_password = aws.route_handler("users.change_password")
users_delete = aws.route_handler("users.delete")
users_usage = aws.route_handler("users.usage")

usage_all_users = aws.route_handler("usage.all_users")

plans_list = aws.route_handler("plans.list")
plans_get = aws.route_handler("plans.get")
plans_create = aws.route_handler("plans.create")
plans_update = aws.route_handler("plans.update")
plans_delete = aws.route_handler("plans.delete")

subscribers_list = aws.route_handler("subscribers.list")
subscribers_get = aws.route_handler("subscribers.get")
subscribers_create = aws.route_handler("subscribers.create")
subscribers_update = aws.route_handler("subscribers.update")
subscribers_delete = aws.route_handler("subscribers.delete")

subscriptions_checkout = aws.route_handler("subscriptions.checkout")
subscriptions_buy = aws.route_handler("subscriptions.buy")
subscriptions_refund = aws.route_handler("subscriptions.refund")
subscriptions_contracts = aws.route_handler("subscriptions.contracts")
subscriptions_contract = aws.route_handler("subscriptions.contract")

chats_create = aws.route_handler("chats.create")
chats_list = aws.route_handler("chats.list")
chats_get = aws.route_handler("chats.get")
chats_rename = aws.route_handler("chats.rename")
chats_delete = aws.route_handler("chats.delete")
chats_ticket = aws.route_handler("chats.ticket")

payments_stripe_webhook = aws.route_handler("payments.stripe_webhook")

compat_chat_completions = aws.route_handler("compat.chat_completions")
compat_models = aws.route_handler("compat.models")

health_healthy = aws.route_handler("health.healthy")
health_ready = aws.route_handler("health.ready")
health_metrics = aws.route_handler("health.metrics")

meta_root = aws.route_handler("meta.root")
meta_openapi = aws.route_handler("meta.openapi")
meta_asyncapi = aws.route_handler("meta.asyncapi")
meta_docs = aws.route_handler("meta.docs")
meta_docs_asset = aws.route_handler("meta.docs_asset")
meta_console_asset = aws.route_handler("meta.console_asset")


def chat_connect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415 - HTTP functions never load the session engine

    return aws_ws.connect(event, context)


def chat_default(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.default(event, context)


def chat_disconnect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lib.platform import aws_ws  # noqa: PLC0415

    return aws_ws.disconnect(event, context)
