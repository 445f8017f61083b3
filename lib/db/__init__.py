"""SurrealDB: the connection, migrations and one repository module per table."""
