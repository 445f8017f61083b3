"""Authentication and authorization: passwords, tokens, policies, throttling."""
