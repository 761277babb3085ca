"""The one door for state changes: the runtime that creates records and fires events, the machines that interpret the definitions, permissions, the context a rule sees, and the hot-path SQL."""
