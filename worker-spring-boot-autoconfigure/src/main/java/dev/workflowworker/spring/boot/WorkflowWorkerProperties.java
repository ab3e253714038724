package dev.workflowworker.spring.boot;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code workflow.worker.*} properties: every engine setting of {@code WorkerConfig},
 * under {@code workflow.worker.redis.*} every setting of {@code RedisOptions}, and under
 * {@code workflow.worker.dashboard.*} the operator's dashboard (off by default). A setting left
 * unset falls back to the seed system's environment variable named on it (read through Spring's
 * {@code Environment}, so {@code WORKER_COUNT=8} works as an environment variable, a system
 * property or an entry of {@code application.properties}; switch this off with
 * {@code workflow.worker.seed-variables=false}), then to the library's default. Durations take
 * Spring's forms ({@code 500ms}, {@code 30s}; a bare number is milliseconds).
 */
@ConfigurationProperties(prefix = "workflow.worker")
public class WorkflowWorkerProperties {

    /** Creates the properties with nothing set; Spring binds them. */
    public WorkflowWorkerProperties() {
    }

    /** Whether the workers start when the application is ready; when false the host calls {@code WorkerService.start()}. */
    private boolean autoStartup = true;

    /** Whether unset settings fall back to the seed system's variables (WORKER_COUNT, REDIS_URL, ...). */
    private boolean seedVariables = true;

    /** Event types that must have a handler; the context fails to start naming any that has none. */
    private List<String> requiredEventTypes = new ArrayList<>();

    /** Workers per service, each with its own consumer; default the number of CPU cores. Seed variable: WORKER_COUNT. */
    private Integer workerCount;

    /** Longest a blocking read waits for new entries; default 1s. Seed variable: POLL_INTERVAL_MS. */
    private Duration pollInterval;

    /** Entries read per poll; default 10. Seed variable: BATCH_SIZE. */
    private Integer batchSize;

    /** Retries of one event before it is dead-lettered; default 3. Seed variable: MAX_RETRIES. */
    private Integer maxRetries;

    /** Events processed at once per worker; default 5. Seed variable: CONCURRENCY_LIMIT. */
    private Integer concurrencyLimit;

    /** How often unhealthy workers are replaced; default 30s. Seed variable: HEALTH_CHECK_INTERVAL_MS. */
    private Duration healthCheckInterval;

    /** How often a metrics line is logged; default 60s. Seed variable: METRICS_REPORTING_INTERVAL_MS. */
    private Duration metricsReportingInterval;

    /** Lease of an execution's lock, renewed every third of it; default 30s. Seed variable: LOCK_TTL_MS. */
    private Duration lockTtl;

    /** Idle time after which a dead worker's events are reclaimed; default 30s. Seed variable: CLAIM_IDLE_MS. */
    private Duration claimIdle;

    /** How long shutdown waits for in-flight events; default 30s. Seed variable: SHUTDOWN_TIMEOUT_MS. */
    private Duration shutdownTimeout;

    /** First recoverable retry delay; default 1s. Seed variable: RETRY_INITIAL_DELAY_MS. */
    private Duration initialBackoff;

    /** Cap of the retry delay before jitter; default 30s. Seed variable: RETRY_MAX_DELAY_MS. */
    private Duration maxBackoff;

    /** First pause before a transient failure is retried in place; default 50ms. */
    private Duration transientBackoff;

    /** Delay before an event whose lock is busy is redelivered; default 50ms. */
    private Duration lockContentionDelay;

    /** How long a handler has before its context reports the deadline passed; default 10m. */
    private Duration eventTimeout;

    /** How stale a worker's loop heartbeat may get before it counts as unhealthy. */
    private Duration heartbeatTimeout;

    /** Failure ratio over the health window above which a worker is degraded; default 0.5. */
    private Double degradedFailureRatio;

    /** The Redis transport's settings. */
    private final Redis redis = new Redis();

    /** Tracing settings, used when OpenTelemetry is on the classpath. */
    private final Tracing tracing = new Tracing();

    /** The operator's dashboard, served only when worker-dashboard is present and it is enabled. */
    private final Dashboard dashboard = new Dashboard();

    /** {@return whether the workers start when the application is ready} */
    public boolean isAutoStartup() {
        return autoStartup;
    }

    /**
     * Sets whether the workers start when the application is ready.
     *
     * @param autoStartup false to start them by hand
     */
    public void setAutoStartup(boolean autoStartup) {
        this.autoStartup = autoStartup;
    }

    /** {@return whether unset settings fall back to the seed system's variables} */
    public boolean isSeedVariables() {
        return seedVariables;
    }

    /**
     * Sets whether unset settings fall back to the seed system's variables.
     *
     * @param seedVariables false to ignore WORKER_COUNT, REDIS_URL and the others
     */
    public void setSeedVariables(boolean seedVariables) {
        this.seedVariables = seedVariables;
    }

    /** {@return the event types that must have a handler} */
    public List<String> getRequiredEventTypes() {
        return requiredEventTypes;
    }

    /**
     * Sets the event types that must have a handler.
     *
     * @param requiredEventTypes the event types
     */
    public void setRequiredEventTypes(List<String> requiredEventTypes) {
        this.requiredEventTypes = requiredEventTypes;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the workerCount setting
     */
    public Integer getWorkerCount() {
        return workerCount;
    }

    /**
     * Sets the setting.
     *
     * @param workerCount the value; null to keep the default
     */
    public void setWorkerCount(Integer workerCount) {
        this.workerCount = workerCount;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the pollInterval setting
     */
    public Duration getPollInterval() {
        return pollInterval;
    }

    /**
     * Sets the setting.
     *
     * @param pollInterval the value; null to keep the default
     */
    public void setPollInterval(Duration pollInterval) {
        this.pollInterval = pollInterval;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the batchSize setting
     */
    public Integer getBatchSize() {
        return batchSize;
    }

    /**
     * Sets the setting.
     *
     * @param batchSize the value; null to keep the default
     */
    public void setBatchSize(Integer batchSize) {
        this.batchSize = batchSize;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the maxRetries setting
     */
    public Integer getMaxRetries() {
        return maxRetries;
    }

    /**
     * Sets the setting.
     *
     * @param maxRetries the value; null to keep the default
     */
    public void setMaxRetries(Integer maxRetries) {
        this.maxRetries = maxRetries;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the concurrencyLimit setting
     */
    public Integer getConcurrencyLimit() {
        return concurrencyLimit;
    }

    /**
     * Sets the setting.
     *
     * @param concurrencyLimit the value; null to keep the default
     */
    public void setConcurrencyLimit(Integer concurrencyLimit) {
        this.concurrencyLimit = concurrencyLimit;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the healthCheckInterval setting
     */
    public Duration getHealthCheckInterval() {
        return healthCheckInterval;
    }

    /**
     * Sets the setting.
     *
     * @param healthCheckInterval the value; null to keep the default
     */
    public void setHealthCheckInterval(Duration healthCheckInterval) {
        this.healthCheckInterval = healthCheckInterval;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the metricsReportingInterval setting
     */
    public Duration getMetricsReportingInterval() {
        return metricsReportingInterval;
    }

    /**
     * Sets the setting.
     *
     * @param metricsReportingInterval the value; null to keep the default
     */
    public void setMetricsReportingInterval(Duration metricsReportingInterval) {
        this.metricsReportingInterval = metricsReportingInterval;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the lockTtl setting
     */
    public Duration getLockTtl() {
        return lockTtl;
    }

    /**
     * Sets the setting.
     *
     * @param lockTtl the value; null to keep the default
     */
    public void setLockTtl(Duration lockTtl) {
        this.lockTtl = lockTtl;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the claimIdle setting
     */
    public Duration getClaimIdle() {
        return claimIdle;
    }

    /**
     * Sets the setting.
     *
     * @param claimIdle the value; null to keep the default
     */
    public void setClaimIdle(Duration claimIdle) {
        this.claimIdle = claimIdle;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the shutdownTimeout setting
     */
    public Duration getShutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * Sets the setting.
     *
     * @param shutdownTimeout the value; null to keep the default
     */
    public void setShutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the initialBackoff setting
     */
    public Duration getInitialBackoff() {
        return initialBackoff;
    }

    /**
     * Sets the setting.
     *
     * @param initialBackoff the value; null to keep the default
     */
    public void setInitialBackoff(Duration initialBackoff) {
        this.initialBackoff = initialBackoff;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the maxBackoff setting
     */
    public Duration getMaxBackoff() {
        return maxBackoff;
    }

    /**
     * Sets the setting.
     *
     * @param maxBackoff the value; null to keep the default
     */
    public void setMaxBackoff(Duration maxBackoff) {
        this.maxBackoff = maxBackoff;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the transientBackoff setting
     */
    public Duration getTransientBackoff() {
        return transientBackoff;
    }

    /**
     * Sets the setting.
     *
     * @param transientBackoff the value; null to keep the default
     */
    public void setTransientBackoff(Duration transientBackoff) {
        this.transientBackoff = transientBackoff;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the lockContentionDelay setting
     */
    public Duration getLockContentionDelay() {
        return lockContentionDelay;
    }

    /**
     * Sets the setting.
     *
     * @param lockContentionDelay the value; null to keep the default
     */
    public void setLockContentionDelay(Duration lockContentionDelay) {
        this.lockContentionDelay = lockContentionDelay;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the eventTimeout setting
     */
    public Duration getEventTimeout() {
        return eventTimeout;
    }

    /**
     * Sets the setting.
     *
     * @param eventTimeout the value; null to keep the default
     */
    public void setEventTimeout(Duration eventTimeout) {
        this.eventTimeout = eventTimeout;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the heartbeatTimeout setting
     */
    public Duration getHeartbeatTimeout() {
        return heartbeatTimeout;
    }

    /**
     * Sets the setting.
     *
     * @param heartbeatTimeout the value; null to keep the default
     */
    public void setHeartbeatTimeout(Duration heartbeatTimeout) {
        this.heartbeatTimeout = heartbeatTimeout;
    }

    /**
     * Returns the setting, null when not set.
     *
     * @return the degradedFailureRatio setting
     */
    public Double getDegradedFailureRatio() {
        return degradedFailureRatio;
    }

    /**
     * Sets the setting.
     *
     * @param degradedFailureRatio the value; null to keep the default
     */
    public void setDegradedFailureRatio(Double degradedFailureRatio) {
        this.degradedFailureRatio = degradedFailureRatio;
    }

    /** {@return the Redis settings} */
    public Redis getRedis() {
        return redis;
    }

    /** {@return the tracing settings} */
    public Tracing getTracing() {
        return tracing;
    }

    /** {@return the dashboard settings} */
    public Dashboard getDashboard() {
        return dashboard;
    }

    /** The {@code workflow.worker.redis.*} properties: the settings of {@code RedisOptions}. */
    public static class Redis {

        /** Creates the Redis properties with nothing set. */
        public Redis() {
        }

        /** redis[s]://[[user]:password@]host[:port][/database]; rediss is TLS; default redis://localhost:6379. Seed variable: REDIS_URL. */
        private String url;

        /** Host, instead of or on top of the URL. */
        private String host;

        /** Port. */
        private Integer port;

        /** ACL user. */
        private String user;

        /** Password. */
        private String password;

        /** Database number. */
        private Integer database;

        /** Whether to connect with TLS. */
        private Boolean ssl;

        /** Trust store for TLS, when the JDK's default trust does not cover the server. */
        private java.nio.file.Path trustStore;

        /** Password of the trust store. */
        private String trustStorePassword;

        /** Type of the trust store, e.g. PKCS12; default the JDK's default type. */
        private String trustStoreType;

        /** Prefix of the library's own keys (locks, markers, fencing counter); default workflow:. */
        private String keyPrefix;

        /** Stream the workers read; default workflow:events:global. Seed variable: WORKER_STREAM. */
        private String stream;

        /** Dead-letter stream; default <stream>:dlq. */
        private String deadLetterStream;

        /** Sorted set of retries waiting; default <stream>:retry. */
        private String retryKey;

        /** Consumer group; default workflow-processors. Seed variable: WORKER_GROUP. */
        private String group;

        /** Where a new consumer group starts: 0 (the beginning, default) or $ (new entries only). */
        private String groupStartId;

        /** Connect timeout; default 2s. */
        private Duration connectTimeout;

        /** Socket timeout; default 2s. */
        private Duration socketTimeout;

        /** Connections in the shared pool; default 16. */
        private Integer poolSize;

        /** How long a completed event's marker is kept; default 24h. */
        private Duration processedTtl;

        /** Approximate cap of the dead-letter stream; default 100000. */
        private Long deadLetterMaxLength;

        /** Largest payload_json and headers_json, in UTF-8 bytes; default 1 MiB. */
        private Integer maxPayloadBytes;

        /** How often due retries are moved back to the stream; default 100ms. */
        private Duration retryPollInterval;

        /** How often the stream is trimmed; default 1m. */
        private Duration trimInterval;

        /** How long an idle consumer of the group is kept; default 10m. */
        private Duration consumerRetention;

        /**
         * Partitions of the stream: 0 (default) for one shared stream, P for P partitions with
         * events of one execution in order. Seed variable: WORKER_PARTITIONS.
         */
        private Integer partitions;

        /** How long a partition's lease lasts without renewal; default 10s. */
        private Duration partitionLeaseTtl;

        /**
         * Replicas that must confirm every publish and outcome (Redis WAIT) before it counts; 0
         * (default) waits for none. See the README, "Running on Redis Cluster". Seed variable:
         * REDIS_WAIT_REPLICAS.
         */
        private Integer waitReplicas;

        /** How long a write waits for wait-replicas replicas; default 1s. Seed variable: REDIS_WAIT_TIMEOUT_MS. */
        private Duration waitTimeout;

        /**
         * Returns the setting, null when not set.
         *
         * @return the url setting
         */
        public String getUrl() {
            return url;
        }

        /**
         * Sets the setting.
         *
         * @param url the value; null to keep the default
         */
        public void setUrl(String url) {
            this.url = url;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the host setting
         */
        public String getHost() {
            return host;
        }

        /**
         * Sets the setting.
         *
         * @param host the value; null to keep the default
         */
        public void setHost(String host) {
            this.host = host;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the port setting
         */
        public Integer getPort() {
            return port;
        }

        /**
         * Sets the setting.
         *
         * @param port the value; null to keep the default
         */
        public void setPort(Integer port) {
            this.port = port;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the user setting
         */
        public String getUser() {
            return user;
        }

        /**
         * Sets the setting.
         *
         * @param user the value; null to keep the default
         */
        public void setUser(String user) {
            this.user = user;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the password setting
         */
        public String getPassword() {
            return password;
        }

        /**
         * Sets the setting.
         *
         * @param password the value; null to keep the default
         */
        public void setPassword(String password) {
            this.password = password;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the database setting
         */
        public Integer getDatabase() {
            return database;
        }

        /**
         * Sets the setting.
         *
         * @param database the value; null to keep the default
         */
        public void setDatabase(Integer database) {
            this.database = database;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the ssl setting
         */
        public Boolean getSsl() {
            return ssl;
        }

        /**
         * Sets the setting.
         *
         * @param ssl the value; null to keep the default
         */
        public void setSsl(Boolean ssl) {
            this.ssl = ssl;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the trustStore setting
         */
        public java.nio.file.Path getTrustStore() {
            return trustStore;
        }

        /**
         * Sets the setting.
         *
         * @param trustStore the value; null to keep the default
         */
        public void setTrustStore(java.nio.file.Path trustStore) {
            this.trustStore = trustStore;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the trustStorePassword setting
         */
        public String getTrustStorePassword() {
            return trustStorePassword;
        }

        /**
         * Sets the setting.
         *
         * @param trustStorePassword the value; null to keep the default
         */
        public void setTrustStorePassword(String trustStorePassword) {
            this.trustStorePassword = trustStorePassword;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the trustStoreType setting
         */
        public String getTrustStoreType() {
            return trustStoreType;
        }

        /**
         * Sets the setting.
         *
         * @param trustStoreType the value; null to keep the default
         */
        public void setTrustStoreType(String trustStoreType) {
            this.trustStoreType = trustStoreType;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the keyPrefix setting
         */
        public String getKeyPrefix() {
            return keyPrefix;
        }

        /**
         * Sets the setting.
         *
         * @param keyPrefix the value; null to keep the default
         */
        public void setKeyPrefix(String keyPrefix) {
            this.keyPrefix = keyPrefix;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the stream setting
         */
        public String getStream() {
            return stream;
        }

        /**
         * Sets the setting.
         *
         * @param stream the value; null to keep the default
         */
        public void setStream(String stream) {
            this.stream = stream;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the deadLetterStream setting
         */
        public String getDeadLetterStream() {
            return deadLetterStream;
        }

        /**
         * Sets the setting.
         *
         * @param deadLetterStream the value; null to keep the default
         */
        public void setDeadLetterStream(String deadLetterStream) {
            this.deadLetterStream = deadLetterStream;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the retryKey setting
         */
        public String getRetryKey() {
            return retryKey;
        }

        /**
         * Sets the setting.
         *
         * @param retryKey the value; null to keep the default
         */
        public void setRetryKey(String retryKey) {
            this.retryKey = retryKey;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the group setting
         */
        public String getGroup() {
            return group;
        }

        /**
         * Sets the setting.
         *
         * @param group the value; null to keep the default
         */
        public void setGroup(String group) {
            this.group = group;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the groupStartId setting
         */
        public String getGroupStartId() {
            return groupStartId;
        }

        /**
         * Sets the setting.
         *
         * @param groupStartId the value; null to keep the default
         */
        public void setGroupStartId(String groupStartId) {
            this.groupStartId = groupStartId;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the connectTimeout setting
         */
        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        /**
         * Sets the setting.
         *
         * @param connectTimeout the value; null to keep the default
         */
        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the socketTimeout setting
         */
        public Duration getSocketTimeout() {
            return socketTimeout;
        }

        /**
         * Sets the setting.
         *
         * @param socketTimeout the value; null to keep the default
         */
        public void setSocketTimeout(Duration socketTimeout) {
            this.socketTimeout = socketTimeout;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the poolSize setting
         */
        public Integer getPoolSize() {
            return poolSize;
        }

        /**
         * Sets the setting.
         *
         * @param poolSize the value; null to keep the default
         */
        public void setPoolSize(Integer poolSize) {
            this.poolSize = poolSize;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the processedTtl setting
         */
        public Duration getProcessedTtl() {
            return processedTtl;
        }

        /**
         * Sets the setting.
         *
         * @param processedTtl the value; null to keep the default
         */
        public void setProcessedTtl(Duration processedTtl) {
            this.processedTtl = processedTtl;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the deadLetterMaxLength setting
         */
        public Long getDeadLetterMaxLength() {
            return deadLetterMaxLength;
        }

        /**
         * Sets the setting.
         *
         * @param deadLetterMaxLength the value; null to keep the default
         */
        public void setDeadLetterMaxLength(Long deadLetterMaxLength) {
            this.deadLetterMaxLength = deadLetterMaxLength;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the maxPayloadBytes setting
         */
        public Integer getMaxPayloadBytes() {
            return maxPayloadBytes;
        }

        /**
         * Sets the setting.
         *
         * @param maxPayloadBytes the value; null to keep the default
         */
        public void setMaxPayloadBytes(Integer maxPayloadBytes) {
            this.maxPayloadBytes = maxPayloadBytes;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the retryPollInterval setting
         */
        public Duration getRetryPollInterval() {
            return retryPollInterval;
        }

        /**
         * Sets the setting.
         *
         * @param retryPollInterval the value; null to keep the default
         */
        public void setRetryPollInterval(Duration retryPollInterval) {
            this.retryPollInterval = retryPollInterval;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the trimInterval setting
         */
        public Duration getTrimInterval() {
            return trimInterval;
        }

        /**
         * Sets the setting.
         *
         * @param trimInterval the value; null to keep the default
         */
        public void setTrimInterval(Duration trimInterval) {
            this.trimInterval = trimInterval;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the consumerRetention setting
         */
        public Duration getConsumerRetention() {
            return consumerRetention;
        }

        /**
         * Sets the setting.
         *
         * @param consumerRetention the value; null to keep the default
         */
        public void setConsumerRetention(Duration consumerRetention) {
            this.consumerRetention = consumerRetention;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the partitions setting
         */
        public Integer getPartitions() {
            return partitions;
        }

        /**
         * Sets the setting.
         *
         * @param partitions the value; null to keep the default
         */
        public void setPartitions(Integer partitions) {
            this.partitions = partitions;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the partitionLeaseTtl setting
         */
        public Duration getPartitionLeaseTtl() {
            return partitionLeaseTtl;
        }

        /**
         * Sets the setting.
         *
         * @param partitionLeaseTtl the value; null to keep the default
         */
        public void setPartitionLeaseTtl(Duration partitionLeaseTtl) {
            this.partitionLeaseTtl = partitionLeaseTtl;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the waitReplicas setting
         */
        public Integer getWaitReplicas() {
            return waitReplicas;
        }

        /**
         * Sets the setting.
         *
         * @param waitReplicas the value; null to keep the default
         */
        public void setWaitReplicas(Integer waitReplicas) {
            this.waitReplicas = waitReplicas;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the waitTimeout setting
         */
        public Duration getWaitTimeout() {
            return waitTimeout;
        }

        /**
         * Sets the setting.
         *
         * @param waitTimeout the value; null to keep the default
         */
        public void setWaitTimeout(Duration waitTimeout) {
            this.waitTimeout = waitTimeout;
        }

    }

    /** The {@code workflow.worker.tracing.*} properties. */
    public static class Tracing {

        /** Creates the tracing properties with the defaults. */
        public Tracing() {
        }

        /** Whether processing and publishing are traced when OpenTelemetry is present. */
        private boolean enabled = true;

        /** Whether an attempt's span has the producer's span as parent (PARENT) or starts a new trace linked to it (LINK). */
        private String relation = "PARENT";

        /** {@return whether tracing is on} */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether tracing is on.
         *
         * @param enabled false to leave events untraced
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** {@return PARENT or LINK} */
        public String getRelation() {
            return relation;
        }

        /**
         * Sets how an attempt's span refers to the producer's span.
         *
         * @param relation PARENT or LINK
         */
        public void setRelation(String relation) {
            this.relation = relation;
        }
    }

    /**
     * The {@code workflow.worker.dashboard.*} properties: where and how the operator's page of
     * worker-dashboard is served, and the settings of its builder. Off unless
     * {@code enabled} is true.
     */
    public static class Dashboard {

        /** Creates the dashboard properties with the defaults. */
        public Dashboard() {
        }

        /**
         * Whether the operator's dashboard (worker-dashboard) is served in a servlet application.
         * Off by default: the page shows dead-letter payloads, errors and stacks, which may hold
         * personal or secret data, to anyone who can reach the path; protect it (e.g. with Spring
         * Security) before switching it on.
         */
        private boolean enabled = false;

        /** Where the dashboard is mounted; the page is at this path plus a slash. */
        private String path = "/dashboard";

        /** Whether the page may replay and purge dead letters and pause, resume and scale the service; default false (read-only). Needs a token or trust-host-authentication. Seed variable: DASHBOARD_ACTIONS. */
        private Boolean actions;

        /** The operator token actions must carry in the X-Dashboard-Token header, at least 16 characters. Seed variable: DASHBOARD_TOKEN. */
        private String token;

        /** Whether a user the host authenticated (the request's principal, e.g. from Spring Security) may act without the token. */
        private boolean trustHostAuthentication = false;

        /** Dead letters "replay all" sends back per second, at least 1; default 50. */
        private Integer replayRatePerSecond;

        /** Dead letters one search request reads at most, at least 100; default 500. */
        private Integer searchBudget;

        /** How often the throughput chart samples the service's counters, at least 100ms; default 5s. */
        private Duration sampleInterval;

        /** How far back the throughput chart reaches; default 15m. */
        private Duration history;

        /** {@return whether the dashboard is served} */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the dashboard is served.
         *
         * @param enabled true to serve it; it shows dead-letter payloads
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** {@return the mount point} */
        public String getPath() {
            return path;
        }

        /**
         * Sets the mount point.
         *
         * @param path a path starting with a slash, e.g. {@code /ops/dashboard}
         */
        public void setPath(String path) {
            this.path = path;
        }

        /** {@return whether actions are enabled, null when not set} */
        public Boolean getActions() {
            return actions;
        }

        /**
         * Sets whether actions are enabled.
         *
         * @param actions true to allow replay, purge, pause, resume and scale; null to keep the default
         */
        public void setActions(Boolean actions) {
            this.actions = actions;
        }

        /** {@return the operator token, null when not set} */
        public String getToken() {
            return token;
        }

        /**
         * Sets the operator token.
         *
         * @param token at least 16 characters; null for none
         */
        public void setToken(String token) {
            this.token = token;
        }

        /** {@return whether the host's authentication authorises actions} */
        public boolean isTrustHostAuthentication() {
            return trustHostAuthentication;
        }

        /**
         * Sets whether the host's authentication authorises actions.
         *
         * @param trustHostAuthentication true when the host protects the path with its own login
         */
        public void setTrustHostAuthentication(boolean trustHostAuthentication) {
            this.trustHostAuthentication = trustHostAuthentication;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the replayRatePerSecond setting
         */
        public Integer getReplayRatePerSecond() {
            return replayRatePerSecond;
        }

        /**
         * Sets the setting.
         *
         * @param replayRatePerSecond the value; null to keep the default
         */
        public void setReplayRatePerSecond(Integer replayRatePerSecond) {
            this.replayRatePerSecond = replayRatePerSecond;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the searchBudget setting
         */
        public Integer getSearchBudget() {
            return searchBudget;
        }

        /**
         * Sets the setting.
         *
         * @param searchBudget the value; null to keep the default
         */
        public void setSearchBudget(Integer searchBudget) {
            this.searchBudget = searchBudget;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the sampleInterval setting
         */
        public Duration getSampleInterval() {
            return sampleInterval;
        }

        /**
         * Sets the setting.
         *
         * @param sampleInterval the value; null to keep the default
         */
        public void setSampleInterval(Duration sampleInterval) {
            this.sampleInterval = sampleInterval;
        }

        /**
         * Returns the setting, null when not set.
         *
         * @return the history setting
         */
        public Duration getHistory() {
            return history;
        }

        /**
         * Sets the setting.
         *
         * @param history the value; null to keep the default
         */
        public void setHistory(Duration history) {
            this.history = history;
        }
    }
}
