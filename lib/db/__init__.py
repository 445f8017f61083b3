"""SurrealDB: the connection, its wire, migrations, paging and the helpers every area's repository uses."""
