//! `kind: toolset` and `kind: group` (a named group may list prompts, and has cache settings).

use super::Reader;
use super::obj::Obj;
use crate::diag::{Diagnostic, Spanned};
use crate::model::*;
use crate::yaml;
use serde_json::Value;

impl Reader<'_> {
    pub(super) fn toolset(&mut self, name: Spanned<String>, mut obj: Obj<'_>, group: bool) {
        let tools = obj.string_list("tools", &mut self.diags);
        let description = obj.string("description", &mut self.diags).map(|d| self.resolve_now(d).value);
        let (prompts, ttl_ms, cache_private) = if group {
            let prompts = obj.string_list("prompts", &mut self.diags);
            let ttl = obj.take("ttlMs").and_then(|(n, _)| match yaml::to_json(n).as_ref().and_then(Value::as_u64) {
                Some(v) => Some(v),
                None => {
                    self.error(yaml::pos(n), "`ttlMs` must be a whole number of milliseconds, 0 or more");
                    None
                }
            });
            let scope = obj.string("cacheScope", &mut self.diags).and_then(|s| match s.value.as_str() {
                "public" => Some(false),
                "private" => Some(true),
                other => {
                    self.diags.push(
                        Diagnostic::new(s.pos, format!("`cacheScope` must be `public` or `private`, found `{other}`"))
                            .with_hint("use `private` when what the group lists depends on who asks"),
                    );
                    None
                }
            });
            (prompts, ttl, scope)
        } else {
            (Vec::new(), None, None)
        };
        obj.finish(&mut self.diags);
        self.config.toolsets.push(Toolset { name, tools, prompts, description, ttl_ms, cache_private });
    }
}
