"""Marshmallow schemas: `...In` validate and normalise request bodies, `...Out` shape every answer."""
