"""Read-only queries: inboxes, timelines, the audit log, who may see and do what."""
