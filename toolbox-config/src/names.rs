//! Name rules: MCP tool names, and identifiers that may be spliced into SQL.

/// MCP tool and toolset names: 1 to 64 characters of `A-Za-z0-9_.-/`.
pub fn check_tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!("name `{name}` must be 1 to 64 characters long (it has {})", name.len()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))) {
        return Err(format!("name `{name}` contains `{c}`; only letters, digits, `_`, `.`, `-` and `/` are allowed"));
    }
    Ok(())
}

/// A SQL identifier that template parameters may insert (always quoted): a letter or `_`,
/// then letters, digits or `_`, at most 63 characters.
pub fn is_sql_identifier(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && value.len() <= 63
}

/// A Rust identifier made from a tool or parameter name: non-alphanumerics become `_`, and a
/// leading digit or a keyword gets a prefix.
pub fn rust_ident(name: &str) -> String {
    let mut ident: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) || is_keyword(&ident) {
        ident.insert_str(0, "p_");
    }
    ident
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names() {
        assert!(check_tool_name("search_flights.v2/a-b").is_ok());
        assert!(check_tool_name("").is_err());
        assert!(check_tool_name(&"a".repeat(65)).is_err());
        assert_eq!(
            check_tool_name("bad name").unwrap_err(),
            "name `bad name` contains ` `; only letters, digits, `_`, `.`, `-` and `/` are allowed"
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_sql_identifier("flights_2024"));
        assert!(!is_sql_identifier("1flights"));
        assert!(!is_sql_identifier("a\"; drop table x; --"));
        assert_eq!(rust_ident("type"), "p_type");
        assert_eq!(rust_ident("flight-number"), "flight_number");
    }
}
