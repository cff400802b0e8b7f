#!/usr/bin/env python3
"""Generates the PostgreSQL type matrix: postgres.sql (the schema and rows), postgres.yaml (one tool
per case, compiled by the toolbox! macro) and postgres.cases.json (what the test calls each tool
with). Run it after editing the tables below; commit its output.

Two families of cases:
- results: every built-in type a user can make a column of (and arrays of them, 2-D arrays,
  domains, enums, composites, ranges, citext), each in a table `r_<name>` of a few values and a
  NULL, read back by `SELECT v FROM r_<name> ORDER BY id`;
- parameters: every declared parameter type against every placeholder type the build accepts for
  it, as a placeholder compared (`WHERE v = $1`), inserted (`INSERT ... VALUES ($1) RETURNING v`)
  and cast (`SELECT $1::T AS v`, `CAST($1 AS T)`).

The test (tests/postgres.rs) compares each answer with what psql prints for the same statement
with the argument written as a literal in place of the placeholder.
"""
import json
import os
import re

from matrix_files import HERE, json_text, write_cases, write_toolbox, yaml_str

# (table name, column type, [SQL literals of the values]); a NULL row is added to each.
RESULTS = [
    ("bool", "bool", ["true", "false"]),
    ("bytea", "bytea", [r"'\x00ff10'", "''"]),
    ("char1", '"char"', ["'a'", r"E'\\303'"]),
    ("name", "name", ["'a_name'"]),
    ("int2", "int2", ["-32768", "32767"]),
    ("int4", "int4", ["2147483647", "-1"]),
    ("int8", "int8", ["9007199254740993", "-9223372036854775808"]),
    ("int2vector", "int2vector", ["'1 2'", "''"]),
    ("text", "text", [r"""'héllo "q" \ tab	end'""", "''", "'line1\nline2'"]),
    ("oid", "oid", ["4294967295", "0"]),
    ("tid", "tid", ["'(0,1)'"]),
    ("xid", "xid", ["'123'"]),
    ("cid", "cid", ["'5'"]),
    ("oidvector", "oidvector", ["'1 2'"]),
    ("json", "json", ["""'{"a": [1, 2.5, null], "b": "x"}'""", "'[]'", "'\"s\"'"]),
    ("xml", "xml", ["'<a>x &amp; y</a>'"]),
    ("point", "point", ["'(1.5,-2)'", "'(1e+20,0.1)'"]),
    ("lseg", "lseg", ["'[(1,2),(3,4)]'"]),
    ("path", "path", ["'((1,2),(3,4))'", "'[(1,2),(3,4)]'"]),
    ("box", "box", ["'(3,4),(1,2)'"]),
    ("polygon", "polygon", ["'((1,2),(3,4),(5,1))'"]),
    ("line", "line", ["'{1,-1,0}'"]),
    ("cidr", "cidr", ["'10.0.0.0/8'", "'2001:db8::/32'"]),
    ("float4", "float4", ["1.1", "'NaN'", "'-Infinity'", "1234567", "1e-10"]),
    ("float8", "float8", ["0.1", "1e20", "'Infinity'", "'-0'", "123456789012345678"]),
    ("circle", "circle", ["'<(1,2),3>'"]),
    ("macaddr8", "macaddr8", ["'08:00:2b:01:02:03:04:05'"]),
    ("macaddr", "macaddr", ["'08:00:2b:01:02:03'"]),
    ("inet", "inet", ["'10.1.2.3'", "'::ffff:1.2.3.4'", "'10.0.0.1/8'", "'::1'", "'1:0:0:1:0:0:0:1'"]),
    ("bpchar", "char(3)", ["'ab'"]),
    ("varchar", "varchar(20)", ["'varchar'"]),
    ("date", "date", ["'2025-01-31'", "'infinity'", "'0044-03-15 BC'"]),
    ("time", "time", ["'13:45:30.5'", "'00:00:00'", "'23:59:59.999999'"]),
    ("timestamp", "timestamp", ["'2025-01-31 13:45:30.123456'", "'-infinity'", "'2000-01-01 00:00:00'"]),
    ("timestamptz", "timestamptz", ["'2025-01-31 13:45:30+02'", "'infinity'", "'1999-12-31 23:59:59.5+00'"]),
    ("interval", "interval", ["'1 year 2 mons 3 days 04:05:06.5'", "'-1 day'", "'0'", "'-04:05:06'"]),
    ("timetz", "timetz", ["'13:45:30.5+02'", "'00:00:00-05:30'"]),
    ("bit", "bit(3)", ["B'101'"]),
    ("varbit", "varbit", ["B'1'", "B''", "B'1010101011'"]),
    ("numeric_scaled", "numeric(10,2)", ["49.00", "-123.45", "0"]),
    ("numeric", "numeric", ["'NaN'", "123456789012345678901234567890.123", "0.000001", "'Infinity'"]),
    ("refcursor", "refcursor", ["'cursor_a'"]),
    ("uuid", "uuid", ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"]),
    ("txid_snapshot", "txid_snapshot", ["'10:20:10,14,15'", "'10:10:'"]),
    ("pg_snapshot", "pg_snapshot", ["'10:20:10,14,15'"]),
    ("pg_lsn", "pg_lsn", ["'16/B374D848'", "'0/0'"]),
    ("tsvector", "tsvector", ["'a:1A fat:2,4 cat'", "$$'it''s' 'back\\\\slash':3B$$"]),
    ("jsonb", "jsonb", ["""'{"b": true, "n": 1.50, "s": "\\u00e9"}'""", "'[1, \"a\"]'"]),
    ("jsonpath", "jsonpath", ["'$.a[*] ? (@ > 1)'"]),
    ("xid8", "xid8", ["'123'"]),
    ("int4range", "int4range", ["'[1,10)'", "'empty'", "'(,5]'"]),
    ("numrange", "numrange", ["'[1.5,2.25)'"]),
    ("tsrange", "tsrange", ["""'["2020-01-01 00:00:00","2021-01-01 00:00:00.5")'"""]),
    ("tstzrange", "tstzrange", ["'[2020-01-01 00:00:00+00,)'"]),
    ("daterange", "daterange", ["'[2020-01-01,2020-02-01)'", "'[2020-01-01,infinity)'"]),
    ("int8range", "int8range", ["'[1,3)'"]),
    ("floatrange", "floatrange", ["'[1.5,2.5]'"]),
    ("mood", "mood", ["'happy'", "'sad'"]),
    ("posint", "posint", ["5"]),
    ("shortname", "shortname", ["'abc'"]),
    ("citext", "citext", ["'MiXeD'"]),
    ("composite", "triple", ["ROW(1, 'a \"b\"', '2025-01-31')::triple", "ROW(NULL, NULL, NULL)::triple"]),
    ("nested", "wrapper", ["ROW(ROW(2, 'x', NULL)::triple, ARRAY[1, 2])::wrapper"]),
]

# Types whose arrays are tested too (`<name>_arr`): each array holds the type's first value and a NULL.
ARRAYS = [
    "bool", "bytea", "char1", "name", "int2", "int4", "int8", "text", "oid", "json", "xml", "point",
    "cidr", "float4", "float8", "macaddr", "inet", "bpchar", "varchar", "date", "time", "timestamp",
    "timestamptz", "interval", "timetz", "bit", "varbit", "numeric_scaled", "numeric", "uuid", "pg_lsn",
    "tsvector", "jsonb", "int4range", "daterange", "mood", "posint", "composite",
]

PRELUDE = """-- Generated by gen_postgres.py: the PostgreSQL type matrix. Do not edit; edit the generator.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN shortname AS varchar(8);
CREATE TYPE triple AS (x int4, y text, z date);
CREATE TYPE wrapper AS (inner_value triple, list int4[]);
CREATE TYPE floatrange AS RANGE (subtype = float8);
"""

# Parameter cases: (declared type, items, column type, table, argument, forms).
# forms: "compare" (count of rows of the table equal to the argument), "insert" (into a table of
# its own, RETURNING), "cast" (`$1::T`), "CAST" (`CAST($1 AS T)`).
# A placeholder whose type the build sends as is needs no cast in any form; one that needs the
# server to convert text (a string for a date) is written with the cast in compare and insert.
PARAMS = [
    # integer: sent as the placeholder's own width.
    ("integer", None, "int2", "int2", 32767, ["compare", "insert", "cast"]),
    ("integer", None, "int4", "int4", 2147483647, ["compare", "insert", "cast"]),
    ("integer", None, "int4", "int4", -1, ["compare"]),
    ("integer", None, "int8", "int8", 9007199254740993, ["compare", "insert", "cast"]),
    ("integer", None, "numeric", "numeric_scaled", 49, ["compare", "insert", "cast"]),
    ("integer", None, "float4", "float4", 1234567, ["compare", "insert", "cast"]),
    ("integer", None, "float8", "float8", 123456789012345678, ["compare", "insert"]),
    ("integer", None, "oid", "oid", 4294967295, ["compare", "insert"]),
    ("integer", None, "posint", "posint", 5, ["compare", "insert"]),
    # float: sent as float4, float8 or an exact numeric.
    ("float", None, "float4", "float4", 1234567.0, ["compare", "insert", "cast"]),
    ("float", None, "float8", "float8", 0.1, ["compare", "insert", "cast"]),
    ("float", None, "numeric", "numeric_scaled", -123.45, ["compare", "insert", "cast"]),
    ("float", None, "numeric", "numeric", 0.000001, ["compare", "CAST"]),
    # boolean
    ("boolean", None, "bool", "bool", True, ["compare", "insert", "cast"]),
    # string: text-like placeholders and enums take it as it is; others convert it with a cast.
    ("string", None, "text", "text", "héllo \"q\" \\ tab\tend", ["compare", "insert", "cast"]),
    ("string", None, "varchar", "varchar", "varchar", ["compare", "insert", "CAST"]),
    ("string", None, "char(3)", "bpchar", "ab", ["compare", "insert"]),
    ("string", None, "name", "name", "a_name", ["compare", "insert"]),
    ("string", None, "citext", "citext", "mixed", ["compare", "insert"]),
    ("string", None, "mood", "mood", "happy", ["compare", "insert", "cast"]),
    ("string", None, "shortname", "shortname", "abc", ["compare", "insert"]),
    ("string", None, "json", "json", "{\"k\": [1, 2]}", ["insert", "cast"]),
    ("string", None, "jsonb", "jsonb", "{\"b\": true, \"n\": 1.50, \"s\": \"é\"}", ["compare", "insert", "cast"]),
    ("string", None, "date", "date", "2025-01-31", ["compare", "insert", "cast", "CAST"]),
    ("string", None, "date", "date", "infinity", ["compare"]),
    ("string", None, "time", "time", "13:45:30.5", ["compare", "insert", "cast"]),
    ("string", None, "timetz", "timetz", "13:45:30.5+02", ["compare", "insert", "CAST"]),
    ("string", None, "timestamp", "timestamp", "2025-01-31 13:45:30.123456", ["compare", "insert", "cast"]),
    ("string", None, "timestamptz", "timestamptz", "2025-01-31T11:45:30Z", ["compare", "insert", "CAST"]),
    ("string", None, "interval", "interval", "P1Y2M3DT4H5M6.5S", ["compare", "insert", "cast"]),
    ("string", None, "uuid", "uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", ["compare", "insert", "CAST"]),
    ("string", None, "inet", "inet", "10.0.0.1/8", ["compare", "insert", "cast"]),
    ("string", None, "cidr", "cidr", "10.0.0.0/8", ["compare", "insert"]),
    ("string", None, "macaddr", "macaddr", "08-00-2B-01-02-03", ["compare", "insert"]),
    ("string", None, "bit(3)", "bit", "101", ["compare", "insert", "cast"]),
    ("string", None, "varbit", "varbit", "1010101011", ["compare", "insert"]),
    ("string", None, "xml", "xml", "<a>x &amp; y</a>", ["insert", "cast"]),
    ("string", None, "bytea", "bytea", "\\x00ff10", ["compare", "insert", "cast"]),
    ("string", None, "int4", "int4", "2147483647", ["compare", "cast"]),
    ("string", None, "numeric", "numeric_scaled", "49.00", ["compare", "CAST"]),
    ("string", None, "bool", "bool", "yes", ["compare", "cast"]),
    ("string", None, "point", "point", "(1.5,-2)", ["insert", "cast"]),
    ("string", None, "int4range", "int4range", "[1,10)", ["compare", "insert", "cast"]),
    ("string", None, "tsvector", "tsvector", "a:1A fat:2,4 cat", ["compare", "insert"]),
    ("string", None, "pg_lsn", "pg_lsn", "16/B374D848", ["compare", "insert"]),
    # map: json or jsonb.
    ("map", None, "jsonb", "jsonb", {"b": True, "n": 1.5, "s": "é"}, ["compare", "insert", "cast"]),
    ("map", None, "json", "json", {"k": [1, 2]}, ["insert", "cast"]),
    # arrays: a PostgreSQL array of the placeholder's element type (`= ANY($1)`), or JSON.
    ("array", "integer", "int4[]", "int4", [2147483647, 5], ["compare", "insert", "cast"]),
    ("array", "integer", "int2[]", "int2", [32767, -32768], ["compare", "insert"]),
    ("array", "integer", "int8[]", "int8", [9007199254740993], ["compare", "insert"]),
    ("array", "integer", "numeric[]", "numeric_scaled", [49, 0], ["compare", "insert"]),
    ("array", "float", "float8[]", "float8", [0.1, 1e20], ["compare", "insert", "cast"]),
    ("array", "float", "float4[]", "float4", [1.5], ["compare"]),
    ("array", "float", "numeric[]", "numeric_scaled", [-123.45, 0.5], ["compare", "insert"]),
    ("array", "boolean", "bool[]", "bool", [True, False], ["compare", "insert", "cast"]),
    ("array", "string", "text[]", "text", ["a", "héllo \"q\" \\ tab\tend", ""], ["compare", "insert", "cast"]),
    ("array", "string", "varchar[]", "varchar", ["varchar", "x"], ["compare", "insert"]),
    ("array", "string", "date[]", "date", ["2025-01-31", "infinity"], ["compare", "insert", "cast"]),
    ("array", "string", "uuid[]", "uuid", ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"], ["compare", "CAST"]),
    ("array", "string", "mood[]", "mood", ["happy", "ok"], ["compare", "insert"]),
    ("array", "map", "jsonb", "jsonb", [{"b": True}, {"c": [1]}], ["insert", "cast"]),
]

TEXT_LIKE = {"text", "varchar", "char(3)", "name", "citext", "mood", "shortname", "json", "jsonb"}
SENT_AS_IS = {
    "integer": {"int2", "int4", "int8", "numeric", "float4", "float8", "oid", "posint"},
    "float": {"float4", "float8", "numeric"},
    "boolean": {"bool"},
    "string": TEXT_LIKE,
    "map": {"json", "jsonb"},
}


def quoted(text):
    """An SQL string literal (standard_conforming_strings: only the quote is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def literal(value, declared):
    """The argument written into the statement as psql would be given it: numbers and booleans as
    they are, strings, JSON and arrays as untyped quoted literals, which PostgreSQL types from the
    context exactly as it types a placeholder."""
    if declared in ("integer", "float"):
        return repr(value) if isinstance(value, float) else str(value)
    if declared == "boolean":
        return "true" if value else "false"
    if declared == "string":
        return quoted(value)
    if declared == "map" or (declared == "array" and value and isinstance(value[0], dict)):
        return quoted(json.dumps(value, ensure_ascii=False))
    def element(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v) if isinstance(v, float) else str(v)
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted("{" + ",".join(element(v) for v in value) + "}")



def main():
    sql = [PRELUDE]
    tools = []
    cases = []

    def table(name, column_type, values):
        rows = ", ".join(f"({i + 1}, {v})" for i, v in enumerate(values))
        sql.append(f"CREATE TABLE r_{name} (id int PRIMARY KEY, v {column_type});")
        sql.append(f"INSERT INTO r_{name} VALUES {rows}, ({len(values) + 1}, NULL);")
        sql.append(f"CREATE TABLE w_{name} (id serial PRIMARY KEY, v {column_type});")

    first = {}
    for name, column_type, values in RESULTS:
        table(name, column_type, values)
        first[name] = (column_type, values[0])
    sql.append("CREATE TABLE r_int4_2d (id int PRIMARY KEY, v int4[]);")
    sql.append("INSERT INTO r_int4_2d VALUES (1, '{{1,2},{3,NULL}}'), (2, '[0:1]={7,8}'), (3, '{}'), (4, NULL);")
    for name in ARRAYS:
        column_type, value = first[name]
        table(f"{name}_arr", f"{column_type}[]", [f"ARRAY[{value}, NULL]::{column_type}[]"])

    result_tables = [n for n, _, _ in RESULTS] + ["int4_2d"] + [f"{n}_arr" for n in ARRAYS]
    for name in result_tables:
        statement = f"SELECT v FROM r_{name} ORDER BY id"
        tools.append({"name": f"r_{name}", "description": f"Reads every value of r_{name}.",
                      "statement": statement, "parameters": []})
        cases.append({"tool": f"r_{name}", "arguments": {}, "statement": statement, "kind": "result",
                      "psql": statement})

    for n, (declared, items, column_type, table_name, argument, forms) in enumerate(PARAMS):
        # Arrays of built-in elements are sent as the placeholder's array type; an array of a
        # type of the database's own (an enum) is sent as text[] and needs the cast.
        as_is = column_type in SENT_AS_IS.get(declared, set()) or (
            declared == "array" and (items in ("integer", "float", "boolean") or column_type in ("text[]", "varchar[]", "jsonb"))
        )
        cast = "" if as_is else f"::{column_type}"
        element_compare = declared == "array" and column_type != "jsonb"
        for form in forms:
            suffix = {"cast": "colons", "CAST": "cast"}.get(form, form)
            tool = f"p{n:02d}_{declared}_{re.sub('[^a-z0-9]+', '_', column_type).strip('_')}_{suffix}"
            if form == "compare":
                if element_compare:
                    statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v = ANY($1{cast})"
                else:
                    statement = f"SELECT count(*) AS n FROM r_{table_name} WHERE v = $1{cast}"
            elif form == "insert":
                if element_compare:
                    statement = f"INSERT INTO w_{table_name}_arr (v) VALUES ($1{cast}) RETURNING v"
                else:
                    statement = f"INSERT INTO w_{table_name} (v) VALUES ($1{cast}) RETURNING v"
            elif form == "cast":
                statement = f"SELECT $1::{column_type} AS v"
            else:
                statement = f"SELECT CAST($1 AS {column_type}) AS v"
            parameter = {"name": "value", "type": declared, "description": f"A value for {column_type}."}
            if items:
                parameter["items"] = {"name": "item", "type": items, "description": "An element."}
            tools.append({"name": tool, "description": f"{declared} as {column_type}, {form}.",
                          "statement": statement, "parameters": [parameter]})
            cases.append({"tool": tool, "arguments": {"value": argument}, "statement": statement, "kind": "param",
                          "psql": statement.replace("$1", literal(argument, declared))})

    # Client SQL: every result table again through the simple protocol (values as text) and the
    # extended one (read-only: values in binary).
    extra_tools = """---
kind: tool
name: execute_sql
type: postgres-execute-sql
source: matrix
description: Runs client SQL (the simple protocol).
---
kind: tool
name: query_sql
type: postgres-execute-sql
source: matrix
description: Runs one read-only statement (the extended protocol).
readOnly: true
"""
    with open(os.path.join(HERE, "postgres.sql"), "w") as f:
        f.write("\n".join(sql) + "\n")
    header = (
        "# Generated by gen_postgres.py: the PostgreSQL type matrix. Do not edit; edit the generator.\n"
        "kind: source\nname: matrix\ntype: postgres\nhost: ${PGHOST:127.0.0.1}\nport: ${PGPORT:5432}\n"
        "database: ${PGDATABASE:toolbox_matrix}\nuser: ${PGUSER:postgres}\n"
        "password: ${PGPASSWORD:}\nqueryParams: {sslmode: disable}\nmaxConnections: 4\n"
    )
    write_toolbox("postgres", header, tools, extra_tools)
    write_cases("postgres", cases)


if __name__ == "__main__":
    main()
