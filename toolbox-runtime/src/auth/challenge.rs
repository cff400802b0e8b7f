//! The answers to refused requests and tool calls: 401, 403 and 503 with their
//! `WWW-Authenticate` challenges (RFC 6750, RFC 9728's `resource_metadata`), and the
//! `Toolbox-Token` challenge of native services.

use super::{Auth, Denied, Rejection};
use crate::error::RpcError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

impl Auth {
    /// The answer to a refused request: status, challenge, a JSON-RPC error body (`id` null: the
    /// body was not read).
    pub fn reject(&self, rejection: &Rejection) -> Response {
        let (status, code, message, challenge) = match rejection {
            Rejection::Unauthorized(None) => (
                StatusCode::UNAUTHORIZED,
                -401,
                "this server requires a bearer token; see the WWW-Authenticate header",
                Some(self.challenge_base.clone()),
            ),
            Rejection::Unauthorized(Some(description)) => (
                StatusCode::UNAUTHORIZED,
                -401,
                *description,
                Some(format!("{}, error=\"invalid_token\", error_description=\"{description}\"", self.challenge_base)),
            ),
            Rejection::InsufficientScope => {
                let description = "the token lacks a scope this server requires";
                (StatusCode::FORBIDDEN, -403, description, Some(self.scope_challenge(&self.server_scope, description)))
            }
            Rejection::Unavailable(description) => (StatusCode::SERVICE_UNAVAILABLE, -32603, *description, None),
        };
        let mut response = RpcError::new(status.as_u16(), code, message).into_response();
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }

    /// The `WWW-Authenticate` value for a tool call refused by [`authorize_tool`].
    pub fn challenge(&self, denied: Denied) -> Option<HeaderValue> {
        let text = match denied {
            Denied::InsufficientScope(tool_scopes) => {
                let mut scopes: Vec<&str> = self.server_scope.split(' ').filter(|s| !s.is_empty()).collect();
                for s in tool_scopes {
                    if !scopes.contains(s) {
                        scopes.push(s);
                    }
                }
                self.scope_challenge(&scopes.join(" "), "the token lacks a scope this tool requires")
            }
            Denied::Unauthenticated(services) => {
                let mut challenges: Vec<String> = Vec::new();
                for s in services {
                    if self.mcp.as_ref().is_some_and(|m| m.name == *s) {
                        challenges.push(self.challenge_base.clone());
                    } else {
                        challenges.push(format!("Toolbox-Token header=\"{}_token\"", s.to_ascii_lowercase()));
                    }
                }
                challenges.join(", ")
            }
        };
        HeaderValue::from_str(&text).ok()
    }

    fn scope_challenge(&self, scopes: &str, description: &str) -> String {
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scopes}\", resource_metadata=\"{}\", error_description=\"{description}\"",
            self.metadata_url
        )
    }
}
