"""Named rules the workflow definitions refer to: guards, effects, input payloads, reason texts."""
