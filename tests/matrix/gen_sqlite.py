#!/usr/bin/env python3
"""Generates the SQLite type matrix: sqlite.sql (the schema, which the build describes against),
sqlite-seed.sql (the rows, written when the server creates the database), sqlite.yaml (one tool
per case, compiled by the toolbox! macro) and sqlite.cases.json (what the test calls each tool
with). Run it after editing the tables below; commit its output.

SQLite stores any storage class in any column of an ordinary table (the declared type only gives
the column an affinity, which converts some values), so every table below holds a value of each
class (INTEGER, REAL, TEXT, BLOB, NULL) and the text and reals an affinity converts. Two families
of cases:
- results: a table `r_<name>` per declared type (the five affinities, and declared types such as
  BOOLEAN, DATE, DATETIME, VARCHAR(20), DECIMAL(10,2)), STRICT tables, whose
  columns hold only their type, and expressions without a declared type, each read back;
- parameters: every declared parameter type against the column types it is bound to, as a
  placeholder compared (`WHERE v = ?`), inserted (into a table of the case's own, then read back
  by a second tool), cast (`CAST(? AS T)`) and selected as it is (`SELECT ? AS v`); arrays and maps
  as JSON text (`json_each(?)`, `json_extract(?, ...)`).

The test (tests/sqlite.rs) compares each answer with what the `sqlite3` shell prints for the same
statement with the argument written as a literal in place of the placeholder.
"""
import os
import re

from matrix_files import HERE, json_text, write_cases, write_toolbox, yaml_str

# A value of every storage class, and text and reals that affinities convert.
EVERY_CLASS = [
    "1", "-9223372036854775808", "9223372036854775807", "1.5", "0.1", "2.0", "1e308 * 10", "-1e308 * 10",
    "123456789012345678.0", "'abc'", "'123'", "'1.5'", "' 12 '", "''", "'héllo \"q\" \\ tab\t''s'",
    "'line1\nline2'", "x'00ff'", "x''", "CAST(x'ff41' AS TEXT)", "'2025-01-31'", "'true'",
]

# (table name, declared type, values); a NULL row is added to each. "" declares no type at all.
RESULTS = [
    ("untyped", "", EVERY_CLASS),
    ("integer", "INTEGER", EVERY_CLASS),
    ("int", "INT", EVERY_CLASS),
    ("bigint", "BIGINT", EVERY_CLASS),
    ("real", "REAL", EVERY_CLASS),
    ("double", "DOUBLE", EVERY_CLASS),
    ("float", "FLOAT", EVERY_CLASS),
    ("text", "TEXT", EVERY_CLASS),
    ("varchar", "VARCHAR(20)", EVERY_CLASS),
    ("clob", "CLOB", EVERY_CLASS),
    ("blob", "BLOB", EVERY_CLASS),
    ("numeric", "NUMERIC", EVERY_CLASS),
    ("decimal", "DECIMAL(10,2)", EVERY_CLASS),
    ("boolean", "BOOLEAN", EVERY_CLASS + ["0", "2", "-1"]),
    ("date", "DATE", EVERY_CLASS),
    ("datetime", "DATETIME", EVERY_CLASS + ["'2025-01-31 13:45:30'"]),
    ("time", "TIME", EVERY_CLASS),
    ("timestamp", "TIMESTAMP", EVERY_CLASS),
    ("json", "JSON", EVERY_CLASS + ["'{\"a\": [1, 2.5]}'"]),
    ("any_name", "STRING", EVERY_CLASS),
]

# STRICT tables: each column holds its type only (INTEGER columns integers, and so on).
STRICT = [
    ("strict_integer", "INTEGER", ["1", "-9223372036854775808", "'42'"]),
    ("strict_real", "REAL", ["1.5", "2", "1e308 * 10"]),
    ("strict_text", "TEXT", ["'abc'", "12"]),
    ("strict_blob", "BLOB", ["x'00ff'"]),
    ("strict_any", "ANY", ["1", "1.5", "'abc'", "x'00'"]),
]

# Expressions: (name, statement).
EXPRESSIONS = [
    ("e_integer", "SELECT 1 AS v"),
    ("e_real", "SELECT 1.5 AS v"),
    ("e_text", "SELECT 'a' AS v"),
    ("e_blob", "SELECT x'00ff' AS v"),
    ("e_null", "SELECT NULL AS v"),
    ("e_arith", "SELECT 1 + 1.5 AS v"),
    ("e_division", "SELECT 7 / 2 AS v"),
    ("e_count", "SELECT count(*) AS v FROM r_integer"),
    ("e_sum", "SELECT sum(v) AS v FROM r_strict_integer WHERE v > 0"),
    ("e_total", "SELECT total(v) AS v FROM r_strict_real"),
    ("e_max_mixed", "SELECT max(v) AS v FROM r_blob"),
    ("e_typeof", "SELECT typeof(v) AS v FROM r_blob ORDER BY id"),
    ("e_case_mixed", "SELECT CASE WHEN id = 1 THEN 1 WHEN id = 2 THEN 'one' ELSE x'01' END AS v FROM r_integer ORDER BY id"),
    # Without the blob holding a NUL byte: the shell prints text only up to a NUL.
    ("e_concat", "SELECT v || '' AS v FROM r_integer WHERE typeof(v) <> 'blob' ORDER BY id"),
    ("e_plus_zero", "SELECT v + 0 AS v FROM r_text ORDER BY id"),
    ("e_cast_integer", "SELECT CAST(v AS INTEGER) AS v FROM r_blob ORDER BY id"),
    ("e_cast_real", "SELECT CAST(v AS REAL) AS v FROM r_blob ORDER BY id"),
    ("e_cast_text", "SELECT CAST(v AS TEXT) AS v FROM r_blob WHERE typeof(v) <> 'blob' ORDER BY id"),
    ("e_cast_blob", "SELECT CAST(v AS BLOB) AS v FROM r_blob ORDER BY id"),
    ("e_cast_numeric", "SELECT CAST(v AS NUMERIC) AS v FROM r_blob ORDER BY id"),
    ("e_json", "SELECT json('{\"a\": [1, 2.5]}') AS v"),
    ("e_json_array", "SELECT json_array(1, 'x', NULL) AS v"),
    ("e_json_extract", "SELECT json_extract('{\"a\": [1, 2.5]}', '$.a[1]') AS v"),
    ("e_date", "SELECT date('2025-01-31', '+1 month') AS v"),
    ("e_comparison", "SELECT v = 1 AS v FROM r_integer ORDER BY id"),
    ("e_hex", "SELECT hex(v) AS v FROM r_blob ORDER BY id"),
    ("e_rowid", "SELECT id AS v FROM r_integer ORDER BY id"),
    ("e_subquery", "SELECT (SELECT max(id) FROM r_integer) AS v"),
    ("e_coalesce", "SELECT coalesce(v, 'none') AS v FROM r_boolean ORDER BY id"),
]

PRELUDE = "-- Generated by gen_sqlite.py: the SQLite type matrix. Do not edit; edit the generator.\n"

# Parameter cases: (declared type, items, column type, table, argument, forms).
PARAMS = [
    ("integer", None, "INTEGER", "integer", 9223372036854775807, ["compare", "insert", "cast", "plain"]),
    ("integer", None, "INTEGER", "integer", -9223372036854775808, ["compare"]),
    ("integer", None, "REAL", "real", 2, ["compare", "insert", "cast"]),
    ("integer", None, "TEXT", "text", 123, ["compare", "insert", "cast"]),
    ("integer", None, "NUMERIC", "numeric", 123, ["compare", "insert", "cast"]),
    ("integer", None, "BOOLEAN", "boolean", 2, ["compare", "insert"]),
    ("integer", None, "BLOB", "blob", 1, ["compare", "insert", "cast"]),
    ("float", None, "REAL", "real", 0.1, ["compare", "insert", "cast", "plain"]),
    ("float", None, "REAL", "real", 2.0, ["compare"]),
    ("float", None, "INTEGER", "integer", 2.0, ["insert", "cast"]),
    ("float", None, "INTEGER", "integer", 1.5, ["compare", "insert"]),
    ("float", None, "TEXT", "text", 1.5, ["compare", "insert", "cast"]),
    ("float", None, "DECIMAL(10,2)", "decimal", 123456789012345678.0, ["compare", "insert"]),
    ("float", None, "BOOLEAN", "boolean", 1.0, ["insert"]),
    ("boolean", None, "BOOLEAN", "boolean", True, ["compare", "insert", "plain"]),
    ("boolean", None, "INTEGER", "integer", False, ["insert", "cast"]),
    ("boolean", None, "TEXT", "text", True, ["insert"]),
    ("string", None, "TEXT", "text", "héllo \"q\" \\ tab\t's", ["compare", "insert", "cast", "plain"]),
    ("string", None, "VARCHAR(20)", "varchar", "abc", ["compare", "insert"]),
    ("string", None, "INTEGER", "integer", "123", ["compare", "insert", "cast"]),
    ("string", None, "INTEGER", "integer", "abc", ["compare", "insert"]),
    ("string", None, "REAL", "real", "1.5", ["compare", "insert", "cast"]),
    ("string", None, "NUMERIC", "numeric", " 12 ", ["insert", "cast"]),
    ("string", None, "DECIMAL(10,2)", "decimal", "1.50", ["insert", "cast"]),
    ("string", None, "BOOLEAN", "boolean", "true", ["compare", "insert"]),
    ("string", None, "DATE", "date", "2025-01-31", ["compare", "insert"]),
    ("string", None, "DATETIME", "datetime", "2025-01-31 13:45:30", ["compare", "insert"]),
    ("string", None, "BLOB", "blob", "abc", ["compare", "insert", "cast"]),
    ("string", None, "JSON", "json", "{\"a\": [1, 2.5]}", ["compare", "insert"]),
    ("map", None, "JSON", "json", {"b": True, "n": 1.5, "s": "é"}, ["insert", "plain", "extract"]),
    ("array", "integer", "INTEGER", "integer", [9223372036854775807, 1], ["compare", "insert", "table"]),
    ("array", "float", "REAL", "real", [0.1, 1.5], ["compare", "insert", "table"]),
    ("array", "boolean", "BOOLEAN", "boolean", [True, False], ["compare", "insert", "table"]),
    ("array", "string", "TEXT", "text", ["abc", "héllo \"q\" \\ tab\t's", ""], ["compare", "insert", "table"]),
    ("array", "map", "JSON", "json", [{"b": True}, {"c": [1]}], ["insert", "table"]),
    ("array", "string", "JSON", "json", ["a", "b"], ["plain"]),
]


def quoted(text):
    """An SQLite string literal: only the quote is doubled."""
    return "'" + text.replace("'", "''") + "'"



def literal(value, declared):
    """The argument written into the statement: integers and booleans (bound as 1 and 0) as
    integers, floats as REAL literals (Python's repr always has a point or an exponent), strings,
    arrays and maps quoted."""
    if declared == "integer":
        return str(value)
    if declared == "float":
        return repr(value)
    if declared == "boolean":
        return "1" if value else "0"
    if declared == "string":
        return quoted(value)
    return quoted(json_text(value))



def one_line(sql):
    """A statement on one line of the shell's script: newlines in literals as char(10)."""
    return sql.replace("'line1\nline2'", "'line1' || char(10) || 'line2'")


def main():
    schema = [PRELUDE]
    seed = ["-- Generated by gen_sqlite.py: the rows of the SQLite type matrix. Do not edit; edit the generator."]
    tools = []
    cases = []
    column_types = {}

    def table(name, column_type, values, strict=False):
        rows = ", ".join(f"({i + 1}, {v})" for i, v in enumerate(values))
        suffix = " STRICT" if strict else ""
        schema.append(f"CREATE TABLE r_{name} (id INTEGER PRIMARY KEY, v {column_type}){suffix};")
        seed.append(f"INSERT INTO r_{name} VALUES {rows}, ({len(values) + 1}, NULL);")
        column_types[name] = (column_type, strict)

    for name, column_type, values in RESULTS:
        table(name, column_type, values)
    for name, column_type, values in STRICT:
        table(name, column_type, values, strict=True)

    def tool(name, description, statement, parameters, arguments, kind):
        tools.append({"name": name, "description": description, "statement": statement, "parameters": parameters})
        client = statement
        if parameters:
            client = statement.replace("?", literal(arguments["value"], parameters[0]["type"]))
        if kind == "write":
            # The shell prints nothing for a write: it is asked for the count of rows written.
            client += "; SELECT changes() AS \"rowsAffected\""
        cases.append({"tool": name, "arguments": arguments, "statement": statement, "kind": kind,
                      "sqlite3": one_line(client)})

    for name in list(n for n, _, _ in RESULTS) + list(n for n, _, _ in STRICT):
        tool(f"r_{name}", f"Reads every value of r_{name}.", f"SELECT v FROM r_{name} ORDER BY id", [], {}, "result")
    for name, statement in EXPRESSIONS:
        tool(name, f"The expression of {name}.", statement, [], {}, "result")

    for n, (declared, items, column_type, table_name, argument, forms) in enumerate(PARAMS):
        short = re.sub("[^a-z0-9]+", "_", column_type.lower()).strip("_") or "untyped"
        parameter = {"name": "value", "type": declared, "description": f"A value for {column_type or 'an untyped column'}."}
        if items:
            parameter["items"] = {"name": "item", "type": items, "description": "An element."}
        for form in forms:
            name = f"p{n:02d}_{declared}_{short}_{form}"
            description = f"{declared} as {column_type or 'untyped'}, {form}."
            if form == "insert":
                written = f"w_p{n:02d}"
                schema.append(f"CREATE TABLE {written} (id INTEGER PRIMARY KEY, v {column_type});")
                if declared == "array":
                    statement = f"INSERT INTO {written} (v) SELECT value FROM json_each(?) ORDER BY key"
                    count = len(argument)
                else:
                    statement = f"INSERT INTO {written} (v) VALUES (?)"
                    count = 1
                tool(name, description, statement, [parameter], {"value": argument}, "write")
                read = f"SELECT v FROM (SELECT id, v FROM {written} ORDER BY id DESC LIMIT {count}) ORDER BY id"
                tool(f"{name}_read", f"Reads back what {name} wrote.", read, [], {}, "param")
                continue
            if declared == "array" and form == "compare":
                statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v IN (SELECT value FROM json_each(?))"
            elif declared == "array" and form == "table":
                # A bare column of a table-valued function.
                statement = "SELECT value AS v FROM json_each(?) ORDER BY key"
            elif form == "compare":
                statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v = ?"
            elif form == "cast":
                statement = f"SELECT CAST(? AS {column_type}) AS v"
            elif form == "extract":
                statement = "SELECT json_extract(?, '$.n') AS v"
            else:
                statement = "SELECT ? AS v"
            tool(name, description, statement, [parameter], {"value": argument}, "param")

    extra_tools = """---
kind: tool
name: execute_sql
type: sqlite-execute-sql
source: matrix
description: Runs client SQL.
"""
    with open(os.path.join(HERE, "sqlite.sql"), "w") as f:
        f.write("\n".join(schema) + "\n")
    with open(os.path.join(HERE, "sqlite-seed.sql"), "w") as f:
        f.write("\n".join(seed) + "\n")
    header = (
        "# Generated by gen_sqlite.py: the SQLite type matrix. Do not edit; edit the generator.\n"
        "# The build describes against sqlite.sql (no database file exists there); the test sets\n"
        "# SQLITE_DATABASE to a file in a temporary directory, created from sqlite.sql and the seed.\n"
        "kind: source\nname: matrix\ntype: sqlite\ndatabase: ${SQLITE_DATABASE:sqlite-matrix-absent.db}\n"
        "schemaFile: sqlite.sql\nseedFile: sqlite-seed.sql\n"
    )
    write_toolbox("sqlite", header, tools, extra_tools)
    write_cases("sqlite", cases)


if __name__ == "__main__":
    main()
