//! A call's arguments into a request: each value escaped for where it goes, never spliced raw.
//!
//! - a path parameter is one segment: everything but unreserved characters is percent-encoded
//!   (`/`, `?`, `#` and `%` included), and `.`, `..` and the empty string are refused, since a
//!   URL parser resolves them (even encoded) and the path would change;
//! - query parameters are form-encoded by the URL library, an array as one pair per element;
//! - a header value with a line break or another control character is refused;
//! - body values are JSON-encoded, as a JSON value or as the content of a JSON string.

use super::def::{BodyPart, ParamIn, PathPart, Request};
use super::source::HttpSource;
use crate::args::{ArgError, Arguments, ClaimSource, ParamDef};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// Percent-encoded in a path segment: all but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The request of one call, ready to send.
pub(super) struct Built {
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<String>,
}

fn refuse(def: &ParamDef, problem: impl Into<String>) -> ArgError {
    ArgError { param: def.name.to_string(), problem: problem.into() }
}

/// A scalar as text (a string as is); `None` for null.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn build(
    source: &HttpSource,
    request: &Request,
    params: &[ParamDef],
    args: &Arguments,
    claims: &dyn ClaimSource,
) -> Result<Built, ArgError> {
    let mut values = Vec::with_capacity(params.len());
    for def in params {
        values.push(args.value(def, claims)?);
    }
    let mut url = source.base.clone();
    for part in request.path {
        match part {
            PathPart::Text(t) => url.push_str(t),
            PathPart::Param(i) => {
                let def = &params[*i];
                let segment = values[*i].as_ref().and_then(text).unwrap_or_default();
                if matches!(segment.as_str(), "" | "." | "..") {
                    return Err(refuse(def, "a path parameter cannot be empty, `.` or `..`"));
                }
                url.extend(utf8_percent_encode(&segment, SEGMENT));
            }
        }
    }
    if !request.query.is_empty() {
        url.push('?');
        url.push_str(request.query);
    }
    let mut url = Url::parse(&url)
        .map_err(|e| ArgError { param: request.tool.into(), problem: format!("the URL does not parse: {e}") })?;
    if url.origin() != source.base_url.origin() {
        // Cannot happen with the encoding above; checked so that it never does.
        return Err(ArgError {
            param: request.tool.into(),
            problem: "the request would leave the source's host".into(),
        });
    }
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in &source.query {
            pairs.append_pair(key, value);
        }
        for ((def, place), value) in params.iter().zip(request.places).zip(&values) {
            if *place != ParamIn::Query {
                continue;
            }
            match value {
                Some(Value::Array(items)) => {
                    for item in items.iter().filter_map(text) {
                        pairs.append_pair(def.name, &item);
                    }
                }
                Some(v) => {
                    if let Some(v) = text(v) {
                        pairs.append_pair(def.name, &v);
                    }
                }
                None => {}
            }
        }
    }
    // `query_pairs_mut` leaves a lone `?` when nothing was added.
    if url.query() == Some("") {
        url.set_query(None);
    }
    let mut headers = source.headers[request.slot].clone();
    for ((def, place), value) in params.iter().zip(request.places).zip(&values) {
        if *place != ParamIn::Header {
            continue;
        }
        let Some(value) = value.as_ref().and_then(text) else { continue };
        if value.contains(['\r', '\n', '\0']) {
            return Err(refuse(def, "a header value cannot contain a line break"));
        }
        let value = HeaderValue::from_str(&value)
            .map_err(|_| refuse(def, "a header value cannot contain control characters"))?;
        let name = HeaderName::from_bytes(def.name.as_bytes()).map_err(|_| refuse(def, "not a header name"))?;
        headers.insert(name, value);
    }
    let body = request.body.map(|parts| {
        let mut out = String::new();
        for part in parts {
            match part {
                BodyPart::Text(t) => out.push_str(t),
                BodyPart::Json(i) => out.push_str(&values[*i].as_ref().unwrap_or(&Value::Null).to_string()),
                BodyPart::InString(i) => out.push_str(&toolbox_config::http::string_content(values[*i].as_ref())),
            }
        }
        out
    });
    if body.is_some() && !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(Built { url, headers, body })
}
