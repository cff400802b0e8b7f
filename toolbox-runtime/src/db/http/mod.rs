//! `http` sources and tools: a request made from a call's arguments and sent to the source's
//! base URL, and its answer as a result.
//!
//! - [`def`]: what generated code fills in (the source's settings, each tool's request);
//! - [`source`]: the settings resolved at start-up into a client (timeout, redirect policy);
//! - `request`: the arguments escaped into the URL, headers and body;
//! - `response`: the answer read under the size cap and shaped as a result.
//!
//! A server that is down, slow or answering an error never stops the toolbox: the call is an
//! `isError` result saying which, and no message carries the URL (the source's query
//! parameters may hold a key) or a header's value.

pub mod def;
mod request;
mod response;
pub mod source;

pub use def::{BodyPart, HttpSourceDef, Method, ParamIn, PathPart, Request};
pub use source::{HttpSource, source};

use crate::args::{Arguments, ClaimSource, ParamDef};
use crate::call::{Failure, ToolOutput};

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
        Method::Options => reqwest::Method::OPTIONS,
    }
}

/// Sends one tool call's request and shapes the answer.
pub async fn call(
    source: &HttpSource,
    request: &Request,
    params: &[ParamDef],
    args: &Arguments,
    claims: &dyn ClaimSource,
) -> ToolOutput {
    let built = match request::build(source, request, params, args, claims) {
        Ok(built) => built,
        Err(e) => return ToolOutput::invalid_arguments(e),
    };
    let mut outgoing = source.client.request(method(request.method), built.url).headers(built.headers);
    if let Some(body) = built.body {
        outgoing = outgoing.body(body);
    }
    let answer = match outgoing.send().await {
        Ok(response) => response::output(source.name, response, source.return_full_error, request.json_body).await,
        Err(e) => Err(e),
    };
    answer.unwrap_or_else(|e| failure(source, e))
}

/// A request that got no (whole) answer, in words that carry no URL.
fn failure(source: &HttpSource, error: reqwest::Error) -> ToolOutput {
    let name = source.name;
    if error.is_timeout() {
        return ToolOutput::Error(
            Failure::Timeout,
            format!("source `{name}` did not answer within {} ms (its `timeout`)", source.timeout_ms),
        );
    }
    let redirect = error.is_redirect();
    let mut reasons = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    while let Some(e) = cause {
        reasons.push(e.to_string());
        cause = e.source();
    }
    let reason = if reasons.is_empty() { error.without_url().to_string() } else { reasons.join(": ") };
    if redirect {
        ToolOutput::Error(Failure::Database, format!("source `{name}`: {reason}"))
    } else {
        ToolOutput::Error(Failure::Unavailable, format!("source `{name}` could not be reached: {reason}"))
    }
}
