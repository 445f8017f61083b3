"""Front doors: thin translators from a platform's request to the one dispatch."""
