"""Billing: plans, subscribers, purchases, refunds, contracts and what a plan entitles to."""
