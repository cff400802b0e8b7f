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
}
