"""Chats: chats and messages, the transport-independent chat session engine, and the OpenAI-compatible
completions."""
