"""The local runner: every function of the route table in one process, on one port."""
