"""Model catalogues for tests and benchmarks: `many_models` writes a KIROSHI_MODELS_FILE of N
models spread over the given upstreams, each priced, limited, with two fallbacks on other
upstreams and a quirk every few models, so that a benchmark measures routing with a realistic
catalogue rather than one model.

    python -m tests.support.catalogues OUT.toml [--models 50] [--base-url URL ...] [--key-env NAME]

The first model is `gpt-4o-mini` (the name the fake upstream and the benchmarks use); the others
are `model-01`, `model-02`, ... The upstreams are named `up-0`, `up-1`, ... in the order given.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

__all__ = ["many_models"]

QUIRKS = ((), ("max_tokens",), ("stream_options",), ("logprobs", "parallel_tool_calls"))


def many_models(base_urls: Sequence[str], count: int = 50, key_env: str | None = None) -> str:
    """The TOML text of a catalogue of `count` models over `base_urls` (at least one). Every
    upstream's key is read from `key_env` when given; else the upstreams take no key."""
    if not base_urls or count < 1:
        raise ValueError("a catalogue needs at least one upstream and one model")
    lines = ['currency = "USD"', ""]
    for i, url in enumerate(base_urls):
        lines += [f'[upstreams."up-{i}"]', f'base_url = "{url}"', f'provider = "fake-{i}"']
        lines += [f'api_key_env = "{key_env}"'] if key_env else []
        lines.append("")
    names = ["gpt-4o-mini", *(f"model-{i:02d}" for i in range(1, count))]
    for i, name in enumerate(names):
        fallbacks = [names[j] for j in (i + 1, i + 2) if j < count]  # later models only: no cycle
        lines += [
            f'[models."{name}"]',
            f'upstream = "up-{i % len(base_urls)}"',
            f'provider_model = "{name}"',
            f"context_tokens = {8192 * (1 + i % 16)}",
            f"max_output_tokens = {1024 * (1 + i % 4)}",
            f"refuses = {list(QUIRKS[i % len(QUIRKS)])}".replace("'", '"'),
            f'input_per_million = "{i % 7}.{(i * 37) % 100:02d}"',
            f'output_per_million = "{(i % 7) * 4}.{(i * 53) % 100:02d}5"',
            f"fallbacks = {fallbacks}".replace("'", '"'),
            "",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--base-url", action="append", default=[])
    parser.add_argument("--key-env", default=None)
    args = parser.parse_args(argv)
    urls = args.base_url or ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
    args.out.write_text(many_models(urls, args.models, args.key_env), encoding="utf-8")


if __name__ == "__main__":
    main()
