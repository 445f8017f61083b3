"""The transport-neutral HTTP pipeline: messages, routing, dispatch, pagination."""
