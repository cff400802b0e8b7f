#!/usr/bin/env python3
"""Generates the MySQL/MariaDB type matrix: mysql.sql (the schema and rows), mysql.yaml (one tool
per case, compiled by the toolbox! macro) and mysql.cases.json (what the test calls each tool
with). Run it after editing the tables below; commit its output.

Two families of cases:
- results: every data type of the MySQL/MariaDB manual as a column (integers signed and
  unsigned, BOOLEAN, DECIMAL, FLOAT, DOUBLE, BIT, the temporal types, the string types with
  utf8mb4, latin1 and binary collations, the binary types, ENUM, SET, JSON, MariaDB's UUID, INET4
  and INET6), each in a table `r_<name>` of a few values and a NULL, read back by
  `SELECT v FROM r_<name> ORDER BY id`; spatial values read through `ST_AsText` and
  `ST_AsGeoJSON` (the build refuses a spatial column itself, naming those functions); and
  expressions without a table (aggregates, arithmetic, JSON functions, NULL);
- parameters: every declared parameter type against the column types it is bound to, as a
  placeholder compared (`WHERE v = ?`), inserted (`INSERT ... VALUES (?)` into a table of the
  case's own, then read back by a second tool), cast (`CAST(? AS T)`) and selected as it is
  (`SELECT ? AS v`); arrays through `JSON_TABLE`, maps as JSON text.

The test (tests/mysql.rs) compares each answer with what the `mariadb` client prints for the same
statement with the argument written as a literal in place of the placeholder.
"""
import os
import re

from matrix_files import HERE, json_text, write_cases, write_toolbox, yaml_str

# (table name, column type, [SQL literals of the values]); a NULL row is added to each.
RESULTS = [
    ("tinyint", "TINYINT", ["-128", "127", "0"]),
    ("tinyint_u", "TINYINT UNSIGNED", ["255", "0"]),
    ("smallint", "SMALLINT", ["-32768", "32767"]),
    ("smallint_u", "SMALLINT UNSIGNED", ["65535"]),
    ("mediumint", "MEDIUMINT", ["-8388608", "8388607", "-1"]),
    ("mediumint_u", "MEDIUMINT UNSIGNED", ["16777215"]),
    ("int", "INT", ["-2147483648", "2147483647", "-1"]),
    ("int_u", "INT UNSIGNED", ["4294967295"]),
    ("bigint", "BIGINT", ["-9223372036854775808", "9223372036854775807", "9007199254740993"]),
    ("bigint_u", "BIGINT UNSIGNED", ["18446744073709551615", "0"]),
    ("int_zerofill", "INT(5) ZEROFILL", ["42"]),
    # BOOLEAN is TINYINT(1): any TINYINT fits, and MySQL's truth of a value is `v IS TRUE`.
    ("boolean", "BOOLEAN", ["TRUE", "FALSE", "2", "-1"]),
    ("tinyint1", "TINYINT(1)", ["1", "0"]),
    ("tinyint1_u", "TINYINT(1) UNSIGNED", ["200", "0"]),
    ("decimal", "DECIMAL(10,2)", ["49.00", "-123.45", "0"]),
    ("decimal_wide", "DECIMAL(65,30)", ["12345678901234567890123456789012345.123456789012345678901234567890",
                                         "-0.000000000000000000000000000001"]),
    ("decimal_int", "DECIMAL(20,0)", ["99999999999999999999"]),
    ("decimal_u", "DECIMAL(5,1) UNSIGNED", ["1234.5"]),
    ("float", "FLOAT", ["1.1", "1234567", "-3.40282e38", "1e-10", "0", "16777217", "0.1"]),
    ("float_scaled", "FLOAT(7,2)", ["1.5", "-12345.67"]),
    ("double", "DOUBLE", ["0.1", "1e20", "-1.7976931348623157e308", "123456789012345678", "5e-324",
                          "0.30000000000000004", "-0e0"]),
    ("double_scaled", "DOUBLE(10,3)", ["3.14159"]),
    ("bit1", "BIT(1)", ["b'1'", "b'0'"]),
    ("bit10", "BIT(10)", ["b'101'", "b'1111111111'"]),
    ("bit64", "BIT(64)", ["b'" + "1" * 64 + "'", "b'10000000'"]),
    ("date", "DATE", ["'2025-01-31'", "'1000-01-01'", "'9999-12-31'", "'0000-00-00'", "'2025-00-00'"]),
    ("time", "TIME", ["'13:45:30'", "'-838:59:59'", "'838:59:59'", "'00:00:00'", "'-00:00:01'", "'100:00:00'"]),
    ("time6", "TIME(6)", ["'-01:02:03.5'", "'100:00:00.000001'", "'23:59:59.999999'", "'00:00:00'"]),
    ("datetime", "DATETIME", ["'2025-01-31 13:45:30'", "'1000-01-01 00:00:00'", "'0000-00-00 00:00:00'"]),
    ("datetime6", "DATETIME(6)", ["'2025-01-31 13:45:30.123456'", "'2025-01-31 13:45:30.5'",
                                  "'9999-12-31 23:59:59.999999'", "'2025-01-31 00:00:00'"]),
    ("timestamp", "TIMESTAMP NULL", ["'2025-01-31 13:45:30'", "'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'",
                                     "'0000-00-00 00:00:00'"]),
    ("timestamp3", "TIMESTAMP(3) NULL", ["'2025-01-31 13:45:30.5'", "'2025-01-31 13:45:30.123'"]),
    ("year", "YEAR", ["2025", "1901", "2155", "0"]),
    ("char", "CHAR(5)", ["'ab'", "''", "'é😀'"]),
    ("varchar", "VARCHAR(50)", [r"""'héllo "q" \\ tab\tend'""", "''", r"'line1\nline2'", "'😀 it''s'"]),
    ("tinytext", "TINYTEXT", ["'tiny'"]),
    ("text", "TEXT", [r"'a\0b'", "'text'"]),
    ("mediumtext", "MEDIUMTEXT", ["'medium'"]),
    ("longtext", "LONGTEXT", ["REPEAT('x', 300)"]),
    ("char_bin", "CHAR(5) COLLATE utf8mb4_bin", ["'Ab'"]),
    ("varchar_bin", "VARCHAR(20) COLLATE utf8mb4_bin", ["'MiXeD é'"]),
    ("text_bin", "TEXT COLLATE utf8mb4_bin", ["'text bin'"]),
    ("longtext_bin", "LONGTEXT COLLATE utf8mb4_bin", ["'{not json'"]),
    ("varchar_latin1", "VARCHAR(20) CHARACTER SET latin1", ["'café'"]),
    ("varchar_ascii", "VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin", ["'ascii'"]),
    ("varchar_utf8mb3", "VARCHAR(20) CHARACTER SET utf8mb3", ["'mb3 é'"]),
    ("binary", "BINARY(4)", ["x'00ff'", "''", "'ab'"]),
    ("varbinary", "VARBINARY(10)", [r"x'00ff0a095c'", "''", "'text'"]),
    ("tinyblob", "TINYBLOB", ["x'01'"]),
    ("blob", "BLOB", ["x'deadbeef'", "'plain'"]),
    ("mediumblob", "MEDIUMBLOB", ["x'00'"]),
    ("longblob", "LONGBLOB", ["x'ff'"]),
    ("char_binary_charset", "CHAR(3) CHARACTER SET binary", ["'abc'"]),
    ("enum", "ENUM('sad','ok','happy')", ["'happy'", "'sad'"]),
    ("enum_bin", "ENUM('a','B') COLLATE utf8mb4_bin", ["'B'"]),
    ("set", "SET('a','b','c')", ["'a,c'", "''", "'b'"]),
    ("json", "JSON", ["""'{"a": [1, 2.5, null], "b": "x"}'""", "'[]'", """'"s"'""", "'1.50'", "'true'",
                      """'{"e": "\\\\u00e9"}'"""]),
    ("uuid", "UUID", ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"]),
    ("inet4", "INET4", ["'10.1.2.3'", "'0.0.0.0'"]),
    ("inet6", "INET6", ["'::ffff:1.2.3.4'", "'2001:db8::1'", "'::'"]),
]

# Spatial types: stored, then read through the functions the build names when a statement
# selects one of them as it is.
SPATIAL = [
    ("geometry", "GEOMETRY", ["ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('LINESTRING(0 0,1 1)')"]),
    ("point", "POINT", ["POINT(1.5, -2)", "POINT(0.1, 1e20)"]),
    ("linestring", "LINESTRING", ["ST_GeomFromText('LINESTRING(0 0,1 1,2 0)')"]),
    ("polygon", "POLYGON", ["ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))')"]),
    ("multipoint", "MULTIPOINT", ["ST_GeomFromText('MULTIPOINT(1 1,2 2)')"]),
    ("multilinestring", "MULTILINESTRING", ["ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3))')"]),
    ("multipolygon", "MULTIPOLYGON", ["ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')"]),
    ("geometrycollection", "GEOMETRYCOLLECTION",
     ["ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')"]),
]

# Expressions without a table: (name, statement).
EXPRESSIONS = [
    ("e_null", "SELECT NULL AS v"),
    ("e_arith", "SELECT 1 + 1 AS v"),
    ("e_decimal_arith", "SELECT 1.5 * 2 AS v"),
    ("e_double_arith", "SELECT 0.1e0 + 0.2e0 AS v"),
    ("e_compare", "SELECT 'a' = 'a' AS v"),
    ("e_count", "SELECT count(*) AS v FROM r_int"),
    ("e_sum", "SELECT sum(v) AS v FROM r_int"),
    ("e_avg", "SELECT avg(v) AS v FROM r_decimal"),
    ("e_sum_double", "SELECT sum(v) AS v FROM r_double WHERE v > 0"),
    ("e_max_datetime", "SELECT max(v) AS v FROM r_datetime6"),
    ("e_bit_plus", "SELECT v + 0 AS v FROM r_bit10 ORDER BY id"),
    ("e_bin_of_bit", "SELECT BIN(v) AS v FROM r_bit10 ORDER BY id"),
    ("e_hex", "SELECT HEX(v) AS v FROM r_varbinary ORDER BY id"),
    ("e_concat", "SELECT CONCAT(v, '!') AS v FROM r_varchar_bin ORDER BY id"),
    ("e_group_concat", "SELECT GROUP_CONCAT(v ORDER BY id) AS v FROM r_char"),
    ("e_json_object", "SELECT JSON_OBJECT('a', 1, 'b', 'x') AS v"),
    ("e_json_extract", "SELECT JSON_EXTRACT(v, '$.a') AS v FROM r_json ORDER BY id"),
    ("e_json_arrayagg", "SELECT JSON_ARRAYAGG(v) AS v FROM r_int"),
    ("e_time_diff", "SELECT TIMEDIFF('2025-01-01 00:00:00', '2025-01-05 01:02:03.5') AS v"),
    ("e_date_add", "SELECT DATE_ADD('2025-01-31', INTERVAL 1 MONTH) AS v"),
    ("e_from_unixtime", "SELECT FROM_UNIXTIME(1738331130) AS v"),
    ("e_cast_binary", "SELECT CAST('bytes' AS BINARY) AS v"),
    ("e_cast_char", "SELECT CAST(42 AS CHAR) AS v"),
    ("e_convert_latin1", "SELECT CONVERT('é' USING latin1) AS v"),
    ("e_uuid_text", "SELECT CAST(v AS CHAR) AS v FROM r_uuid ORDER BY id"),
    ("e_if_mixed", "SELECT IF(id = 1, 1, 'one') AS v FROM r_int ORDER BY id"),
    ("e_case_decimal", "SELECT CASE WHEN id = 1 THEN 1.5 ELSE 2 END AS v FROM r_int ORDER BY id"),
    ("e_coalesce_date", "SELECT COALESCE(v, '1999-01-01') AS v FROM r_date ORDER BY id"),
    ("e_bool_expr", "SELECT v IS TRUE AS v FROM r_boolean ORDER BY id"),
    ("e_year_plus", "SELECT v + 1 AS v FROM r_year ORDER BY id"),
    ("e_time_neg", "SELECT -v AS v FROM r_time ORDER BY id"),
    ("e_sec_to_time", "SELECT SEC_TO_TIME(3600.5) AS v"),
    ("e_st_astext_geometry", "SELECT ST_AsText(v) AS v FROM r_geometry ORDER BY id"),
    ("e_st_astext_point", "SELECT ST_AsText(v) AS v FROM r_point ORDER BY id"),
    ("e_st_asgeojson_point", "SELECT ST_AsGeoJSON(v) AS v FROM r_point ORDER BY id"),
    ("e_st_x", "SELECT ST_X(v) AS v FROM r_point ORDER BY id"),
]
EXPRESSIONS += [(f"e_st_astext_{n}", f"SELECT ST_AsText(v) AS v FROM r_{n} ORDER BY id")
                for n, _, _ in SPATIAL if n not in ("geometry", "point")]

PRELUDE = """-- Generated by gen_mysql.py: the MySQL/MariaDB type matrix. Do not edit; edit the generator.
-- TIMESTAMP literals are read in the session's time zone: UTC, as the toolbox's sessions use.
SET time_zone = '+00:00';
"""

# Parameter cases: (declared type, items, column type, table, argument, forms).
# forms: "compare" (count of rows of the table equal to the argument), "insert" (into a table of
# its own, then read back), "cast" (`CAST(? AS T)`, T the column type or the given cast target),
# "plain" (`SELECT ? AS v`).
PARAMS = [
    # integer: bound as a BIGINT.
    ("integer", None, "TINYINT", "tinyint", 127, ["compare", "insert"]),
    ("integer", None, "TINYINT UNSIGNED", "tinyint_u", 255, ["compare", "insert"]),
    ("integer", None, "SMALLINT", "smallint", -32768, ["compare", "insert"]),
    ("integer", None, "MEDIUMINT UNSIGNED", "mediumint_u", 16777215, ["compare", "insert"]),
    ("integer", None, "INT", "int", 2147483647, ["compare", "insert", "cast:INTEGER"]),
    ("integer", None, "INT UNSIGNED", "int_u", 4294967295, ["compare", "insert", "cast:UNSIGNED"]),
    ("integer", None, "BIGINT", "bigint", 9223372036854775807, ["compare", "insert", "cast:SIGNED", "plain"]),
    ("integer", None, "BIGINT", "bigint", -9223372036854775808, ["compare"]),
    ("integer", None, "BIGINT UNSIGNED", "bigint_u", 0, ["compare", "insert"]),
    ("integer", None, "DECIMAL(10,2)", "decimal", 49, ["compare", "insert", "cast"]),
    ("integer", None, "FLOAT", "float", 1234567, ["compare", "insert"]),
    ("integer", None, "DOUBLE", "double", 123456789012345678, ["compare", "insert", "cast"]),
    ("integer", None, "BOOLEAN", "boolean", 2, ["compare", "insert"]),
    ("integer", None, "BIT(10)", "bit10", 5, ["compare", "insert"]),
    ("integer", None, "YEAR", "year", 2025, ["compare", "insert"]),
    ("integer", None, "ENUM", "enum", 3, ["compare", "insert"]),
    ("integer", None, "VARCHAR(50)", "varchar", 42, ["insert", "cast:CHAR"]),
    ("integer", None, "DATE", "date", 20250131, ["compare", "insert", "cast"]),
    ("integer", None, "TIME", "time", 134530, ["compare", "insert", "cast"]),
    # float: bound as a DOUBLE.
    ("float", None, "FLOAT", "float", 1.5, ["insert", "cast"]),
    ("float", None, "FLOAT", "float", 0.1, ["compare"]),
    ("float", None, "DOUBLE", "double", 0.1, ["compare", "insert", "cast", "plain"]),
    ("float", None, "DOUBLE", "double", 1e20, ["compare"]),
    ("float", None, "DECIMAL(10,2)", "decimal", -123.45, ["compare", "insert", "cast"]),
    ("float", None, "INT", "int", 2.5, ["insert", "cast:SIGNED"]),
    ("float", None, "VARCHAR(50)", "varchar", 0.1, ["insert", "cast:CHAR"]),
    # boolean: bound as a TINYINT.
    ("boolean", None, "BOOLEAN", "boolean", True, ["compare", "insert", "cast:SIGNED", "plain"]),
    ("boolean", None, "TINYINT(1)", "tinyint1", False, ["compare", "insert"]),
    ("boolean", None, "BIT(1)", "bit1", True, ["compare", "insert"]),
    ("boolean", None, "VARCHAR(50)", "varchar", True, ["insert"]),
    # string: bound as text in the connection's character set, converted by the server.
    ("string", None, "VARCHAR(50)", "varchar", "héllo \"q\" \\ tab\tend", ["compare", "insert", "cast:CHAR", "plain"]),
    ("string", None, "CHAR(5)", "char", "ab", ["compare", "insert"]),
    ("string", None, "TEXT", "text", "line1\nline2", ["insert"]),
    ("string", None, "VARCHAR(20) COLLATE utf8mb4_bin", "varchar_bin", "MiXeD é", ["compare", "insert"]),
    ("string", None, "VARCHAR(20) CHARACTER SET latin1", "varchar_latin1", "café", ["compare", "insert"]),
    ("string", None, "ENUM", "enum", "happy", ["compare", "insert"]),
    ("string", None, "SET", "set", "a,c", ["compare", "insert"]),
    ("string", None, "DATE", "date", "2025-01-31", ["compare", "insert", "cast"]),
    ("string", None, "DATE", "date", "0000-00-00", ["compare"]),
    ("string", None, "TIME", "time", "-838:59:59", ["compare", "insert", "cast"]),
    ("string", None, "TIME(6)", "time6", "100:00:00.000001", ["compare", "insert", "cast"]),
    ("string", None, "DATETIME(6)", "datetime6", "2025-01-31 13:45:30.123456", ["compare", "insert", "cast"]),
    ("string", None, "DATETIME(6)", "datetime6", "2025-01-31T13:45:30.5", ["compare", "insert"]),
    ("string", None, "TIMESTAMP", "timestamp", "2025-01-31 13:45:30", ["compare", "insert"]),
    ("string", None, "YEAR", "year", "2025", ["compare", "insert"]),
    ("string", None, "DECIMAL(10,2)", "decimal", "49.00", ["compare", "insert", "cast"]),
    ("string", None, "INT", "int", "2147483647", ["compare", "insert", "cast:SIGNED"]),
    ("string", None, "BIGINT UNSIGNED", "bigint_u", "18446744073709551615", ["compare", "insert", "cast:UNSIGNED"]),
    ("string", None, "DOUBLE", "double", "1e20", ["compare", "insert", "cast"]),
    ("string", None, "JSON", "json", "{\"a\": [1, 2.5, null], \"b\": \"x\"}", ["compare", "insert"]),
    ("string", None, "UUID", "uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", ["compare", "insert", "cast"]),
    ("string", None, "INET4", "inet4", "10.1.2.3", ["compare", "insert", "cast"]),
    ("string", None, "INET6", "inet6", "2001:db8::1", ["compare", "insert", "cast"]),
    ("string", None, "BINARY(4)", "binary", "ab", ["compare", "insert"]),
    ("string", None, "VARBINARY(10)", "varbinary", "text", ["compare", "insert", "cast:BINARY"]),
    ("string", None, "BLOB", "blob", "plain", ["compare", "insert"]),
    ("string", None, "BIT(10)", "bit10", "5", ["insert"]),
    ("string", None, "BOOLEAN", "boolean", "1", ["compare", "insert"]),
    # map: JSON text.
    ("map", None, "JSON", "json", {"b": True, "n": 1.5, "s": "é"}, ["insert", "plain"]),
    ("map", None, "JSON", "json", {"a": [1, 2.5, None], "b": "x"}, ["compare"]),
    # arrays: JSON text, read with JSON_TABLE (or stored as JSON).
    ("array", "integer", "INT", "int", [2147483647, 5], ["compare", "insert", "table"]),
    ("array", "integer", "BIGINT UNSIGNED", "bigint_u", [0, 7], ["compare", "table"]),
    ("array", "float", "DOUBLE", "double", [0.1, 1e20], ["compare", "insert", "table"]),
    ("array", "float", "DECIMAL(10,2)", "decimal", [-123.45, 0.5], ["compare", "insert", "table"]),
    ("array", "boolean", "BOOLEAN", "boolean", [True, False], ["compare", "insert", "table"]),
    ("array", "string", "VARCHAR(50)", "varchar", ["a", "héllo \"q\" \\ tab\tend", ""], ["compare", "insert", "table"]),
    ("array", "string", "DATE", "date", ["2025-01-31", "9999-12-31"], ["compare", "insert", "table"]),
    ("array", "string", "ENUM('sad','ok','happy')", "enum", ["happy", "ok"], ["compare", "insert", "table"]),
    ("array", "map", "JSON", "json", [{"b": True}, {"c": [1]}], ["insert", "table"]),
    ("array", "string", "JSON", "json", ["a", "b"], ["plain"]),
]


def quoted(text):
    """A MySQL string literal: the backslash and the quote escaped (the default sql_mode)."""
    escaped = text.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0")
    return "'" + escaped.replace("\n", "\\n").replace("\t", "\\t") + "'"



def literal(value, declared):
    """The argument written into the statement as the client would be given it: integers as
    they are, floats as DOUBLE literals (an exponent: the toolbox binds a DOUBLE, and `0.1`
    alone would be an exact DECIMAL), booleans as TRUE/FALSE, strings, arrays and maps quoted."""
    if declared == "integer":
        return str(value)
    if declared == "float":
        text = repr(value)
        return text if "e" in text else text + "e0"
    if declared == "boolean":
        return "TRUE" if value else "FALSE"
    if declared == "string":
        return quoted(value)
    return quoted(json_text(value))



def main():
    sql = [PRELUDE]
    tools = []
    cases = []
    column_types = {}

    def table(name, column_type, values):
        rows = ", ".join(f"({i + 1}, {v})" for i, v in enumerate(values))
        sql.append(f"CREATE TABLE r_{name} (id INT PRIMARY KEY, v {column_type});")
        sql.append(f"INSERT INTO r_{name} VALUES {rows}, ({len(values) + 1}, NULL);")
        sql.append(f"CREATE TABLE w_{name} (id INT AUTO_INCREMENT PRIMARY KEY, v {column_type});")
        column_types[name] = column_type

    for name, column_type, values in RESULTS + SPATIAL:
        table(name, column_type, values)

    def tool(name, description, statement, parameters, arguments, kind):
        tools.append({"name": name, "description": description, "statement": statement, "parameters": parameters})
        client = statement
        if parameters:
            declared = parameters[0]["type"]
            client = statement.replace("?", literal(arguments["value"], declared))
        if kind == "write":
            # The client prints nothing for a write: it is asked for the count of rows written.
            client += ";\nSELECT ROW_COUNT() AS `rowsAffected`"
        cases.append({"tool": name, "arguments": arguments, "statement": statement, "kind": kind, "mariadb": client})

    for name, _, _ in RESULTS:
        tool(f"r_{name}", f"Reads every value of r_{name}.", f"SELECT v FROM r_{name} ORDER BY id", [], {}, "result")
    for name, statement in EXPRESSIONS:
        tool(name, f"The expression of {name}.", statement, [], {}, "result")

    for n, (declared, items, column_type, table_name, argument, forms) in enumerate(PARAMS):
        target = column_types[table_name] if column_type in ("ENUM", "SET") else column_type
        short = re.sub("[^a-z0-9]+", "_", column_type.lower()).strip("_")
        parameter = {"name": "value", "type": declared, "description": f"A value for {column_type}."}
        if items:
            parameter["items"] = {"name": "item", "type": items, "description": "An element."}
        for form in forms:
            form, _, cast_to = form.partition(":")
            cast_to = cast_to or target.replace(" NULL", "")
            suffix = {"cast": "cast_" + re.sub("[^a-z0-9]+", "_", cast_to.lower()).strip("_")}.get(form, form)
            name = f"p{n:02d}_{declared}_{short}_{suffix}"
            description = f"{declared} as {column_type}, {form}."
            # The array's elements as rows, in order, typed as the column.
            element = target if not target.startswith(("ENUM", "SET")) else "VARCHAR(50)"
            rows = f"JSON_TABLE(?, '$[*]' COLUMNS (o FOR ORDINALITY, x {element} PATH '$')) AS j"
            if form == "insert":
                # A table of the case's own, then the rows it wrote read back (MariaDB does not
                # describe the columns of `INSERT ... RETURNING`, so the build refuses it).
                written = f"w_p{n:02d}"
                sql.append(f"CREATE TABLE {written} (id INT AUTO_INCREMENT PRIMARY KEY, v {column_types[table_name]});")
                if declared == "array":
                    statement = f"INSERT INTO {written} (v) SELECT x FROM {rows} ORDER BY o"
                    count = len(argument)
                else:
                    statement = f"INSERT INTO {written} (v) VALUES (?)"
                    count = 1
                tool(name, description, statement, [parameter], {"value": argument}, "write")
                read = (f"SELECT v FROM (SELECT id, v FROM {written} ORDER BY id DESC LIMIT {count}) AS last "
                        "ORDER BY id")
                tool(f"{name}_read", f"Reads back what {name} wrote.", read, [], {}, "param")
                continue
            if declared == "array" and form in ("compare", "table"):
                if form == "compare":
                    statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v IN (SELECT x FROM {rows})"
                else:
                    statement = f"SELECT x AS v FROM {rows} ORDER BY o"
            elif form == "compare":
                if table_name == "json":
                    statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE JSON_EQUALS(v, ?)"
                else:
                    statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v = ?"
            elif form == "cast":
                statement = f"SELECT CAST(? AS {cast_to}) AS v"
            else:
                statement = "SELECT ? AS v"
            tool(name, description, statement, [parameter], {"value": argument}, "param")

    # Client SQL: every result table again through the text protocol (several statements allowed)
    # and the binary one (read-only: one prepared statement).
    extra_tools = """---
kind: tool
name: execute_sql
type: mysql-execute-sql
source: matrix
description: Runs client SQL (the text protocol).
---
kind: tool
name: query_sql
type: mysql-execute-sql
source: matrix
description: Runs one read-only statement (the binary protocol).
readOnly: true
"""
    with open(os.path.join(HERE, "mysql.sql"), "w") as f:
        f.write("\n".join(sql) + "\n")
    header = (
        "# Generated by gen_mysql.py: the MySQL/MariaDB type matrix. Do not edit; edit the generator.\n"
        "kind: source\nname: matrix\ntype: mysql\nhost: ${MYSQL_HOST:127.0.0.1}\nport: ${MYSQL_PORT:3306}\n"
        "database: ${MYSQL_DATABASE:toolbox_matrix}\nuser: ${MYSQL_USER:root}\n"
        "password: ${MYSQL_PASSWORD:}\nqueryParams: {ssl-mode: disabled}\nmaxConnections: 4\n"
    )
    write_toolbox("mysql", header, tools, extra_tools)
    write_cases("mysql", cases)


if __name__ == "__main__":
    main()
