"""The organisation and its people: units, branches, teams, users, roles, API tokens, and the organisation import."""
