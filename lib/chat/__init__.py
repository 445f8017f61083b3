"""The chat session engine, independent of the transport that carries its frames."""
