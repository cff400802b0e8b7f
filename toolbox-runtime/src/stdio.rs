//! The stdio transport: newline-delimited JSON-RPC on stdin and stdout; logs go to stderr.
//!
//! Requests are served concurrently and each response is written as one line. `initialize`
//! fixes the legacy protocol version for the rest of the process; requests with 2026-07-28
//! `_meta` are served statelessly whatever came before.

use crate::args::NoClaims;
use crate::error::RpcError;
use crate::mcp::{Mcp, Transport};
use crate::protocol::{SUPPORTED_VERSIONS, Version, code};
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::bytes::{Bytes, BytesMut};
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, Decoder, FramedRead};

const NONE: u8 = u8::MAX;

/// A line longer than the limit; its bytes were dropped as they came.
struct TooLong;

/// Newline-delimited messages of at most `max` bytes. tokio-util's codec holds at most `max`
/// bytes of a line: past that it reports the line and discards the rest of it up to its newline.
/// That report is an item here rather than an error, so that the stream goes on with the next
/// line (a `FramedRead` stops at an error).
struct Lines(AnyDelimiterCodec);

impl Lines {
    fn new(max: usize) -> Self {
        Lines(AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), Vec::new(), max))
    }
}

impl Decoder for Lines {
    type Item = Result<Bytes, TooLong>;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Self::Item>> {
        lift(self.0.decode(buf))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> std::io::Result<Option<Self::Item>> {
        lift(self.0.decode_eof(buf))
    }
}

fn lift(decoded: Result<Option<Bytes>, AnyDelimiterCodecError>) -> std::io::Result<Option<Result<Bytes, TooLong>>> {
    match decoded {
        Ok(line) => Ok(line.map(Ok)),
        Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => Ok(Some(Err(TooLong))),
        Err(AnyDelimiterCodecError::Io(e)) => Err(e),
    }
}

/// Serves until stdin closes, then lets in-flight requests finish. A line longer than
/// `max_line_bytes` is answered with an error and never held whole.
pub async fn serve(mcp: Arc<Mcp>, max_line_bytes: usize) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(mut line) = rx.recv().await {
            line.push(b'\n');
            if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let negotiated = Arc::new(AtomicU8::new(NONE));
    let mut lines = FramedRead::new(tokio::io::stdin(), Lines::new(max_line_bytes));
    let mut tasks = tokio::task::JoinSet::new();
    let toolset = mcp.toolbox.toolset(None).expect("the default toolset always exists");
    while let Some(line) = lines.next().await {
        let Ok(line) = line? else {
            let error =
                RpcError::new(413, code::INVALID_REQUEST, format!("the message exceeds {max_line_bytes} bytes"));
            let _ = tx.send(error.to_message(None)).await;
            continue;
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (mcp, tx, negotiated) = (mcp.clone(), tx.clone(), negotiated.clone());
        tasks.spawn(async move {
            let current = match negotiated.load(Ordering::Acquire) {
                NONE => None,
                i => Version::parse(SUPPORTED_VERSIONS[i as usize]),
            };
            let reply = mcp.handle_body(toolset, &line, Transport::Stdio { negotiated: current }, &NoClaims).await;
            if let Some(v) = reply.negotiated {
                negotiated.store(v as u8, Ordering::Release);
            }
            if let Some(body) = reply.body {
                let _ = tx.send(body).await;
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    drop(tx);
    let _ = writer.await;
    Ok(())
}
