package dev.workflowworker.spring.boot;

import dev.workflowworker.core.ConfigBuilder;
import dev.workflowworker.core.WorkerConfig;
import org.springframework.core.env.Environment;

import java.util.function.Consumer;

/** Builds the library's settings objects: properties over seed variables over defaults. */
final class Settings {

    private Settings() {
    }

    static WorkerConfig workerConfig(WorkflowWorkerProperties p, Environment environment) {
        WorkerConfig.Builder b = WorkerConfig.builder()
                .config(WorkerConfig.fromEnvironment(SeedVariables.of(environment, p.isSeedVariables())));
        apply(b, p);
        try {
            return b.build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new IllegalArgumentException("workflow.worker.*: " + e.getMessage(), e);
        }
    }

    static <B extends ConfigBuilder<B>> void apply(ConfigBuilder<B> b, WorkflowWorkerProperties p) {
        set("worker-count", p.getWorkerCount(), b::workerCount);
        set("poll-interval", p.getPollInterval(), b::pollInterval);
        set("batch-size", p.getBatchSize(), b::batchSize);
        set("max-retries", p.getMaxRetries(), b::maxRetries);
        set("concurrency-limit", p.getConcurrencyLimit(), b::concurrencyLimit);
        set("health-check-interval", p.getHealthCheckInterval(), b::healthCheckInterval);
        set("metrics-reporting-interval", p.getMetricsReportingInterval(), b::metricsReportingInterval);
        set("lock-ttl", p.getLockTtl(), b::lockTtl);
        set("claim-idle", p.getClaimIdle(), b::claimIdle);
        set("shutdown-timeout", p.getShutdownTimeout(), b::shutdownTimeout);
        set("initial-backoff", p.getInitialBackoff(), b::initialBackoff);
        set("max-backoff", p.getMaxBackoff(), b::maxBackoff);
        set("transient-backoff", p.getTransientBackoff(), b::transientBackoff);
        set("lock-contention-delay", p.getLockContentionDelay(), b::lockContentionDelay);
        set("event-timeout", p.getEventTimeout(), b::eventTimeout);
        set("heartbeat-timeout", p.getHeartbeatTimeout(), b::heartbeatTimeout);
        set("degraded-failure-ratio", p.getDegradedFailureRatio(), b::degradedFailureRatio);
    }

    static <T> void set(String name, T value, Consumer<T> setter) {
        if (value == null) {
            return;
        }
        try {
            setter.accept(value);
        } catch (IllegalArgumentException e) {
            String shown = name.endsWith("password") || name.endsWith("url") || name.endsWith("token")
                    ? "(masked)" : String.valueOf(value);
            throw new IllegalArgumentException("workflow.worker." + name + "=" + shown + " is invalid: " + e.getMessage(), e);
        }
    }
}
