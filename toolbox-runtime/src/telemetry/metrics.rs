//! The instruments, one OpenTelemetry meter behind both outlets: a periodic OTLP/HTTP export
//! (`--telemetry-otlp`) and the Prometheus text of `GET /metrics` (`--metrics`), rendered on
//! each scrape by the OpenTelemetry Prometheus exporter (dots become underscores, the unit
//! becomes a suffix, counters end in `_total`).
//!
//! | instrument | kind, unit | attributes |
//! |---|---|---|
//! | `mcp.server.operation.duration` | histogram, s | `mcp.method.name`, `mcp.protocol.version`, `network.transport`, `toolset.name`, `gen_ai.tool.name`, `gen_ai.operation.name`, `error.type` |
//! | `toolbox.tool.execution.duration` | histogram, s | `gen_ai.tool.name`, `toolset.name`, `outcome`, `error.type` |
//! | `toolbox.tool.calls` | counter | `gen_ai.tool.name`, `toolset.name`, `outcome` |
//! | `toolbox.tool.rows` | counter | `gen_ai.tool.name` |
//! | `toolbox.tool.truncated` | counter | `gen_ai.tool.name` |
//! | `db.client.connection.count` | gauge | `db.client.connection.pool.name`, `db.client.connection.state` (`idle`, `used`) |
//! | `db.client.connection.max` | gauge | `db.client.connection.pool.name` |
//! | `db.client.connection.pending_requests` | gauge | `db.client.connection.pool.name` |
//! | `toolbox.auth.cache.lookups` | counter | `cache` (`jwks`, `introspection`), `result` (`hit`, `miss`) |
//! | `toolbox.auth.fetch.failures` | counter | `kind` (`discovery`, `jwks`, `introspection`) |
//!
//! Tool names in attributes are only ever the toolbox's own (a made-up name in a call is not
//! one), so the number of series is bounded by the tools.yaml.

use super::trace::RequestInfo;
use super::{ErrorType, Outcome, ToolCall};
use crate::db::Sources;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use std::sync::Arc;
use std::time::Duration;

/// The bucket boundaries the MCP semantic conventions give `mcp.server.operation.duration`.
const DURATION_BUCKETS: [f64; 14] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

pub(super) struct Metrics {
    provider: SdkMeterProvider,
    registry: Option<prometheus::Registry>,
    operation: Histogram<f64>,
    tool_duration: Histogram<f64>,
    tool_calls: Counter<u64>,
    rows: Counter<u64>,
    truncated: Counter<u64>,
    auth: AuthCounters,
}

impl Metrics {
    /// The meter provider with its readers: Prometheus when `prometheus`, OTLP when `otlp` is
    /// given (`Some(None)`: where the `OTEL_EXPORTER_OTLP_*` variables say). The export interval
    /// is the SDK's (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s by default).
    pub(super) fn start(
        resource: opentelemetry_sdk::Resource,
        prometheus: bool,
        otlp: Option<Option<&str>>,
        sources: Arc<Sources>,
    ) -> Result<Self, String> {
        let mut builder = SdkMeterProvider::builder().with_resource(resource);
        let registry = if prometheus {
            let registry = prometheus::Registry::new();
            let exporter = opentelemetry_prometheus::exporter()
                .with_registry(registry.clone())
                .scope_info_enabled(false)
                .build()
                .map_err(|e| format!("cannot start the Prometheus exporter: {e}"))?;
            builder = builder.with_reader(exporter);
            Some(registry)
        } else {
            None
        };
        if let Some(endpoint) = otlp {
            let mut exporter = opentelemetry_otlp::MetricExporter::builder().with_http();
            if let Some(endpoint) = endpoint {
                exporter = exporter.with_endpoint(format!("{}/v1/metrics", endpoint.trim_end_matches('/')));
            }
            let exporter = exporter.build().map_err(|e| format!("cannot start the OTLP metric exporter: {e}"))?;
            builder = builder.with_reader(PeriodicReader::builder(exporter).build());
        }
        let provider = builder.build();
        let meter = provider.meter("toolbox");
        let seconds = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build()
        };
        let metrics = Self {
            operation: seconds("mcp.server.operation.duration", "MCP requests, from routing to the answer"),
            tool_duration: seconds("toolbox.tool.execution.duration", "Tool calls, from the checks to the result"),
            tool_calls: meter.u64_counter("toolbox.tool.calls").with_description("Tool calls by outcome").build(),
            rows: meter.u64_counter("toolbox.tool.rows").with_description("Rows returned by tool calls").build(),
            truncated: meter
                .u64_counter("toolbox.tool.truncated")
                .with_description("Tool results with rows left out (maxRows or the response size limit)")
                .build(),
            provider,
            registry,
            auth: AuthCounters::default(),
        };
        register_pools(&meter, sources);
        let auth = AuthCounters(Some(Arc::new(AuthInstruments {
            lookups: meter
                .u64_counter("toolbox.auth.cache.lookups")
                .with_description("Lookups of signing keys (jwks) and introspection verdicts in their caches")
                .build(),
            failures: meter
                .u64_counter("toolbox.auth.fetch.failures")
                .with_description("Failed fetches of authorization server metadata, keys and introspection")
                .build(),
        })));
        Ok(Self { auth, ..metrics })
    }

    pub(super) fn render(&self) -> Option<String> {
        let registry = self.registry.as_ref()?;
        let mut out = String::new();
        match prometheus::TextEncoder::new().encode_utf8(&registry.gather(), &mut out) {
            Ok(()) => Some(out),
            Err(e) => {
                tracing::warn!("cannot render the metrics: {e}");
                None
            }
        }
    }

    pub(super) fn auth_counters(&self) -> AuthCounters {
        self.auth.clone()
    }

    pub(super) fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }

    pub(super) fn operation(&self, request: &RequestInfo<'_>, error: Option<ErrorType>, elapsed: Duration) {
        let transport = if request.stdio { "pipe" } else { "tcp" };
        let mut attributes = Vec::with_capacity(7);
        attributes.extend([
            KeyValue::new("mcp.method.name", request.method),
            KeyValue::new("mcp.protocol.version", request.version),
            KeyValue::new("network.transport", transport),
            KeyValue::new("toolset.name", request.toolset),
        ]);
        if let Some(tool) = request.tool {
            attributes.push(KeyValue::new("gen_ai.tool.name", tool));
            attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        }
        match error {
            Some(ErrorType::Tool) => attributes.push(KeyValue::new("error.type", "tool_error")),
            Some(ErrorType::Rpc(code)) => attributes.push(KeyValue::new("error.type", code.to_string())),
            None => {}
        }
        self.operation.record(elapsed.as_secs_f64(), &attributes);
    }

    pub(super) fn tool(&self, call: &ToolCall<'_>, elapsed: Duration) {
        let outcome = call.outcome.as_str();
        let base = [
            KeyValue::new("gen_ai.tool.name", call.tool),
            KeyValue::new("toolset.name", call.toolset),
            KeyValue::new("outcome", outcome),
        ];
        self.tool_calls.add(1, &base);
        if call.outcome == Outcome::Ok {
            self.tool_duration.record(elapsed.as_secs_f64(), &base);
        } else {
            let [a, b, c] = base;
            self.tool_duration.record(elapsed.as_secs_f64(), &[a, b, c, KeyValue::new("error.type", outcome)]);
        }
        let (rows, truncated) = call.rows();
        let tool = [KeyValue::new("gen_ai.tool.name", call.tool)];
        if rows > 0 {
            self.rows.add(rows, &tool);
        }
        if truncated {
            self.truncated.add(1, &tool);
        }
    }
}

/// The pool gauges, read from the sources when the meter collects.
fn register_pools(meter: &Meter, sources: Arc<Sources>) {
    let pool = |name: &'static str| KeyValue::new("db.client.connection.pool.name", name);
    let s = sources.clone();
    meter
        .u64_observable_gauge("db.client.connection.count")
        .with_description("Connections of each source's pool, by state")
        .with_callback(move |observer| {
            for (name, stats) in s.stats() {
                observer.observe(stats.idle, &[pool(name), KeyValue::new("db.client.connection.state", "idle")]);
                observer.observe(stats.used, &[pool(name), KeyValue::new("db.client.connection.state", "used")]);
            }
        })
        .build();
    let s = sources.clone();
    meter
        .u64_observable_gauge("db.client.connection.max")
        .with_description("The most connections each source's pool opens")
        .with_callback(move |observer| {
            for (name, stats) in s.stats() {
                observer.observe(stats.max, &[pool(name)]);
            }
        })
        .build();
    meter
        .u64_observable_gauge("db.client.connection.pending_requests")
        .with_description("Calls waiting for a connection of each source's pool")
        .with_callback(move |observer| {
            for (name, stats) in sources.stats() {
                observer.observe(stats.waiting, &[pool(name)]);
            }
        })
        .build();
}

/// The auth code's counters, handed to it at start-up (`AuthOptions::counters`); the default
/// counts nothing.
#[derive(Clone, Default)]
pub struct AuthCounters(Option<Arc<AuthInstruments>>);

struct AuthInstruments {
    lookups: Counter<u64>,
    failures: Counter<u64>,
}

impl std::fmt::Debug for AuthCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "AuthCounters(on)" } else { "AuthCounters(off)" })
    }
}

impl AuthCounters {
    /// A lookup in an auth cache (`jwks` or `introspection`): a hit, or a miss.
    pub fn lookup(&self, cache: &'static str, hit: bool) {
        if let Some(auth) = &self.0 {
            auth.lookups
                .add(1, &[KeyValue::new("cache", cache), KeyValue::new("result", if hit { "hit" } else { "miss" })]);
        }
    }

    /// A failed request to an authorization server (`discovery`, `jwks` or `introspection`).
    pub fn fetch_failed(&self, kind: &'static str) {
        if let Some(auth) = &self.0 {
            auth.failures.add(1, &[KeyValue::new("kind", kind)]);
        }
    }
}
