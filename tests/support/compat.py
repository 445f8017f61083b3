"""`make compat`: Kiroshi's chat session and `/v1` against a real third-party OpenAI-compatible
server, LiteLLM's proxy answering with mock responses (no provider, no key), and what passed.

    python -m tests.support.compat --litellm .compat-venv/bin/litellm

Starts the proxy with a config of one mock model and a master key, a local runner whose
KIROSHI_MODELS_FILE serves that model (priced) through it, then checks: a session turn streams
and its `done` names the model; `/v1` answers whole and streamed; the usage endpoint has the cost.
Prints one PASS/FAIL line per check (the first failure's cause), and exits 1 when any failed. Not
part of `make test`: it needs the proxy installed (README, Model providers).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.chat import ChatUser
from tests.support.runner import Runner, free_port, wait_http

MASTER_KEY = "sk-kiroshi-compat"
MOCK_TEXT = "Kiroshi compat: a mock reply from LiteLLM."

LITELLM_CONFIG = f"""
model_list:
  - model_name: mock-gpt
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: not-used
      mock_response: "{MOCK_TEXT}"
general_settings:
  master_key: {MASTER_KEY}
"""


def catalogue(port: int) -> str:
    return f"""
[upstreams.litellm]
base_url = "http://127.0.0.1:{port}/v1"
api_key_env = "LITELLM_MASTER_KEY"
provider = "litellm"
[models.mock]
upstream = "litellm"
provider_model = "mock-gpt"
input_per_million = "0.15"
output_per_million = "0.60"
"""


def checks(base: str) -> list[tuple[str, Callable[[], str]]]:
    user = ChatUser.create(base, model="mock")

    def session() -> str:
        ws, _ = user.connect()
        try:
            frames = user.say(ws, "hello through LiteLLM")
        finally:
            ws.close()
        text = "".join(f["content"] for f in frames if f["type"] == "delta")
        done = frames[-1]
        assert done["type"] == "done", done
        assert done["model"] == "mock" and text, (done, text)
        return f"{len(frames) - 1} deltas, done.model={done['model']}, usage={done['usage']}"

    def whole() -> str:
        body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(f"{base}/v1/chat/completions", json=body, headers=user.auth, timeout=30).json()
        content = answer["choices"][0]["message"]["content"]
        assert answer["model"] == "mock" and content, answer
        return f"{content!r}, usage={answer['usage']}"

    def streamed() -> str:
        body = {"model": "mock", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        answer = httpx.post(f"{base}/v1/chat/completions", json=body, headers=user.auth, timeout=30)
        events = [json.loads(x[6:]) for x in answer.text.split("\n\n") if x.startswith("data: {")]
        assert not any("error" in e for e in events), events
        text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices"))
        assert text and {e["model"] for e in events} == {"mock"}, events
        return f"{len(events)} chunks, {text!r}"

    def usage() -> str:
        rows = httpx.get(f"{base}/users/{user.user_id}/usage", headers=user.auth, timeout=30).json()["usage"]
        assert rows and rows[0]["model"] == "mock" and sum(r["replies"] for r in rows) == 3, rows
        tokens = [f"{r['day']} {r['model']}: {r['prompt_tokens']}+{r['completion_tokens']} tokens" for r in rows]
        return ", ".join(f"{t}, {r['cost']} {r['currency']}" for t, r in zip(tokens, rows, strict=True))

    return [("session turn", session), ("/v1 whole", whole), ("/v1 streamed", streamed), ("usage and cost", usage)]


def run(litellm: str) -> int:
    work = Path(tempfile.mkdtemp(prefix="kiroshi-compat-"))
    (work / "litellm.yaml").write_text(LITELLM_CONFIG, encoding="utf-8")
    port = free_port()
    log = (work / "litellm.log").open("wb")
    proxy = subprocess.Popen(
        [litellm, "--config", str(work / "litellm.yaml"), "--port", str(port)], stdout=log, stderr=log
    )
    failed = 0
    try:
        if not wait_http(f"http://127.0.0.1:{port}/health/liveliness", 120, alive=lambda: proxy.poll() is None):
            tail = (work / "litellm.log").read_text(errors="replace")[-3000:]
            print(f"FAIL  LiteLLM proxy did not start (exit {proxy.poll()}):\n{tail}")
            return 1
        (work / "models.toml").write_text(catalogue(port), encoding="utf-8")
        env = {"KIROSHI_MODELS_FILE": str(work / "models.toml"), "LITELLM_MASTER_KEY": MASTER_KEY}
        runner = Runner(work / "data", env).start()
        try:
            for name, check in checks(runner.url):
                try:
                    print(f"PASS  {name}: {check()}")
                except (AssertionError, KeyError, httpx.HTTPError, ValueError) as exc:
                    failed += 1
                    print(f"FAIL  {name}: {type(exc).__name__}: {str(exc)[:500]}")
        finally:
            runner.stop()
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
        log.close()
    print(f"{4 - failed} of 4 passed against LiteLLM's proxy (logs: {work})")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm", default=".compat-venv/bin/litellm", help="the proxy's command")
    args = parser.parse_args(argv)
    sys.exit(run(args.litellm))


if __name__ == "__main__":
    main()
