//! The `*-search-objects` tool types: one built-in statement per engine that finds schemas,
//! tables, views, columns, indexes and routines by a `LIKE` pattern, in compact rows. Like
//! `*-list-tables` ([`crate::builtin`]), the statement and its parameters are defined here and the
//! build checks them against the schema like any other; the detail level is a template parameter,
//! so each level is its own checked statement with its own columns (`names`: schema, name, type;
//! `summary`: and `info`; `full`: and `definition`).
//!
//! Each statement gathers every object into `found`, keeps the rows that match, and the level's
//! CTE picks its columns; the statement's final `FROM` names that CTE. A column or an index is
//! named `table.name`, so rows sort beside their table. The statement reads `limit + 1` rows and
//! the tool is given `limit` as its row cap, so the answer says when rows were left out.

use crate::diag::{Pos, Spanned};
use crate::model::{Engine, Escape, Param, ParamType};
use serde_json::Value;

/// The most rows a call may ask for. An agent pays for every row it reads: 100 object names are
/// about 1,000 tokens, so that is the default, and a full-detail answer of 1,000 rows is already
/// larger than most context budgets want to spend on a schema.
pub const MAX_LIMIT: u64 = 1000;
/// The rows an answer has when the call does not say.
pub const DEFAULT_LIMIT: u64 = 100;
/// The parameter that caps the answer's rows (the generated handler gives it as the row cap).
pub const LIMIT_PARAM: &str = "limit";

/// The statement, parameters (`pattern`, `type`, `schema`, `table`, `limit`, bound in this order)
/// and template parameter (`detail`) of a `<engine>-search-objects` tool.
pub fn search_objects(engine: Engine, pos: Pos) -> (Spanned<String>, Vec<Param>, Vec<Param>) {
    let (statement, types, escape) = match engine {
        Engine::Postgres => (
            POSTGRES,
            &["schema", "table", "view", "column", "index", "function", "procedure"][..],
            Escape::DoubleQuotes,
        ),
        Engine::Mysql => {
            (MYSQL, &["schema", "table", "view", "column", "index", "function", "procedure"][..], Escape::Backticks)
        }
        Engine::Sqlite => {
            (SQLITE, &["schema", "table", "view", "column", "index", "trigger"][..], Escape::DoubleQuotes)
        }
    };
    let spanned = |v: Value| Spanned::new(v, pos);
    let text = |s: &str| spanned(Value::String(s.to_string()));
    let param = |name: &str, ty: ParamType, description: &str, default: Option<Value>| Param {
        default: default.map(spanned),
        ..Param::builtin(name, ty, description, pos)
    };
    let params = vec![
        param(
            "pattern",
            ParamType::String,
            "LIKE pattern on object names (% any, _ one char).",
            Some(Value::from("%")),
        ),
        Param {
            allowed_values: types.iter().map(|t| text(t)).collect(),
            ..param("type", ParamType::String, "Only objects of this type.", None)
        },
        param("schema", ParamType::String, "Only this schema.", None),
        param("table", ParamType::String, "Only this table (or view) and its columns and indexes.", None),
        Param {
            min_value: Some(Spanned::new(1.0, pos)),
            max_value: Some(Spanned::new(MAX_LIMIT as f64, pos)),
            ..param(LIMIT_PARAM, ParamType::Integer, "Most rows to return.", Some(Value::from(DEFAULT_LIMIT)))
        },
    ];
    let detail = Param {
        allowed_values: ["names", "summary", "full"].iter().map(|t| text(t)).collect(),
        escape: Some(escape),
        ..param(
            "detail",
            ParamType::String,
            "names; summary adds types, counts, index columns; full adds definitions.",
            Some(Value::from("names")),
        )
    };
    (Spanned::new(statement.to_string(), pos), params, vec![detail])
}

const POSTGRES: &str = r#"WITH found AS NOT MATERIALIZED (
  SELECT o.* FROM (
    SELECT n.nspname AS schema, n.nspname AS name, 'schema' AS type, NULL::name AS tbl, n.nspname AS obj,
           (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')) || ' tables' AS info,
           obj_description(n.oid, 'pg_namespace') AS definition
    FROM pg_namespace n
    UNION ALL
    SELECT n.nspname, c.relname, CASE WHEN c.relkind IN ('r', 'p') THEN 'table' ELSE 'view' END, c.relname, c.relname,
           (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
             || ' columns' || COALESCE('; ' || obj_description(c.oid, 'pg_class'), ''),
           CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid)
           ELSE (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    SELECT n.nspname, c.relname || '.' || a.attname, 'column', c.relname, a.attname,
           format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
           NULLIF(concat_ws('; ', 'default ' || pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT n.nspname, t.relname || '.' || i.relname, 'index', t.relname, i.relname,
           CASE WHEN x.indisprimary THEN 'primary key ' WHEN x.indisunique THEN 'unique ' ELSE '' END
             || '(' || (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, true), ', ' ORDER BY k)
                        FROM generate_series(1, x.indnkeyatts) k) || ')',
           pg_get_indexdef(x.indexrelid)
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = i.relnamespace
    UNION ALL
    SELECT n.nspname, p.proname, CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, NULL, p.proname,
           '(' || pg_get_function_arguments(p.oid) || ')' || COALESCE(' returns ' || pg_get_function_result(p.oid), ''),
           pg_get_functiondef(p.oid)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p')
  ) o
  WHERE o.schema NOT IN ('pg_catalog', 'information_schema') AND o.schema NOT LIKE 'pg\_%'
    AND o.obj ILIKE $1 AND ($2::text IS NULL OR o.type = $2)
    AND ($3::text IS NULL OR o.schema = $3) AND ($4::text IS NULL OR o.tbl = $4)
),
names AS NOT MATERIALIZED (SELECT schema, name, type FROM found),
summary AS NOT MATERIALIZED (SELECT schema, name, type, info FROM found),
"full" AS NOT MATERIALIZED (SELECT schema, name, type, info, definition FROM found)
SELECT * FROM {{.detail}} ORDER BY 1, 2, 3 LIMIT $5 + 1"#;

/// MySQL allows only a number or a placeholder in `LIMIT`, so rows are numbered instead. Counts
/// and lists are grouped once and joined: a subquery on information_schema per row refills it
/// per row (minutes on a server with a few hundred tables).
const MYSQL: &str = r#"WITH p AS (SELECT CAST(? AS CHAR) AS pattern, CAST(? AS CHAR) AS want, CAST(? AS CHAR) AS in_schema,
                  CAST(? AS CHAR) AS in_table, CAST(? AS SIGNED) AS lim),
found AS (
  SELECT o.*, ROW_NUMBER() OVER (ORDER BY o.`schema`, o.name, o.type) AS n
  FROM (
    SELECT s.SCHEMA_NAME AS `schema`, s.SCHEMA_NAME AS name, 'schema' AS type, NULL AS tbl, s.SCHEMA_NAME AS obj,
           CONCAT(COALESCE(n.tables, 0), ' tables') AS info,
           CONCAT('charset ', s.DEFAULT_CHARACTER_SET_NAME, ', collation ', s.DEFAULT_COLLATION_NAME) AS definition
    FROM information_schema.SCHEMATA s
    LEFT JOIN (SELECT TABLE_SCHEMA, COUNT(*) AS tables FROM information_schema.TABLES
               WHERE TABLE_TYPE = 'BASE TABLE' GROUP BY TABLE_SCHEMA) n ON n.TABLE_SCHEMA = s.SCHEMA_NAME
    UNION ALL
    SELECT t.TABLE_SCHEMA, t.TABLE_NAME, IF(t.TABLE_TYPE = 'VIEW', 'view', 'table'), t.TABLE_NAME, t.TABLE_NAME,
           CONCAT(COALESCE(c.n, 0), ' columns',
                  IF(t.TABLE_COMMENT = '' OR t.TABLE_TYPE = 'VIEW', '', CONCAT('; ', t.TABLE_COMMENT))),
           IF(t.TABLE_TYPE = 'VIEW', v.VIEW_DEFINITION, c.columns)
    FROM information_schema.TABLES t
    LEFT JOIN (SELECT TABLE_SCHEMA, TABLE_NAME, COUNT(*) AS n,
                      GROUP_CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE, IF(IS_NULLABLE = 'NO', ' not null', '')
                                   ORDER BY ORDINAL_POSITION SEPARATOR ', ') AS columns
               FROM information_schema.COLUMNS GROUP BY TABLE_SCHEMA, TABLE_NAME) c
      ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
    LEFT JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
    UNION ALL
    SELECT c.TABLE_SCHEMA, CONCAT(c.TABLE_NAME, '.', c.COLUMN_NAME), 'column', c.TABLE_NAME, c.COLUMN_NAME,
           CONCAT(c.COLUMN_TYPE, IF(c.IS_NULLABLE = 'NO', ' not null', '')),
           NULLIF(CONCAT_WS('; ', CONCAT('default ', c.COLUMN_DEFAULT), NULLIF(c.COLUMN_COMMENT, '')), '')
    FROM information_schema.COLUMNS c
    UNION ALL
    SELECT s.TABLE_SCHEMA, CONCAT(s.TABLE_NAME, '.', s.INDEX_NAME), 'index', s.TABLE_NAME, s.INDEX_NAME,
           CONCAT(CASE WHEN s.INDEX_NAME = 'PRIMARY' THEN 'primary key ' WHEN MAX(s.NON_UNIQUE) = 0 THEN 'unique ' ELSE '' END,
                  '(', GROUP_CONCAT(s.COLUMN_NAME ORDER BY s.SEQ_IN_INDEX SEPARATOR ', '), ')'),
           CONCAT('using ', MAX(s.INDEX_TYPE))
    FROM information_schema.STATISTICS s
    GROUP BY s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME
    UNION ALL
    SELECT r.ROUTINE_SCHEMA, r.ROUTINE_NAME, LOWER(r.ROUTINE_TYPE), NULL, r.ROUTINE_NAME,
           CONCAT('(', COALESCE(x.params, ''), ')',
                  IF(r.ROUTINE_TYPE = 'FUNCTION', CONCAT(' returns ', r.DTD_IDENTIFIER), '')),
           r.ROUTINE_DEFINITION
    FROM information_schema.ROUTINES r
    LEFT JOIN (SELECT SPECIFIC_SCHEMA, SPECIFIC_NAME,
                      GROUP_CONCAT(CONCAT_WS(' ', PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER)
                                   ORDER BY ORDINAL_POSITION SEPARATOR ', ') AS params
               FROM information_schema.PARAMETERS WHERE ORDINAL_POSITION > 0
               GROUP BY SPECIFIC_SCHEMA, SPECIFIC_NAME) x
      ON x.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND x.SPECIFIC_NAME = r.SPECIFIC_NAME
  ) o CROSS JOIN p
  WHERE o.`schema` NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
    AND o.obj LIKE p.pattern AND (p.want IS NULL OR o.type = p.want)
    AND (p.in_schema IS NULL OR o.`schema` = p.in_schema) AND (p.in_table IS NULL OR o.tbl = p.in_table)
),
names AS (SELECT found.`schema`, found.name, found.type FROM found JOIN p ON found.n <= p.lim + 1),
summary AS (SELECT found.`schema`, found.name, found.type, found.info FROM found JOIN p ON found.n <= p.lim + 1),
`full` AS (SELECT found.`schema`, found.name, found.type, found.info, found.definition FROM found JOIN p ON found.n <= p.lim + 1)
SELECT * FROM {{.detail}} ORDER BY 1, 2, 3"#;

/// SQLite has one schema here, `main` (client SQL cannot attach others); it has triggers, not
/// routines.
const SQLITE: &str = r#"WITH found AS (
  SELECT 'main' AS schema, 'main' AS name, 'schema' AS type, NULL AS tbl, 'main' AS obj,
         (SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\') || ' tables' AS info,
         NULL AS definition
  UNION ALL
  SELECT 'main', m.name, m.type, m.name, m.name,
         (SELECT count(*) FROM pragma_table_info(m.name)) || ' columns', m.sql
  FROM sqlite_schema m WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  UNION ALL
  SELECT 'main', m.name || '.' || c.name, 'column', m.name, c.name,
         c.type || CASE WHEN c."notnull" THEN ' not null' ELSE '' END
           || CASE WHEN c.pk > 0 THEN ' primary key' ELSE '' END,
         'default ' || c.dflt_value
  FROM sqlite_schema m, pragma_table_info(m.name) c
  WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  UNION ALL
  SELECT 'main', m.name || '.' || i.name, 'index', m.name, i.name,
         CASE i.origin WHEN 'pk' THEN 'primary key ' ELSE CASE WHEN i."unique" THEN 'unique ' ELSE '' END END
           || '(' || (SELECT group_concat(coalesce(k.name, '<expression>'), ', ') FROM pragma_index_info(i.name) k) || ')',
         (SELECT s.sql FROM sqlite_schema s WHERE s.type = 'index' AND s.name = i.name)
  FROM sqlite_schema m, pragma_index_list(m.name) i
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  UNION ALL
  SELECT 'main', m.tbl_name || '.' || m.name, 'trigger', m.tbl_name, m.name, NULL, m.sql
  FROM sqlite_schema m WHERE m.type = 'trigger'
),
matched AS (
  SELECT * FROM found
  WHERE obj LIKE ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR schema = ?3) AND (?4 IS NULL OR tbl = ?4)
),
names AS (SELECT schema, name, type FROM matched),
summary AS (SELECT schema, name, type, info FROM matched),
"full" AS (SELECT schema, name, type, info, definition FROM matched)
SELECT * FROM {{.detail}} ORDER BY 1, 2, 3 LIMIT ?5 + 1"#;
