//! Connection URLs for PostgreSQL and MySQL sources, made from resolved settings. User names,
//! passwords and database names are percent-encoded, so any character may appear in them.

/// The resolved settings of a server source.
pub struct ServerSettings<'a> {
    pub host: &'a str,
    pub port: &'a str,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    pub database: Option<&'a str>,
    pub query_params: &'a [(String, String)],
}

/// The settings of a server source that make its URL, as written: `S` is the model's
/// `Spanned<String>` at build time and the generated `Setting` at run time.
pub struct ServerFields<'a, S> {
    pub host: &'a S,
    pub port: &'a S,
    pub user: Option<&'a S>,
    pub password: Option<&'a S>,
    pub database: Option<&'a S>,
    pub query_params: Vec<(&'a str, &'a S)>,
}

/// Resolves every setting with `resolve` and makes the connection URL: the one resolution of a
/// server source, shared by the build (which describes statements against the database) and the
/// server (which connects to it). Every setting is resolved even after a failure, so that all
/// failures are returned together, in the order of the fields.
pub fn resolve_url<S, E>(
    scheme: &str,
    fields: &ServerFields<'_, S>,
    mut resolve: impl FnMut(&S) -> Result<String, E>,
) -> Result<String, Vec<E>> {
    let mut errors = Vec::new();
    let mut resolve = |s: &S| {
        resolve(s).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        })
    };
    let host = resolve(fields.host);
    let port = resolve(fields.port);
    let user = fields.user.map(&mut resolve);
    let password = fields.password.map(&mut resolve);
    let database = fields.database.map(&mut resolve);
    let query_params: Vec<(String, String)> =
        fields.query_params.iter().map(|(k, v)| (k.to_string(), resolve(v))).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let settings = ServerSettings {
        host: &host,
        port: &port,
        user: user.as_deref(),
        password: password.as_deref(),
        database: database.as_deref(),
        query_params: &query_params,
    };
    Ok(connection_url(scheme, &settings))
}

/// `postgres://user:password@host:port/database?k=v` (or `mysql://...`).
pub fn connection_url(scheme: &str, s: &ServerSettings<'_>) -> String {
    let mut url = format!("{scheme}://");
    if let Some(user) = s.user.filter(|u| !u.is_empty()) {
        url.push_str(&encode(user));
        if let Some(password) = s.password.filter(|p| !p.is_empty()) {
            url.push(':');
            url.push_str(&encode(password));
        }
        url.push('@');
    }
    if s.host.contains(':') && !s.host.starts_with('[') {
        url.push_str(&format!("[{}]", s.host));
    } else {
        url.push_str(s.host);
    }
    if !s.port.is_empty() {
        url.push(':');
        url.push_str(s.port);
    }
    if let Some(database) = s.database.filter(|d| !d.is_empty()) {
        url.push('/');
        url.push_str(&encode(database));
    }
    for (i, (key, value)) in s.query_params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&encode(key));
        url.push('=');
        url.push_str(&encode(value));
    }
    url
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_credentials_and_brackets_ipv6() {
        let params = vec![("sslmode".to_string(), "disable".to_string())];
        let s = ServerSettings {
            host: "::1",
            port: "5432",
            user: Some("app user"),
            password: Some("p@ss:w/rd"),
            database: Some("db"),
            query_params: &params,
        };
        assert_eq!(
            connection_url("postgres", &s),
            "postgres://app%20user:p%40ss%3Aw%2Frd@[::1]:5432/db?sslmode=disable"
        );
        let s = ServerSettings {
            host: "127.0.0.1",
            port: "3306",
            user: Some("root"),
            password: Some(""),
            database: None,
            query_params: &[],
        };
        assert_eq!(connection_url("mysql", &s), "mysql://root@127.0.0.1:3306");
    }

    #[test]
    fn resolution_reports_every_failure_in_field_order() {
        let (host, port, user) = ("${HOST}".to_string(), "5432".to_string(), "${USER}".to_string());
        let fields = ServerFields {
            host: &host,
            port: &port,
            user: Some(&user),
            password: None,
            database: None,
            query_params: vec![("sslmode", &port)],
        };
        let resolve = |s: &String| if s.starts_with('$') { Err(format!("unset {s}")) } else { Ok(s.clone()) };
        assert_eq!(
            resolve_url("postgres", &fields, resolve),
            Err(vec!["unset ${HOST}".into(), "unset ${USER}".into()])
        );
        let resolve = |s: &String| Ok::<_, ()>(s.trim_start_matches("${").trim_end_matches('}').to_lowercase());
        assert_eq!(resolve_url("postgres", &fields, resolve).unwrap(), "postgres://user@host:5432?sslmode=5432");
    }
}
