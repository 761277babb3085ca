"""One blueprint per concern; each view parses input, makes one engine call or named query, renders."""
