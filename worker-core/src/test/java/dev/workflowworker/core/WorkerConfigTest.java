package dev.workflowworker.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerConfigTest {

    @Test
    void defaultsFollowTheSeed() {
        WorkerConfig c = WorkerConfig.fromEnvironment(Map.of());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.workerCount());
        assertEquals(Duration.ofMillis(1000), c.pollInterval());
        assertEquals(10, c.batchSize());
        assertEquals(3, c.maxRetries());
        assertEquals(5, c.concurrencyLimit());
        assertEquals(Duration.ofMillis(30_000), c.healthCheckInterval());
        assertEquals(Duration.ofMillis(60_000), c.metricsReportingInterval());
    }

    @Test
    void readsEveryVariable() {
        Map<String, String> env = new HashMap<>();
        env.put("WORKER_COUNT", "7");
        env.put("POLL_INTERVAL_MS", "250");
        env.put("BATCH_SIZE", "50");
        env.put("MAX_RETRIES", "0");
        env.put("CONCURRENCY_LIMIT", "9");
        env.put("HEALTH_CHECK_INTERVAL_MS", "1000");
        env.put("METRICS_REPORTING_INTERVAL_MS", "2000");
        env.put("LOCK_TTL_MS", "9000");
        env.put("CLAIM_IDLE_MS", "12000");
        env.put("SHUTDOWN_TIMEOUT_MS", "0");
        env.put("RETRY_INITIAL_DELAY_MS", "10");
        env.put("RETRY_MAX_DELAY_MS", "20");
        WorkerConfig c = WorkerConfig.fromEnvironment(env);
        assertEquals(7, c.workerCount());
        assertEquals(Duration.ofMillis(250), c.pollInterval());
        assertEquals(50, c.batchSize());
        assertEquals(0, c.maxRetries());
        assertEquals(9, c.concurrencyLimit());
        assertEquals(Duration.ofSeconds(1), c.healthCheckInterval());
        assertEquals(Duration.ofSeconds(2), c.metricsReportingInterval());
        assertEquals(Duration.ofSeconds(9), c.lockTtl());
        assertEquals(Duration.ofSeconds(12), c.claimIdle());
        assertEquals(Duration.ZERO, c.shutdownTimeout());
        assertEquals(Duration.ofMillis(10), c.initialBackoff());
        assertEquals(Duration.ofMillis(20), c.maxBackoff());
    }

    @Test
    void transportSettingsCannotBeSetOnTheEngine() {
        // The transport reads its own stream, group and store; a copy here would be ignored silently.
        Set<String> transportSettings = Set.of("stream", "group", "redisUrl");
        for (Class<?> type : List.of(WorkerConfig.class, WorkerConfig.Builder.class, WorkerService.Builder.class)) {
            for (Method m : type.getMethods()) {
                assertFalse(transportSettings.contains(m.getName()), type.getSimpleName() + "." + m.getName());
            }
        }
        assertFalse(WorkerConfig.fromEnvironment(Map.of("WORKER_STREAM", "orders", "REDIS_URL", "redis://secret@h"))
                .toString().contains("orders"));
    }

    @ParameterizedTest
    @CsvSource({
            "WORKER_COUNT, abc",
            "WORKER_COUNT, 0",
            "WORKER_COUNT, -1",
            "WORKER_COUNT, 1.5",
            "BATCH_SIZE, 0",
            "BATCH_SIZE, ten",
            "MAX_RETRIES, -1",
            "CONCURRENCY_LIMIT, 0",
            "POLL_INTERVAL_MS, -5",
            "POLL_INTERVAL_MS, 0",
            "HEALTH_CHECK_INTERVAL_MS, -1",
            "METRICS_REPORTING_INTERVAL_MS, soon",
            "LOCK_TTL_MS, 1",
            "CLAIM_IDLE_MS, -100",
            "SHUTDOWN_TIMEOUT_MS, -1",
            "RETRY_INITIAL_DELAY_MS, x",
    })
    void malformedVariableFailsNamingVariableAndValue(String name, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.fromEnvironment(Map.of(name, value)));
        assertTrue(e.getMessage().startsWith(name + "=" + value + " is invalid"), e.getMessage());
    }

    @Test
    void inconsistentVariablesFailNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerConfig.fromEnvironment(Map.of("RETRY_INITIAL_DELAY_MS", "5000", "RETRY_MAX_DELAY_MS", "10")));
        assertTrue(e.getMessage().contains("maxBackoff") && e.getMessage().contains("initialBackoff"), e.getMessage());
    }

    @Test
    void builderSettersNameTheSetting() {
        WorkerConfig.Builder b = WorkerConfig.builder();
        assertMessage("workerCount", assertThrows(IllegalArgumentException.class, () -> b.workerCount(0)));
        assertMessage("batchSize", assertThrows(IllegalArgumentException.class, () -> b.batchSize(-3)));
        assertMessage("maxRetries", assertThrows(IllegalArgumentException.class, () -> b.maxRetries(-1)));
        assertMessage("concurrencyLimit", assertThrows(IllegalArgumentException.class, () -> b.concurrencyLimit(0)));
        assertMessage("pollInterval", assertThrows(IllegalArgumentException.class, () -> b.pollInterval(Duration.ZERO)));
        assertMessage("pollInterval", assertThrows(NullPointerException.class, () -> b.pollInterval(null)));
        assertMessage("healthCheckInterval",
                assertThrows(IllegalArgumentException.class, () -> b.healthCheckInterval(Duration.ofMillis(-1))));
        assertMessage("metricsReportingInterval",
                assertThrows(IllegalArgumentException.class, () -> b.metricsReportingInterval(Duration.ZERO)));
        assertMessage("lockTtl", assertThrows(IllegalArgumentException.class, () -> b.lockTtl(Duration.ofMillis(5))));
        assertMessage("claimIdle", assertThrows(IllegalArgumentException.class, () -> b.claimIdle(Duration.ZERO)));
        assertMessage("shutdownTimeout",
                assertThrows(IllegalArgumentException.class, () -> b.shutdownTimeout(Duration.ofSeconds(-1))));
        assertMessage("initialBackoff",
                assertThrows(IllegalArgumentException.class, () -> b.initialBackoff(Duration.ofSeconds(-1))));
        assertMessage("degradedFailureRatio", assertThrows(IllegalArgumentException.class, () -> b.degradedFailureRatio(0)));
    }

    @Test
    void combinationsAreCheckedInBuild() {
        assertMessage("heartbeatTimeout", assertThrows(IllegalStateException.class, () -> WorkerConfig.builder()
                .pollInterval(Duration.ofSeconds(5)).heartbeatTimeout(Duration.ofSeconds(1)).build()));
        assertMessage("maxBackoff", assertThrows(IllegalStateException.class, () -> WorkerConfig.builder()
                .initialBackoff(Duration.ofSeconds(5)).maxBackoff(Duration.ofSeconds(1)).build()));
    }

    @Test
    void configReplacesEarlierSettingsAndLaterOnesOverrideIt() {
        WorkerConfig env = WorkerConfig.fromEnvironment(Map.of("WORKER_COUNT", "7", "BATCH_SIZE", "50"));
        WorkerConfig c = WorkerConfig.builder().workerCount(2).config(env).batchSize(3).build();
        assertEquals(7, c.workerCount());
        assertEquals(3, c.batchSize());
    }

    @Test
    void toBuilderRoundTrips() {
        WorkerConfig c = WorkerConfig.builder().workerCount(3).batchSize(4).lockTtl(Duration.ofSeconds(7)).build();
        WorkerConfig d = c.toBuilder().build();
        assertEquals(c.toString(), d.toString());
        assertEquals(Duration.ofSeconds(7), d.lockTtl());
    }

    @Test
    void everySettingIsShownAndSurvivesToBuilder() {
        WorkerConfig c = WorkerConfig.builder().workerCount(3).pollInterval(Duration.ofMillis(200)).batchSize(4)
                .maxRetries(5).concurrencyLimit(6).healthCheckInterval(Duration.ofSeconds(7))
                .metricsReportingInterval(Duration.ofSeconds(8)).lockTtl(Duration.ofSeconds(9))
                .claimIdle(Duration.ofSeconds(10)).shutdownTimeout(Duration.ofSeconds(11))
                .initialBackoff(Duration.ofMillis(12)).maxBackoff(Duration.ofMillis(13))
                .transientBackoff(Duration.ofMillis(14)).lockContentionDelay(Duration.ofMillis(15))
                .eventTimeout(Duration.ofSeconds(16)).heartbeatTimeout(Duration.ofSeconds(17))
                .degradedFailureRatio(0.75).build();
        String shown = c.toString();
        for (Setting<?> s : WorkerConfig.SETTINGS.settings()) {
            assertTrue(shown.contains(s.name() + "="), s.name() + " in " + shown);
        }
        assertTrue(shown.contains("pollInterval=200ms") && shown.contains("degradedFailureRatio=0.75"), shown);
        assertEquals(shown, c.toBuilder().build().toString());
        try (WorkerService service = WorkerService.builder().config(c).runtime(ctx -> { }).build()) {
            assertEquals(shown, service.config().toString());
        }
    }

    private static void assertMessage(String setting, Exception e) {
        assertTrue(e.getMessage() != null && e.getMessage().contains(setting),
                "expected '" + setting + "' in: " + e.getMessage());
    }
}
