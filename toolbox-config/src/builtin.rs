//! Built-in tools: the `*-list-tables` types (PostgreSQL, MySQL, SQLite) are ordinary SQL tools whose statement and
//! parameters are defined here, so the build checks them against the schema like any other.

use crate::diag::{Pos, Spanned};
use crate::model::{Engine, Param, ParamType};
use serde_json::Value;

/// The statement and parameters of a `<engine>-list-tables` tool. Parameters, as in the
/// reference: `table_names` (comma-separated filter, empty for all) and `output_format`
/// (`simple` or `detailed`).
pub fn list_tables(engine: Engine, pos: Pos) -> (Spanned<String>, Vec<Param>) {
    let statement = match engine {
        Engine::Postgres => POSTGRES,
        Engine::Mysql => MYSQL,
        Engine::Sqlite => SQLITE,
    };
    let param = |name: &str, description: &str, default: &str, allowed: &[&str]| Param {
        default: Some(Spanned::new(Value::String(default.to_string()), pos)),
        allowed_values: allowed.iter().map(|v| Spanned::new(Value::String(v.to_string()), pos)).collect(),
        ..Param::builtin(name, ParamType::String, description, pos)
    };
    let params = vec![
        param("table_names", "Comma-separated names of the tables to describe; empty for every table.", "", &[]),
        param(
            "output_format",
            "`simple` lists names only; `detailed` adds columns, constraints and indexes.",
            "detailed",
            &["simple", "detailed"],
        ),
    ];
    (Spanned::new(statement.to_string(), pos), params)
}

const POSTGRES: &str = r#"SELECT n.nspname AS schema_name,
       c.relname AS object_name,
       CASE WHEN $2 = 'simple' THEN jsonb_build_object('name', c.relname)
       ELSE jsonb_build_object(
         'schema_name', n.nspname,
         'object_name', c.relname,
         'object_type', CASE c.relkind WHEN 'p' THEN 'PARTITIONED TABLE' ELSE 'TABLE' END,
         'owner', pg_get_userbyid(c.relowner),
         'comment', obj_description(c.oid, 'pg_class'),
         'columns', COALESCE((
           SELECT jsonb_agg(jsonb_build_object(
                    'column_name', a.attname,
                    'data_type', format_type(a.atttypid, a.atttypmod),
                    'ordinal_position', a.attnum,
                    'is_not_nullable', a.attnotnull,
                    'column_default', pg_get_expr(d.adbin, d.adrelid),
                    'column_comment', col_description(c.oid, a.attnum)) ORDER BY a.attnum)
           FROM pg_attribute a
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::jsonb),
         'constraints', COALESCE((
           SELECT jsonb_agg(jsonb_build_object(
                    'constraint_name', con.conname,
                    'constraint_type', CASE con.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'f' THEN 'FOREIGN KEY'
                                       WHEN 'u' THEN 'UNIQUE' WHEN 'c' THEN 'CHECK' ELSE con.contype::text END,
                    'constraint_definition', pg_get_constraintdef(con.oid)) ORDER BY con.conname)
           FROM pg_constraint con WHERE con.conrelid = c.oid), '[]'::jsonb),
         'indexes', COALESCE((
           SELECT jsonb_agg(jsonb_build_object(
                    'index_name', i.relname,
                    'index_definition', pg_get_indexdef(i.oid),
                    'is_unique', x.indisunique,
                    'is_primary', x.indisprimary) ORDER BY i.relname)
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = c.oid), '[]'::jsonb))
       END AS object_details
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
  AND ($1 = '' OR c.relname = ANY(string_to_array(replace($1, ' ', ''), ',')))
ORDER BY n.nspname, c.relname"#;

const MYSQL: &str = r#"SELECT t.TABLE_SCHEMA AS schema_name,
       t.TABLE_NAME AS object_name,
       CASE WHEN p.fmt = 'simple' THEN JSON_OBJECT('name', t.TABLE_NAME)
       ELSE JSON_OBJECT(
         'schema_name', t.TABLE_SCHEMA,
         'object_name', t.TABLE_NAME,
         'object_type', 'TABLE',
         'comment', t.TABLE_COMMENT,
         'columns', (
           SELECT JSON_ARRAYAGG(JSON_OBJECT(
                    'column_name', c.COLUMN_NAME,
                    'data_type', c.COLUMN_TYPE,
                    'ordinal_position', c.ORDINAL_POSITION,
                    'is_not_nullable', c.IS_NULLABLE = 'NO',
                    'column_default', c.COLUMN_DEFAULT,
                    'column_comment', c.COLUMN_COMMENT))
           FROM information_schema.COLUMNS c
           WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME),
         'indexes', (
           SELECT JSON_ARRAYAGG(JSON_OBJECT(
                    'index_name', s.INDEX_NAME,
                    'column_name', s.COLUMN_NAME,
                    'sequence', s.SEQ_IN_INDEX,
                    'is_unique', s.NON_UNIQUE = 0))
           FROM information_schema.STATISTICS s
           WHERE s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME))
       END AS object_details
FROM information_schema.TABLES t
CROSS JOIN (SELECT CAST(? AS CHAR) AS names, CAST(? AS CHAR) AS fmt) p
WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
  AND (p.names = '' OR FIND_IN_SET(t.TABLE_NAME, REPLACE(p.names, ' ', '')) > 0)
ORDER BY t.TABLE_NAME"#;

/// SQLite: the reference has no such type, but its prebuilt SQLite configuration has a
/// `list_tables` tool; the details carry the same fields (columns, constraints, indexes,
/// triggers), with `ordinal_position` counted from 1 as the other engines count it.
const SQLITE: &str = r#"SELECT 'main' AS schema_name, m.name AS object_name,
       CASE WHEN ?2 = 'simple' THEN json_object('name', m.name)
       ELSE json_object(
         'schema_name', 'main',
         'object_name', m.name,
         'object_type', 'TABLE',
         'columns', (
           SELECT json_group_array(json_object(
                    'column_name', c.name,
                    'data_type', c.type,
                    'ordinal_position', c.cid + 1,
                    'is_not_nullable', json(CASE WHEN c."notnull" THEN 'true' ELSE 'false' END),
                    'column_default', c.dflt_value,
                    'is_primary_key', json(CASE WHEN c.pk > 0 THEN 'true' ELSE 'false' END)))
           FROM pragma_table_info(m.name) c),
         'constraints', (
           SELECT json_group_array(json(k.details)) FROM (
             SELECT json_object('constraint_name', 'PRIMARY', 'constraint_type', 'PRIMARY KEY',
                      'constraint_columns', (SELECT json_group_array(p.name) FROM
                                              (SELECT name FROM pragma_table_info(m.name) WHERE pk > 0 ORDER BY pk) p)) AS details
             WHERE EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE pk > 0)
             UNION ALL
             SELECT json_object('constraint_name', 'fk_' || m.name || '_' || f.id, 'constraint_type', 'FOREIGN KEY',
                      'constraint_columns', json_group_array(f."from"),
                      'foreign_key_referenced_table', f."table",
                      'foreign_key_referenced_columns', json_group_array(f."to"))
             FROM pragma_foreign_key_list(m.name) f GROUP BY f.id
             UNION ALL
             SELECT json_object('constraint_name', i.name, 'constraint_type', 'UNIQUE',
                      'constraint_columns', (SELECT json_group_array(x.name) FROM pragma_index_info(i.name) x))
             FROM pragma_index_list(m.name) i WHERE i."unique" AND i.origin <> 'pk') k),
         'indexes', (
           SELECT json_group_array(json_object(
                    'index_name', i.name,
                    'is_unique', json(CASE WHEN i."unique" THEN 'true' ELSE 'false' END),
                    'is_primary', json(CASE WHEN i.origin = 'pk' THEN 'true' ELSE 'false' END),
                    'index_columns', (SELECT json_group_array(x.name) FROM pragma_index_info(i.name) x)))
           FROM pragma_index_list(m.name) i),
         'triggers', (
           SELECT json_group_array(json_object('trigger_name', t.name, 'trigger_definition', t.sql))
           FROM sqlite_schema t WHERE t.type = 'trigger' AND t.tbl_name = m.name))
       END AS object_details
FROM sqlite_schema m
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND (?1 = '' OR instr(',' || replace(?1, ' ', '') || ',', ',' || m.name || ',') > 0)
ORDER BY m.name"#;
