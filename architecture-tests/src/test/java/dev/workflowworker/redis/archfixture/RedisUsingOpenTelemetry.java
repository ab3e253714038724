package dev.workflowworker.redis.archfixture;

import io.opentelemetry.api.trace.Tracer;

/** Breaks the host-frameworks rule: the transport reaching for tracing. */
public final class RedisUsingOpenTelemetry {

    private Tracer tracer;

    public Tracer tracer() {
        return tracer;
    }
}
