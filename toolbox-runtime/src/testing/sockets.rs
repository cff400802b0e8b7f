//! This process's own TCP sockets, read back from `/proc/self/fd`, for tests that check the
//! options the runtime sets on sockets it does not hand out (a driver's connections, accepted ones).

use socket2::SockRef;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

/// One open TCP socket of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// Whether TCP_NODELAY is set (Nagle's algorithm off).
    pub nodelay: bool,
}

/// The connected TCP sockets of this process whose local or peer port is `port`.
pub fn tcp_sockets(port: u16) -> Vec<TcpSocket> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return found };
    for entry in entries.flatten() {
        let is_socket =
            std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if !is_socket {
            continue;
        }
        // SAFETY: only used for the getsockopt/getsockname calls below, while this function runs.
        // Another thread may close the descriptor meanwhile (or reuse the number): the calls then
        // fail, or read another socket's options, and neither touches memory.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&fd);
        let (Ok(local), Ok(peer), Ok(nodelay)) = (socket.local_addr(), socket.peer_addr(), socket.tcp_nodelay()) else {
            continue;
        };
        let (Some(local), Some(peer)) = (local.as_socket(), peer.as_socket()) else { continue };
        if local.port() == port || peer.port() == port {
            found.push(TcpSocket { local, peer, nodelay });
        }
    }
    found
}

/// Panics unless this process has a TCP socket to `server_port` from one of `client_ports`, and
/// every such socket has TCP_NODELAY set: a request/response protocol must not wait for the
/// peer's delayed ACK (about 40 ms on Linux) before sending a second small write.
pub fn assert_nodelay(server_port: u16, client_ports: &[u16], what: &str) {
    let ours: Vec<_> =
        tcp_sockets(server_port).into_iter().filter(|s| client_ports.contains(&s.local.port())).collect();
    assert!(!ours.is_empty(), "{what}: none of the connections from ports {client_ports:?} is in this process");
    assert!(ours.iter().all(|s| s.nodelay), "{what}: TCP_NODELAY is off: {ours:?}");
}
