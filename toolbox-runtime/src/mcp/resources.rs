//! The resource methods. The server has no resources: its lists are empty, a read is not found,
//! and a subscription, which can never fire, is accepted so that a client that subscribes gets
//! the answer it expects.

use super::reply::ResultWriter;
use super::request::Request;
use crate::error::RpcError;
use crate::protocol::code;

/// `resources/list` and `resources/templates/list`, under their result key.
pub(super) fn list(key: &str, request: &Request<'_>, w: &mut ResultWriter) -> Result<(), RpcError> {
    request.params.check_cursor()?;
    w.list(key, "[]", request.toolset);
    Ok(())
}

pub(super) fn read(request: &Request<'_>) -> RpcError {
    let uri = request.params.uri.as_deref().unwrap_or_default();
    let code = if request.version.is_modern() { code::INVALID_PARAMS } else { code::RESOURCE_NOT_FOUND };
    RpcError::new(200, code, format!("resource not found: {uri}")).with_data(serde_json::json!({"uri": uri}))
}

/// `resources/subscribe` and `resources/unsubscribe`.
pub(super) fn subscribe(request: &Request<'_>) -> Result<(), RpcError> {
    match request.params.uri {
        Some(_) => Ok(()),
        None => Err(RpcError::invalid_params("`params.uri` is required")),
    }
}
