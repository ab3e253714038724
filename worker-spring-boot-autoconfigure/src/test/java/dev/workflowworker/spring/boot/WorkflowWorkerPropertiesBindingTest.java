package dev.workflowworker.spring.boot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.core.WorkerConfig;
import dev.workflowworker.redis.RedisOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.RecordComponent;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every {@code workflow.worker.*} property, bound by Spring into the records and handed to the
 * library's builders: each reaches its setting, falls back to its seed variable when unset, and
 * an invalid value fails naming the property.
 */
class WorkflowWorkerPropertiesBindingTest {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(WorkflowWorkerProperties.class)
    static class Bound {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Bound.class);

    /**
     * A property, a value of it, and what the library's settings object must then hold; the seed
     * variable of the same setting with its own value, where there is one; and a value the
     * library refuses, where there is one.
     */
    record Row(String property, String value, Function<Object, Object> read, Object expected,
               String seedVariable, String seedValue, Object expectedFromSeed, String invalid) {

        boolean redis() {
            return property.startsWith("redis.");
        }
    }

    private static Row engine(String property, String value, Function<WorkerConfig, Object> read, Object expected,
                              String seedVariable, String seedValue, Object expectedFromSeed, String invalid) {
        return new Row(property, value, c -> read.apply((WorkerConfig) c), expected, seedVariable, seedValue,
                expectedFromSeed, invalid);
    }

    private static Row redis(String property, String value, Function<RedisOptions, Object> read, Object expected,
                             String seedVariable, String seedValue, Object expectedFromSeed, String invalid) {
        return new Row("redis." + property, value, o -> read.apply((RedisOptions) o), expected, seedVariable,
                seedValue, expectedFromSeed, invalid);
    }

    private static final List<Row> ROWS = List.of(
            engine("worker-count", "3", WorkerConfig::workerCount, 3, "WORKER_COUNT", "6", 6, "0"),
            engine("poll-interval", "250ms", WorkerConfig::pollInterval, Duration.ofMillis(250),
                    "POLL_INTERVAL_MS", "300", Duration.ofMillis(300), "0s"),
            engine("batch-size", "7", WorkerConfig::batchSize, 7, "BATCH_SIZE", "42", 42, "0"),
            engine("max-retries", "0", WorkerConfig::maxRetries, 0, "MAX_RETRIES", "8", 8, "-1"),
            engine("concurrency-limit", "2", WorkerConfig::concurrencyLimit, 2, "CONCURRENCY_LIMIT", "9", 9, "0"),
            engine("health-check-interval", "2s", WorkerConfig::healthCheckInterval, Duration.ofSeconds(2),
                    "HEALTH_CHECK_INTERVAL_MS", "4000", Duration.ofSeconds(4), "-1s"),
            engine("metrics-reporting-interval", "3m", WorkerConfig::metricsReportingInterval, Duration.ofMinutes(3),
                    "METRICS_REPORTING_INTERVAL_MS", "5000", Duration.ofSeconds(5), "0ms"),
            // a bare number is milliseconds, as Spring reads durations
            engine("lock-ttl", "9000", WorkerConfig::lockTtl, Duration.ofSeconds(9),
                    "LOCK_TTL_MS", "12000", Duration.ofSeconds(12), "1ms"),
            engine("claim-idle", "45s", WorkerConfig::claimIdle, Duration.ofSeconds(45),
                    "CLAIM_IDLE_MS", "50000", Duration.ofSeconds(50), "5ms"),
            engine("shutdown-timeout", "0s", WorkerConfig::shutdownTimeout, Duration.ZERO,
                    "SHUTDOWN_TIMEOUT_MS", "7000", Duration.ofSeconds(7), "-1s"),
            engine("initial-backoff", "200ms", WorkerConfig::initialBackoff, Duration.ofMillis(200),
                    "RETRY_INITIAL_DELAY_MS", "300", Duration.ofMillis(300), "-1ms"),
            engine("max-backoff", "5s", WorkerConfig::maxBackoff, Duration.ofSeconds(5),
                    "RETRY_MAX_DELAY_MS", "6000", Duration.ofSeconds(6), "-1ms"),
            engine("transient-backoff", "10ms", WorkerConfig::transientBackoff, Duration.ofMillis(10),
                    null, null, null, "-1ms"),
            engine("lock-contention-delay", "20ms", WorkerConfig::lockContentionDelay, Duration.ofMillis(20),
                    null, null, null, "-1ms"),
            engine("event-timeout", "1m", WorkerConfig::eventTimeout, Duration.ofMinutes(1), null, null, null, "0s"),
            engine("heartbeat-timeout", "40s", WorkerConfig::heartbeatTimeout, Duration.ofSeconds(40),
                    null, null, null, "0s"),
            engine("degraded-failure-ratio", "0.25", WorkerConfig::degradedFailureRatio, 0.25,
                    null, null, null, "1.5"),
            redis("host", "redis.internal", RedisOptions::host, "redis.internal", null, null, null, ""),
            redis("port", "6400", RedisOptions::port, 6400, null, null, null, "0"),
            redis("user", "bob", RedisOptions::user, "bob", null, null, null, null),
            redis("password", "s3cret", RedisOptions::hasPassword, true, null, null, null, null),
            redis("database", "3", RedisOptions::database, 3, null, null, null, "-1"),
            redis("ssl", "true", RedisOptions::ssl, true, null, null, null, null),
            redis("key-prefix", "wf:", RedisOptions::keyPrefix, "wf:", null, null, null, ""),
            redis("stream", "orders", RedisOptions::stream, "orders", "WORKER_STREAM", "invoices", "invoices", ""),
            redis("dead-letter-stream", "orders:dead", RedisOptions::deadLetterStream, "orders:dead",
                    null, null, null, ""),
            redis("retry-key", "orders:later", RedisOptions::retryKey, "orders:later", null, null, null, ""),
            redis("group", "billing", RedisOptions::group, "billing", "WORKER_GROUP", "audit", "audit", ""),
            redis("group-start-id", "$", RedisOptions::groupStartId, "$", null, null, null, "12"),
            redis("connect-timeout", "3s", RedisOptions::connectTimeout, Duration.ofSeconds(3), null, null, null, "0s"),
            redis("socket-timeout", "4s", RedisOptions::socketTimeout, Duration.ofSeconds(4), null, null, null, "0s"),
            redis("pool-size", "5", RedisOptions::poolSize, 5, null, null, null, "0"),
            redis("processed-ttl", "2h", RedisOptions::processedTtl, Duration.ofHours(2), null, null, null, "0s"),
            redis("dead-letter-max-length", "500", RedisOptions::deadLetterMaxLength, 500L, null, null, null, "0"),
            redis("max-payload-bytes", "2048", RedisOptions::maxPayloadBytes, 2048, null, null, null, "0"),
            redis("retry-poll-interval", "250ms", RedisOptions::retryPollInterval, Duration.ofMillis(250),
                    null, null, null, "0s"),
            redis("trim-interval", "2m", RedisOptions::trimInterval, Duration.ofMinutes(2), null, null, null, "0s"),
            redis("consumer-retention", "20m", RedisOptions::consumerRetention, Duration.ofMinutes(20),
                    null, null, null, "0s"),
            redis("partitions", "4", RedisOptions::partitions, 4, "WORKER_PARTITIONS", "8", 8, "-1"),
            redis("partition-lease-ttl", "3s", RedisOptions::partitionLeaseTtl, Duration.ofSeconds(3),
                    null, null, null, "10ms"),
            redis("commit-linger", "5ms", RedisOptions::commitLinger, Duration.ofMillis(5), null, null, null, "101ms"),
            redis("wait-replicas", "1", RedisOptions::waitReplicas, 1, "REDIS_WAIT_REPLICAS", "2", 2, "-1"),
            redis("wait-timeout", "250ms", RedisOptions::waitTimeout, Duration.ofMillis(250),
                    "REDIS_WAIT_TIMEOUT_MS", "400", Duration.ofMillis(400), "0s"));

    /** What the starter reads itself, or what a test of its own covers (the URL and the trust store below). */
    private static final Set<String> COVERED_ELSEWHERE = Set.of("auto-startup", "seed-variables",
            "required-event-types", "redis.url", "redis.trust-store", "redis.trust-store-password",
            "redis.trust-store-type",
            // DeclaredSchedulesTest
            "schedules", "schedules-prune", "schedules-owner");

    private Object built(org.springframework.context.ApplicationContext context, boolean redis) {
        WorkflowWorkerProperties p = context.getBean(WorkflowWorkerProperties.class);
        return redis ? RedisSettings.redisOptions(p, context.getEnvironment())
                : Settings.workerConfig(p, context.getEnvironment());
    }

    private static Object defaults(Row row) {
        return row.redis() ? RedisOptions.builder().build() : WorkerConfig.defaults();
    }

    private static String[] withPrefix(List<String> properties) {
        return properties.stream().map(p -> "workflow.worker." + p).toArray(String[]::new);
    }

    @Test
    void everyPropertyReachesItsSetting() {
        List<String> all = ROWS.stream().map(r -> r.property() + "=" + r.value()).collect(Collectors.toList());
        runner.withPropertyValues(withPrefix(all)).run(context -> {
            for (Row row : ROWS) {
                assertNotEquals(row.expected(), row.read().apply(defaults(row)), row.property() + ": pick another value");
                assertEquals(row.expected(), row.read().apply(built(context, row.redis())), row.property());
            }
        });
    }

    @Test
    void everyEngineAndRedisPropertyIsInTheTable() {
        Set<String> declared = new TreeSet<>(leaves("", WorkflowWorkerProperties.class));
        declared.removeIf(p -> p.startsWith("tracing.") || p.startsWith("dashboard."));
        declared.removeAll(COVERED_ELSEWHERE);
        assertEquals(declared, ROWS.stream().map(Row::property).collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void eachSeedVariableAppliesWhenItsPropertyIsUnsetAndThePropertyWinsOverIt() {
        for (Row row : ROWS) {
            if (row.seedVariable() == null) {
                continue;
            }
            String seed = row.seedVariable() + "=" + row.seedValue();
            runner.withPropertyValues(seed).run(context ->
                    assertEquals(row.expectedFromSeed(), row.read().apply(built(context, row.redis())), seed));
            runner.withPropertyValues(seed, "workflow.worker." + row.property() + "=" + row.value()).run(context ->
                    assertEquals(row.expected(), row.read().apply(built(context, row.redis())), row.property()));
            runner.withPropertyValues(seed, "workflow.worker.seed-variables=false").run(context ->
                    assertEquals(row.read().apply(defaults(row)),
                            row.read().apply(built(context, row.redis())), seed + " with seed-variables=false"));
        }
    }

    @Test
    void anInvalidValueFailsNamingThePropertyAndTheValue() {
        for (Row row : ROWS) {
            if (row.invalid() == null) {
                continue;
            }
            String property = "workflow.worker." + row.property();
            runner.withPropertyValues(property + "=" + row.invalid()).run(context -> {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> built(context, row.redis()), property);
                // a duration is shown as bound (PT0S), a secret masked
                assertTrue(e.getMessage().startsWith(property + "="), e.getMessage());
                assertTrue(e.getMessage().contains(" is invalid: "), e.getMessage());
            });
        }
    }

    @Test
    void theUrlSetsTheConnectionAndTheSeparatePropertiesOverrideIt() {
        runner.withPropertyValues("workflow.worker.redis.url=rediss://alice:pw@cache.internal:6390/4").run(context -> {
            RedisOptions o = (RedisOptions) built(context, true);
            assertEquals(List.of("cache.internal", 6390, "alice", true, 4, true),
                    List.of(o.host(), o.port(), o.user(), o.hasPassword(), o.database(), o.ssl()));
        });
        runner.withPropertyValues("workflow.worker.redis.url=redis://cache.internal:6390/4",
                "workflow.worker.redis.port=6391", "REDIS_URL=redis://elsewhere:1").run(context -> {
                    RedisOptions o = (RedisOptions) built(context, true);
                    assertEquals("cache.internal", o.host(), "the property beats REDIS_URL");
                    assertEquals(6391, o.port());
                });
        runner.withPropertyValues("REDIS_URL=redis://elsewhere:1").run(context ->
                assertEquals("elsewhere", ((RedisOptions) built(context, true)).host()));
        runner.withPropertyValues("workflow.worker.redis.url=http://bob:TopSecret42@host:1").run(context -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> built(context, true));
            assertTrue(e.getMessage().startsWith("workflow.worker.redis.url=(masked) is invalid: "), e.getMessage());
            assertFalse(e.getMessage().contains("TopSecret42"), e.getMessage());
        });
    }

    @Test
    void theTrustStoreIsReadWithItsPasswordAndType(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("trust.p12");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (OutputStream out = Files.newOutputStream(store)) {
            ks.store(out, "changeit".toCharArray());
        }
        String at = "workflow.worker.redis.trust-store=" + store;
        runner.withPropertyValues(at, "workflow.worker.redis.trust-store-password=changeit",
                "workflow.worker.redis.trust-store-type=PKCS12").run(context -> {
                    RedisOptions o = (RedisOptions) built(context, true);
                    assertNotNull(o.sslSocketFactory());
                    assertTrue(o.ssl(), "a trust store implies TLS");
                });
        for (String wrong : List.of("workflow.worker.redis.trust-store-password=wrong",
                "workflow.worker.redis.trust-store-type=NO-SUCH-TYPE")) {
            runner.withPropertyValues(at, "workflow.worker.redis.trust-store-password=changeit", wrong).run(context -> {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> built(context, true));
                assertTrue(e.getMessage().startsWith(at + " is invalid: "), wrong + ": " + e.getMessage());
            });
        }
    }

    @Test
    void unsetPropertiesKeepTheStartersDefaults() {
        runner.run(context -> {
            WorkflowWorkerProperties p = context.getBean(WorkflowWorkerProperties.class);
            assertTrue(p.autoStartup());
            assertTrue(p.seedVariables());
            assertEquals(List.of(), p.requiredEventTypes());
            assertTrue(p.tracing().enabled());
            assertEquals("PARENT", p.tracing().relation());
            assertFalse(p.dashboard().enabled());
            assertEquals("/dashboard", p.dashboard().path());
            assertNull(p.redis().url());
            assertEquals(WorkerConfig.defaults().toString(), Settings.workerConfig(p, context.getEnvironment()).toString());
        });
        runner.withPropertyValues("workflow.worker.auto-startup=false", "workflow.worker.seed-variables=false",
                "workflow.worker.required-event-types=A,B", "workflow.worker.tracing.enabled=false",
                "workflow.worker.tracing.relation=LINK", "workflow.worker.dashboard.enabled=true",
                "workflow.worker.dashboard.path=/ops").run(context -> {
                    WorkflowWorkerProperties p = context.getBean(WorkflowWorkerProperties.class);
                    assertEquals(List.of(false, false, List.of("A", "B"), false, "LINK", true, "/ops"),
                            List.of(p.autoStartup(), p.seedVariables(), p.requiredEventTypes(), p.tracing().enabled(),
                                    p.tracing().relation(), p.dashboard().enabled(), p.dashboard().path()));
                });
    }

    @Test
    void secretsAreMaskedWhenThePropertiesArePrinted() {
        runner.withPropertyValues("workflow.worker.redis.password=TopSecret42",
                "workflow.worker.redis.url=redis://:TopSecret42@h", "workflow.worker.redis.trust-store-password=TopSecret42",
                "workflow.worker.dashboard.token=TopSecret42TopSecret42").run(context -> {
                    String printed = context.getBean(WorkflowWorkerProperties.class).toString();
                    assertFalse(printed.contains("TopSecret42"), printed);
                    assertTrue(printed.contains("password=(masked)"), printed);
                });
    }

    @Test
    void theIdeMetadataDescribesEveryProperty() throws Exception {
        JsonNode metadata = null;
        for (URL url : Collections.list(getClass().getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json"))) {
            try (InputStream in = url.openStream()) {
                JsonNode node = new ObjectMapper().readTree(in);
                if (node.path("groups").toString().contains(WorkflowWorkerProperties.class.getName())) {
                    metadata = node;
                }
            }
        }
        assertNotNull(metadata, "the configuration processor's metadata of " + WorkflowWorkerProperties.class);
        List<String> undescribed = new ArrayList<>();
        Set<String> listed = new TreeSet<>();
        for (JsonNode p : metadata.path("properties")) {
            listed.add(p.path("name").asText());
            if (p.path("description").asText().isBlank()) {
                undescribed.add(p.path("name").asText());
            }
        }
        assertEquals(List.of(), undescribed, "properties without a description");
        Set<String> declared = leaves("workflow.worker.", WorkflowWorkerProperties.class);
        assertTrue(listed.containsAll(declared), "missing: " + declared.stream().filter(d -> !listed.contains(d)).toList());
    }

    /** {@return the property names of a properties record's components, nested records' ones below theirs} */
    private static Set<String> leaves(String prefix, Class<?> type) {
        Set<String> names = new TreeSet<>();
        for (RecordComponent c : type.getRecordComponents()) {
            String name = prefix + Settings.kebab(c.getName());
            if (c.getType().isRecord()) {
                names.addAll(leaves(name + ".", c.getType()));
            } else {
                names.add(name);
            }
        }
        return names;
    }
}
