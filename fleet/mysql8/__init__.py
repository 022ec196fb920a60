"""A MySQL 8.0/8.4 persona: documented MySQL behaviour on the wire, not a real MySQL.

No MySQL 8 server can be installed on the machines this project is built on (Debian 12 ships
none), so the MySQL 8 paths of the checker run against this persona: a compact MySQL
protocol server over real TLS whose answers follow the MySQL reference manual and
mysql-server's mysql-test result files (README "The MySQL 8 persona").
"""
