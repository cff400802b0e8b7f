//! A PostgreSQL source's `replicas:` (each `{host, port}`, with its own `user`, `password` and
//! `database` when they differ from the source's) and `maxReplicaLag`.

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::env;
use crate::model::Replica;
use crate::yaml;

impl Reader<'_> {
    /// Reads `replicas` and `maxReplicaLag` of a server source. `postgres`: only PostgreSQL
    /// sources take them; on MySQL both are refused with a hint.
    pub(super) fn replicas(&mut self, obj: &mut Obj<'_>, postgres: bool) -> (Vec<Replica>, Option<Spanned<String>>) {
        if !postgres && !obj.known_present("replicas") && !obj.known_present("maxReplicaLag") {
            // Not listed among MySQL's fields in the hint for an unknown one.
            return (Vec::new(), None);
        }
        let list = obj.take("replicas");
        let lag = obj.string("maxReplicaLag", &mut self.diags);
        if !postgres {
            for pos in list.map(|(_, pos)| pos).into_iter().chain(lag.as_ref().map(|l| l.pos)) {
                self.diags.push(
                    Diagnostic::new(pos, "read replicas are supported on `postgres` sources only").with_hint(
                        "remove `replicas` and `maxReplicaLag`, or point a load balancer of your own at the replicas",
                    ),
                );
            }
            return (Vec::new(), None);
        }
        let what = obj.what.clone();
        let mut replicas = Vec::new();
        if let Some((node, _)) = list {
            match yaml::as_seq(node) {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(r) = self.replica(item, &format!("replica {} of {what}", i + 1)) {
                            replicas.push(r);
                        }
                    }
                }
                None => self.diags.push(
                    Diagnostic::new(
                        yaml::pos(node),
                        format!("`replicas` of {what} must be a list, found {}", yaml::describe(node)),
                    )
                    .with_hint("write one `- {host: ..., port: ...}` entry per replica"),
                ),
            }
        }
        if let Some(v) = &lag {
            self.check_deferred(v);
            if env::placeholders(&v.value).is_empty() && crate::duration::parse(&v.value, false).is_none() {
                self.diags.push(
                    Diagnostic::new(v.pos, format!("`maxReplicaLag` `{}` is not a duration", v.value))
                        .with_hint("write a duration such as `5s`, `500ms`, `1m`"),
                );
            }
            if replicas.is_empty() {
                self.diags.push(
                    Diagnostic::new(v.pos, format!("`maxReplicaLag` of {what} without `replicas`"))
                        .with_hint("list the replicas under `replicas:`, or remove `maxReplicaLag`"),
                );
            }
        }
        (replicas, lag)
    }

    fn replica(&mut self, node: &yaml::Node, what: &str) -> Option<Replica> {
        let mut obj = Obj::new(node, what.to_string(), false, &mut self.diags)?;
        let host = obj.required_string("host", &mut self.diags);
        let port = obj.string("port", &mut self.diags);
        let user = obj.string("user", &mut self.diags);
        let password = obj.string("password", &mut self.diags);
        let database = obj.string("database", &mut self.diags);
        let pos = obj.pos;
        obj.finish(&mut self.diags);
        for value in
            [host.as_ref(), port.as_ref(), user.as_ref(), password.as_ref(), database.as_ref()].into_iter().flatten()
        {
            self.check_deferred(value);
        }
        Some(Replica { pos, host: host?, port, user, password, database })
    }
}
