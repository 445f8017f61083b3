"""Accounts: users, their profiles, sign-in rules and the user repository."""
