"""A local fleet of real TLS-speaking database servers, for tests, benchmarks and the demo.

`certs` mints CAs and server certificates; `mariadb` starts real `mariadbd` servers on
free loopback ports with chosen TLS options. Nothing here is used in production.
"""
