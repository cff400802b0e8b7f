//! An answer into a result: the body read up to the size cap rows have
//! ([`crate::db::encode::MAX_RESPONSE_BYTES`]), then `{"status", "contentType", "body"}` with
//! `"truncated": true` when the cap cut it. A JSON body is given as JSON, any other as text. A
//! status outside 2xx is an `isError` result naming it.

use crate::call::{Failure, ToolOutput};
use crate::db::encode::{MAX_RESPONSE_BYTES, write_json_string};
use reqwest::header::CONTENT_TYPE;

/// How much of an error answer's body the error shows, unless the source has `returnFullError`.
const ERROR_BODY_BYTES: usize = 1024;

/// The body, at most `cap` bytes of it, and whether there was more.
pub(super) async fn read_body(response: &mut reqwest::Response, cap: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Text of at most `max` bytes, cut at a character boundary, invalid UTF-8 replaced.
fn text(body: &[u8], max: usize) -> (String, bool) {
    let cut = body.len() > max;
    let mut text = String::from_utf8_lossy(&body[..body.len().min(max)]).into_owned();
    if cut {
        // A character split by the cut shows as U+FFFD; drop it.
        while text.ends_with('\u{FFFD}') {
            text.pop();
        }
    }
    (text, cut)
}

/// Reads and shapes the answer of a call.
pub(super) async fn output(
    source_name: &str,
    mut response: reqwest::Response,
    return_full_error: bool,
    json_body: bool,
) -> Result<ToolOutput, reqwest::Error> {
    let status = response.status();
    let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (body, truncated) = read_body(&mut response, MAX_RESPONSE_BYTES).await?;
    if !status.is_success() {
        let max = if return_full_error { MAX_RESPONSE_BYTES } else { ERROR_BODY_BYTES };
        let (text, cut) = text(&body, max);
        let mut message = format!("source `{source_name}` answered HTTP {status}");
        if !content_type.is_empty() {
            message.push_str(&format!(" ({content_type})"));
        }
        if !text.is_empty() {
            message.push_str(": ");
            message.push_str(&text);
            if cut || truncated {
                message.push_str(" [cut]");
            }
        }
        return Ok(ToolOutput::Error(Failure::Database, message));
    }
    let parsed_json =
        !truncated && is_json(&content_type) && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok();
    if json_body && !parsed_json {
        let why = if truncated { "was longer than the response size limit" } else { "is not JSON" };
        return Ok(ToolOutput::Error(
            Failure::Database,
            format!(
                "source `{source_name}`: the answer ({content_type}) {why}, so it cannot match the tool's outputSchema"
            ),
        ));
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    out.extend_from_slice(format!("{{\"status\":{},\"contentType\":", status.as_u16()).as_bytes());
    write_json_string(&mut out, &content_type);
    out.extend_from_slice(b",\"body\":");
    if parsed_json {
        out.extend_from_slice(body.trim_ascii());
    } else {
        write_json_string(&mut out, &text(&body, body.len()).0);
    }
    if truncated {
        out.extend_from_slice(b",\"truncated\":true");
    }
    out.push(b'}');
    Ok(ToolOutput::Object { json: String::from_utf8_lossy(&out).into_owned(), truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
    }

    #[test]
    fn text_is_cut_at_a_character() {
        let (t, cut) = text("aé".as_bytes(), 2);
        assert_eq!((t.as_str(), cut), ("a", true));
    }
}
