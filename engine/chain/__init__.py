"""The audit chain: appending, verifying (in parallel stretches), checkpoints, erasure, backups."""
