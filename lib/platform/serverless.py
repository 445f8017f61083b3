"""serverless.yml, generated from the route table: `python -m lib.platform.serverless > serverless.yml`
(a test fails when the committed file drifts)."""

from __future__ import annotations

import sys

from functions.routes import ROUTES

__all__ = ["render"]

ENVIRONMENT = (
    "KIROSHI_DATABASE_URL",
    "KIROSHI_DATABASE_USER",
    "KIROSHI_DATABASE_PASS",
    "KIROSHI_REDIS_URL",
    "KIROSHI_NATS_URL",
    "KIROSHI_LOKI_URL",
    "KIROSHI_JWT_SECRET",
    "KIROSHI_BOOTSTRAP_ADMIN_EMAIL",
    "KIROSHI_MODELS",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "KIROSHI_PAYMENTS",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
)

HEADER = """\
# Generated from functions/routes.py by `python -m lib.platform.serverless > serverless.yml`; do not edit.
# One Lambda per HTTP route (API Gateway HTTP API) and three for the chat session (API Gateway WebSocket API).
# The functions need a SurrealDB server, Redis and NATS reachable from the Lambdas (README, "Deploying").
service: kiroshi
frameworkVersion: "3"

provider:
  name: aws
  runtime: python3.11
  region: ${opt:region, 'eu-west-1'}
  memorySize: 512
  timeout: 29
  httpApi:
    payload: "2.0"
  websocketsApiRouteSelectionExpression: $request.body.type
  environment:
    KIROSHI_DATA_DIR: /tmp
"""

PACKAGE = """
package:
  individually: false
  patterns:
    - "!**"
    - lambda_handlers.py
    - functions/**
    - lib/**
    - "!**/__pycache__/**"

plugins:
  - serverless-python-requirements

custom:
  pythonRequirements:
    fileName: requirements.txt
    slim: true
    noDeploy: [boto3, botocore, uvicorn, uvloop, httptools, functions-framework]

functions:
"""

WEBSOCKET = """\
  chat_connect:
    handler: lambda_handlers.chat_connect
    events:
      - websocket:
          route: $connect
  chat_default:
    handler: lambda_handlers.chat_default
    timeout: 900
    events:
      - websocket:
          route: $default
  chat_disconnect:
    handler: lambda_handlers.chat_disconnect
    events:
      - websocket:
          route: $disconnect
"""


def render() -> str:
    lines = [HEADER.rstrip("\n")]
    lines += [f"    {name}: ${{env:{name}, ''}}" for name in ENVIRONMENT]
    lines.append(PACKAGE.rstrip("\n"))
    for route in ROUTES:
        if route.websocket:
            continue
        lines += [
            f"  {route.target}:",
            f"    handler: lambda_handlers.{route.target}",
            "    events:",
            "      - httpApi:",
            f"          method: {route.method}",
            f"          path: {route.path}",
        ]
    return "\n".join(lines) + "\n" + WEBSOCKET


if __name__ == "__main__":
    sys.stdout.write(render())
