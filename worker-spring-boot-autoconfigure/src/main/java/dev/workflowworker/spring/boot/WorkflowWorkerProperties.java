package dev.workflowworker.spring.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.workflowworker.core.schedule.Schedule;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The {@code workflow.worker.*} properties: every engine setting of {@code WorkerConfig},
 * under {@code workflow.worker.redis.*} every setting of {@code RedisOptions}, and under
 * {@code workflow.worker.dashboard.*} the operator's dashboard (off by default). A setting left
 * unset falls back to the seed system's environment variable named on it (read through Spring's
 * {@code Environment}, so {@code WORKER_COUNT=8} works as an environment variable, a system
 * property or an entry of {@code application.properties}; switch this off with
 * {@code workflow.worker.seed-variables=false}), then to the library's default. Durations take
 * Spring's forms ({@code 500ms}, {@code 30s}; a bare number is milliseconds).
 *
 * <p>Each engine setting is handed to the {@code WorkerConfig} builder method of its name, each
 * Redis setting to the {@code RedisOptions} builder method of its name, so a setting is declared
 * here once (the {@code @param} text is the description IDEs show) and checked where the library
 * checks it. Spring binds the records through their constructors.
 *
 * @param autoStartup              Whether the workers start when the application is ready; when false the host calls
 *                                 {@code WorkerService.start()}.
 * @param seedVariables            Whether unset settings fall back to the seed system's variables (WORKER_COUNT,
 *                                 REDIS_URL, ...).
 * @param requiredEventTypes       Event types that must have a handler; the context fails to start naming any that
 *                                 has none.
 * @param workerCount              Workers per service, each with its own consumer; default the number of CPU cores.
 *                                 Seed variable: WORKER_COUNT.
 * @param pollInterval             Longest a blocking read waits for new entries; default 1s. Seed variable:
 *                                 POLL_INTERVAL_MS.
 * @param batchSize                Entries read per poll; default 10. Seed variable: BATCH_SIZE.
 * @param maxRetries               Retries of one event before it is dead-lettered; default 3. Seed variable:
 *                                 MAX_RETRIES.
 * @param concurrencyLimit         Events processed at once per worker; default 5. Seed variable: CONCURRENCY_LIMIT.
 * @param healthCheckInterval      How often unhealthy workers are replaced; default 30s. Seed variable:
 *                                 HEALTH_CHECK_INTERVAL_MS.
 * @param metricsReportingInterval How often a metrics line is logged; default 60s. Seed variable:
 *                                 METRICS_REPORTING_INTERVAL_MS.
 * @param lockTtl                  Lease of an execution's lock, renewed every third of it; default 30s. Seed
 *                                 variable: LOCK_TTL_MS.
 * @param claimIdle                Idle time after which a dead worker's events are reclaimed; default 30s. Seed
 *                                 variable: CLAIM_IDLE_MS.
 * @param shutdownTimeout          How long shutdown waits for in-flight events; default 30s. Seed variable:
 *                                 SHUTDOWN_TIMEOUT_MS.
 * @param initialBackoff           First recoverable retry delay; default 1s. Seed variable: RETRY_INITIAL_DELAY_MS.
 * @param maxBackoff               Cap of the retry delay before jitter; default 30s. Seed variable:
 *                                 RETRY_MAX_DELAY_MS.
 * @param transientBackoff         First pause before a transient failure is retried in place; default 50ms.
 * @param lockContentionDelay      Delay before an event whose lock is busy is redelivered; default 50ms.
 * @param eventTimeout             How long a handler has before its context reports the deadline passed; default
 *                                 10m.
 * @param heartbeatTimeout         How stale a worker's loop heartbeat may get before it counts as unhealthy.
 * @param degradedFailureRatio     Failure ratio over the health window above which a worker is degraded; default
 *                                 0.5.
 * @param redis                    The Redis transport's settings.
 * @param tracing                  Tracing settings, used when OpenTelemetry is on the classpath.
 * @param dashboard                The operator's dashboard, served only when worker-dashboard is present and it is
 *                                 enabled.
 * @param schedules                Recurring schedules by id, created or updated in the stream when the application is
 *                                 ready; an unchanged one is not rewritten. See docs/time.md.
 * @param schedulesPrune           Whether schedules this application declared earlier and no longer declares are
 *                                 deleted when it is ready; default false: they are left as they are, and logged.
 * @param schedulesOwner           The name that marks the schedules this application declared (as
 *                                 "spring:" + the name), so that pruning deletes only its own; default
 *                                 spring.application.name, else "application". Give each application sharing a
 *                                 stream its own.
 */
@ConfigurationProperties(prefix = "workflow.worker")
public record WorkflowWorkerProperties(
        @DefaultValue("true") boolean autoStartup,
        @DefaultValue("true") boolean seedVariables,
        @DefaultValue List<String> requiredEventTypes,
        Integer workerCount,
        Duration pollInterval,
        Integer batchSize,
        Integer maxRetries,
        Integer concurrencyLimit,
        Duration healthCheckInterval,
        Duration metricsReportingInterval,
        Duration lockTtl,
        Duration claimIdle,
        Duration shutdownTimeout,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration transientBackoff,
        Duration lockContentionDelay,
        Duration eventTimeout,
        Duration heartbeatTimeout,
        Double degradedFailureRatio,
        @DefaultValue Redis redis,
        @DefaultValue Tracing tracing,
        @DefaultValue Dashboard dashboard,
        @DefaultValue Map<String, DeclaredSchedule> schedules,
        boolean schedulesPrune,
        String schedulesOwner) {

    /**
     * The {@code workflow.worker.redis.*} properties: the settings of {@code RedisOptions}.
     *
     * @param url                 redis[s]://[[user]:password@]host[:port][/database]; rediss is TLS; default
     *                            redis://localhost:6379. Seed variable: REDIS_URL.
     * @param host                Host, instead of or on top of the URL.
     * @param port                Port.
     * @param user                ACL user.
     * @param password            Password.
     * @param database            Database number.
     * @param ssl                 Whether to connect with TLS.
     * @param trustStore          Trust store for TLS, when the JDK's default trust does not cover the server.
     * @param trustStorePassword  Password of the trust store.
     * @param trustStoreType      Type of the trust store, e.g. PKCS12; default the JDK's default type.
     * @param keyPrefix           Prefix of the library's own keys (locks, markers, fencing counter); default
     *                            workflow:.
     * @param stream              Stream the workers read; default workflow:events:global. Seed variable:
     *                            WORKER_STREAM.
     * @param deadLetterStream    Dead-letter stream; default the stream's name followed by :dlq.
     * @param retryKey            Sorted set of retries waiting; default the stream's name followed by :retry.
     * @param group               Consumer group; default workflow-processors. Seed variable: WORKER_GROUP.
     * @param groupStartId        Where a new consumer group starts: 0 (the beginning, default) or $ (new entries
     *                            only).
     * @param connectTimeout      Connect timeout; default 2s.
     * @param socketTimeout       Socket timeout; default 2s.
     * @param poolSize            Connections in the shared pool; default 16.
     * @param processedTtl        How long a completed event's marker is kept; default 24h.
     * @param deadLetterMaxLength Approximate cap of the dead-letter stream; default 100000.
     * @param maxPayloadBytes     Largest payload_json and headers_json, in UTF-8 bytes; default 1 MiB.
     * @param retryPollInterval   How often due retries are moved back to the stream; default 100ms.
     * @param trimInterval        How often the stream is trimmed; default 1m.
     * @param consumerRetention   How long an idle consumer of the group is kept; default 10m.
     * @param partitions          Partitions of the stream: P (default 16) for the ordered mode, events of one
     *                            execution in order; 0 for one shared stream, the unordered mode for independent
     *                            events. Seed variable: WORKER_PARTITIONS.
     * @param partitionLeaseTtl   How long a partition's lease lasts without renewal; default 10s.
     * @param commitLinger        Partitioned: how long a worker's commit may wait for its other running handlers
     *                            when few are running, so their successes commit together; default 1ms, 0 to
     *                            100ms, 0 commits at once.
     * @param waitReplicas        Replicas that must confirm every publish and outcome (Redis WAIT) before it
     *                            counts; 0 (default) waits for none. See docs/redis-cluster.md.
     *                            Seed variable: REDIS_WAIT_REPLICAS.
     * @param waitTimeout         How long a write waits for wait-replicas replicas; default 1s. Seed variable:
     *                            REDIS_WAIT_TIMEOUT_MS.
     */
    public record Redis(
            String url,
            String host,
            Integer port,
            String user,
            String password,
            Integer database,
            Boolean ssl,
            Path trustStore,
            String trustStorePassword,
            String trustStoreType,
            String keyPrefix,
            String stream,
            String deadLetterStream,
            String retryKey,
            String group,
            String groupStartId,
            Duration connectTimeout,
            Duration socketTimeout,
            Integer poolSize,
            Duration processedTtl,
            Long deadLetterMaxLength,
            Integer maxPayloadBytes,
            Duration retryPollInterval,
            Duration trimInterval,
            Duration consumerRetention,
            Integer partitions,
            Duration partitionLeaseTtl,
            Duration commitLinger,
            Integer waitReplicas,
            Duration waitTimeout) {

        @Override
        public String toString() {
            // the record's own would show the passwords in logs and failure reports
            return "Redis[" + Settings.describe(this) + "]";
        }
    }

    /**
     * One recurring schedule under {@code workflow.worker.schedules.<id>.*}, the id being the map
     * key (letters, digits and {@code . _ - : /}; write an id with dots or slashes in brackets:
     * {@code workflow.worker.schedules[sla.report].cron}). Each setting goes to the
     * {@code Schedule.Builder} method of its name; unset ones keep the library's defaults.
     *
     * @param cron             A cron expression: five fields, six with seconds first, or a macro such as @daily.
     *                         Set this or every.
     * @param every            A fixed interval, at least 1s, counted from start or the epoch. Set this or cron.
     * @param zone             The IANA zone cron times are read in, e.g. Europe/Berlin; default UTC.
     * @param eventType        The type of each occurrence's event; a @WorkflowHandler of this application must
     *                         handle it.
     * @param eventName        The name of each occurrence's event.
     * @param executionId      The execution every occurrence belongs to: occurrences then run in order, one at a
     *                         time.
     * @param tenant           The tenant of each occurrence's event.
     * @param payload          The payload of each occurrence's event (strings, nested maps).
     * @param start            No occurrence before this instant (ISO-8601, e.g. 2026-01-01T00:00:00Z).
     * @param end              No occurrence after this instant.
     * @param limit            How many occurrences fire in all; default 0, no limit.
     * @param jitter           Each occurrence fires up to this much after its time, the same on every server;
     *                         default 0.
     * @param misfire          What happens to occurrences missed while nothing could fire them: FIRE_ONCE
     *                         (default), FIRE_ALL or SKIP.
     * @param misfireThreshold How late an occurrence may fire and still count as on time; default 1m.
     * @param catchUpWindow    How far back FIRE_ALL fires missed occurrences; default 1h.
     * @param overlap          What happens when an occurrence is due while the previous one runs: ALLOW
     *                         (default), SKIP or BUFFER_ONE.
     * @param gap              What a cron time in a spring-forward gap does: SHIFT (default) or SKIP.
     * @param paused           true pauses the schedule, false resumes it; unset, a new schedule runs and an
     *                         existing one keeps the state an operator gave it.
     */
    public record DeclaredSchedule(
            String cron,
            Duration every,
            String zone,
            String eventType,
            String eventName,
            String executionId,
            String tenant,
            Map<String, Object> payload,
            Instant start,
            Instant end,
            Long limit,
            Duration jitter,
            Schedule.Misfire misfire,
            Duration misfireThreshold,
            Duration catchUpWindow,
            Schedule.Overlap overlap,
            Schedule.Gap gap,
            Boolean paused) {
    }

    /**
     * The {@code workflow.worker.tracing.*} properties.
     *
     * @param enabled  Whether processing and publishing are traced when OpenTelemetry is present.
     * @param relation Whether an attempt's span has the producer's span as parent (PARENT) or starts a new trace
     *                 linked to it (LINK).
     */
    public record Tracing(@DefaultValue("true") boolean enabled, @DefaultValue("PARENT") String relation) {
    }

    /**
     * The {@code workflow.worker.dashboard.*} properties: where and how the operator's page of
     * worker-dashboard is served, and the settings of its builder. Off unless
     * {@code enabled} is true.
     *
     * @param enabled                 Whether the operator's dashboard (worker-dashboard) is served in a servlet
     *                                application. Off by default: the page shows dead-letter payloads, errors and
     *                                stacks, which may hold personal or secret data, to anyone who can reach the
     *                                path; protect it (e.g. with Spring Security) before switching it on.
     * @param path                    Where the dashboard is mounted; the page is at this path plus a slash.
     * @param actions                 Whether the page may replay and purge dead letters and pause, resume and scale
     *                                the service; default false (read-only). Needs a token or
     *                                trust-host-authentication. Seed variable: DASHBOARD_ACTIONS.
     * @param token                   The operator token actions must carry in the X-Dashboard-Token header, at
     *                                least 16 characters. Seed variable: DASHBOARD_TOKEN.
     * @param trustHostAuthentication Whether a user the host authenticated (the request's principal, e.g. from
     *                                Spring Security) may act without the token.
     * @param replayRatePerSecond     Dead letters "replay all" sends back per second, at least 1; default 50.
     * @param searchBudget            Dead letters one search request reads at most, at least 100; default 500.
     * @param sampleInterval          How often the throughput chart samples the service's counters, at least
     *                                100ms; default 5s.
     * @param history                 How far back the throughput chart reaches; default 15m.
     */
    public record Dashboard(
            boolean enabled,
            @DefaultValue("/dashboard") String path,
            Boolean actions,
            String token,
            boolean trustHostAuthentication,
            Integer replayRatePerSecond,
            Integer searchBudget,
            Duration sampleInterval,
            Duration history) {

        @Override
        public String toString() {
            // the record's own would show the token in logs and failure reports
            return "Dashboard[" + Settings.describe(this) + "]";
        }
    }
}
