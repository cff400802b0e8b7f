//! The static description of an `http` source and of each `http` tool's request, as the build
//! checked them; generated code fills these in.

use crate::setting::Setting;
pub use toolbox_config::http::{HttpMethod as Method, ParamIn};

/// An `http` source; every setting is resolved at start-up.
pub struct HttpSourceDef {
    pub base_url: Setting,
    pub headers: &'static [(&'static str, Setting)],
    pub query_params: &'static [(&'static str, Setting)],
    pub timeout: Option<Setting>,
    pub disable_ssl_verification: bool,
    pub return_full_error: bool,
    /// Each of the source's tools' own `headers`, by the tool's [`Request::slot`].
    pub tool_headers: &'static [&'static [(&'static str, Setting)]],
}

/// A piece of a request's path.
pub enum PathPart {
    Text(&'static str),
    /// The parameter at this index of the tool's `PARAMS`, percent-encoded as one segment.
    Param(usize),
}

/// A piece of a request body.
pub enum BodyPart {
    Text(&'static str),
    /// The parameter's JSON text.
    Json(usize),
    /// The parameter escaped as the content of a JSON string.
    InString(usize),
}

/// What an `http` tool sends.
pub struct Request {
    pub tool: &'static str,
    pub method: Method,
    pub path: &'static [PathPart],
    /// The static query string written in `path`, without `?` (may be empty).
    pub query: &'static str,
    /// Where each parameter of the tool's `PARAMS` goes.
    pub places: &'static [ParamIn],
    pub body: Option<&'static [BodyPart]>,
    /// The index of the tool's headers in its source's [`HttpSourceDef::tool_headers`].
    pub slot: usize,
    /// The tool declares an `outputSchema` for the response body: a body that is not JSON
    /// is an error rather than text.
    pub json_body: bool,
}
