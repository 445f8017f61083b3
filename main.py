"""functions-framework targets, one per route of functions/routes.py, named `<area>_<endpoint>`:
`functions-framework --source main.py --target users_register`.

Generated from functions/routes.py by `make main.py`, which runs
`python -m lib.platform.entrypoints main.py > main.py`;
do not edit: a test fails when it drifts. A function imports its handler on its first request:
a cold start loads its own code only.
"""

from __future__ import annotations

from lib.platform import gcf

users_register = gcf.target("users.register")
users_login = gcf.target("users.login")
users_logout = gcf.target("users.logout")
users_me = gcf.target("users.me")
users_list = gcf.target("users.list")
users_get = gcf.target("users.get")
users_change_nickname = gcf.target("users.change_nickname")
users_change_name = gcf.target("users.change_name")
users_change_surname = gcf.target("users.change_surname")
users_change_email = gcf.target("users.change_email")
users_change_password = gcf.target("users.change_password")
users_delete = gcf.target("users.delete")
users_usage = gcf.target("users.usage")

usage_all_users = gcf.target("usage.all_users")

plans_list = gcf.target("plans.list")
plans_get = gcf.target("plans.get")
plans_create = gcf.target("plans.create")
plans_update = gcf.target("plans.update")
plans_delete = gcf.target("plans.delete")

subscribers_list = gcf.target("subscribers.list")
subscribers_get = gcf.target("subscribers.get")
subscribers_create = gcf.target("subscribers.create")
subscribers_update = gcf.target("subscribers.update")
subscribers_delete = gcf.target("subscribers.delete")

subscriptions_checkout = gcf.target("subscriptions.checkout")
subscriptions_buy = gcf.target("subscriptions.buy")
subscriptions_refund = gcf.target("subscriptions.refund")
subscriptions_contracts = gcf.target("subscriptions.contracts")
subscriptions_contract = gcf.target("subscriptions.contract")

chats_create = gcf.target("chats.create")
chats_list = gcf.target("chats.list")
chats_get = gcf.target("chats.get")
chats_rename = gcf.target("chats.rename")
chats_delete = gcf.target("chats.delete")
chats_ticket = gcf.target("chats.ticket")
chats_session = gcf.target("chats.session")

payments_stripe_webhook = gcf.target("payments.stripe_webhook")

compat_chat_completions = gcf.target("compat.chat_completions")
compat_models = gcf.target("compat.models")

health_healthy = gcf.target("health.healthy")
health_ready = gcf.target("health.ready")
health_metrics = gcf.target("health.metrics")

meta_root = gcf.target("meta.root")
meta_openapi = gcf.target("meta.openapi")
meta_asyncapi = gcf.target("meta.asyncapi")
meta_docs = gcf.target("meta.docs")
meta_docs_asset = gcf.target("meta.docs_asset")
meta_console_asset = gcf.target("meta.console_asset")
