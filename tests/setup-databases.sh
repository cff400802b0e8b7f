#!/usr/bin/env bash
# (Re)creates the `toolbox_example` databases of examples/postgres and examples/mysql, the
# `toolbox_hotels` database of examples/hotels, the `toolbox_matrix` databases of tests/matrix and
# `toolbox_replicas` of tests/replicas,
# from their schema files, on the PostgreSQL and MariaDB of this machine. The builds describe
# their statements against them (`TOOLBOX_PREPARE=1` refreshes .toolbox/), and the database compile-fail snapshots
# need them. Without the services it says so and stops; under CI=true that is an error.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if psql -h 127.0.0.1 -U postgres -d postgres -qtAc 'SELECT 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -q -c 'DROP DATABASE IF EXISTS toolbox_example WITH (FORCE)' -c 'CREATE DATABASE toolbox_example' \
    && psql -h 127.0.0.1 -U postgres -d toolbox_example -q -v ON_ERROR_STOP=1 -f examples/postgres/schema.sql \
    && echo "PostgreSQL: toolbox_example ready" || status=1
  psql -h 127.0.0.1 -U postgres -d postgres -q -c 'DROP DATABASE IF EXISTS toolbox_matrix WITH (FORCE)' -c 'CREATE DATABASE toolbox_matrix' \
    && psql -h 127.0.0.1 -U postgres -d toolbox_matrix -q -v ON_ERROR_STOP=1 -f tests/matrix/postgres.sql \
    && echo "PostgreSQL: toolbox_matrix ready" || status=1
  psql -h 127.0.0.1 -U postgres -d postgres -q -c 'DROP DATABASE IF EXISTS toolbox_hotels WITH (FORCE)' -c 'CREATE DATABASE toolbox_hotels' \
    && psql -h 127.0.0.1 -U postgres -d toolbox_hotels -q -v ON_ERROR_STOP=1 -f examples/hotels/schema.sql >/dev/null \
    && echo "PostgreSQL: toolbox_hotels ready" || status=1
  psql -h 127.0.0.1 -U postgres -d postgres -q -c 'DROP DATABASE IF EXISTS toolbox_replicas WITH (FORCE)' -c 'CREATE DATABASE toolbox_replicas' \
    && psql -h 127.0.0.1 -U postgres -d toolbox_replicas -q -v ON_ERROR_STOP=1 -f tests/replicas/schema.sql \
    && echo "PostgreSQL: toolbox_replicas ready" || status=1
else
  echo "PostgreSQL is not reachable on 127.0.0.1:5432: its examples build from their caches, their tests skip"
  [ "${CI:-}" = "true" ] && status=1
fi
if mariadb -h 127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
  mariadb -h 127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS toolbox_example; CREATE DATABASE toolbox_example' \
    && mariadb -h 127.0.0.1 -uroot toolbox_example < examples/mysql/schema.sql \
    && echo "MariaDB: toolbox_example ready" || status=1
  mariadb -h 127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS toolbox_matrix; CREATE DATABASE toolbox_matrix' \
    && mariadb -h 127.0.0.1 -uroot --default-character-set=utf8mb4 toolbox_matrix < tests/matrix/mysql.sql \
    && echo "MariaDB: toolbox_matrix ready" || status=1
else
  echo "MariaDB is not reachable on 127.0.0.1:3306: its example builds from the cache, its tests skip"
  [ "${CI:-}" = "true" ] && status=1
fi
exit $status
