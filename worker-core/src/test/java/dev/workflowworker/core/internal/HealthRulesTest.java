package dev.workflowworker.core.internal;

import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.WorkerState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.workflowworker.api.HealthStatus.DEGRADED;
import static dev.workflowworker.api.HealthStatus.HEALTHY;
import static dev.workflowworker.api.HealthStatus.UNHEALTHY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthRulesTest {

    private static final HealthRules.Thresholds T =
            new HealthRules.Thresholds(Duration.ofSeconds(10), Duration.ofSeconds(30), 0.5);
    private static final long NOW = 1_000_000;

    private static WorkerStats fresh() {
        WorkerStats s = new WorkerStats(null);
        s.heartbeat(NOW);
        return s;
    }

    @Test
    void runningWorkerWithFreshHeartbeatIsHealthy() {
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, fresh(), NOW, T).status());
    }

    @Test
    void stoppedCrashedOrStaleWorkerIsUnhealthy() {
        assertEquals(UNHEALTHY, HealthRules.worker(WorkerState.STOPPED, null, fresh(), NOW, T).status());
        HealthRules.Verdict crashed = HealthRules.worker(WorkerState.CRASHED, "java.lang.OutOfMemoryError", fresh(), NOW, T);
        assertEquals(UNHEALTHY, crashed.status());
        assertTrue(crashed.reason().contains("OutOfMemoryError"));
        WorkerStats s = fresh();
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 10_000, T).status());
        assertEquals(UNHEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 10_001, T).status());
    }

    @Test
    void recentTransportFailureDegradesOnlyWithinTheWindow() {
        WorkerStats s = fresh();
        s.infraError(NOW, "connection refused");
        HealthRules.Verdict v = HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 1000, T);
        assertEquals(DEGRADED, v.status());
        assertTrue(v.reason().contains("connection refused"));
        s.heartbeat(NOW + 31_000);
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 31_000, T).status());
    }

    @Test
    void aTransportStillUnreachableDegradesPastTheWindowUntilAReadSucceeds() {
        WorkerStats s = fresh();
        long failedAt = NOW - T.window().toMillis() - 60_000;
        s.transportDown(failedAt);
        s.infraError(failedAt, "poll failed: connection refused");
        HealthRules.Verdict down = HealthRules.worker(WorkerState.RUNNING, null, s, NOW, T);
        assertEquals(DEGRADED, down.status(), "the poll backoff may outgrow the window; the outage does not end by itself");
        assertTrue(down.reason().contains("unreachable") && down.reason().contains("connection refused"), down.reason());
        s.transportUp();
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW, T).status());
    }

    @Test
    void highFailureRatioDegradesButOneErrorDoesNot() {
        WorkerStats s = fresh();
        s.failed("boom");
        for (int i = 0; i < 20; i++) {
            s.succeeded();
        }
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW, T).status());
        for (int i = 0; i < 30; i++) {
            s.failed("boom");
        }
        assertEquals(DEGRADED, HealthRules.worker(WorkerState.RUNNING, null, s, NOW, T).status());
        // Two health ticks later the old failures have left the window.
        s.tick();
        s.tick();
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW, T).status());
    }

    @Test
    void saturationForAWholeWindowDegrades() {
        WorkerStats s = fresh();
        s.activated(NOW, 2);
        s.activated(NOW, 2);
        s.heartbeat(NOW + 29_999);
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 29_999, T).status());
        s.heartbeat(NOW + 30_000);
        assertEquals(DEGRADED, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 30_000, T).status());
        s.deactivated(2);
        assertEquals(HEALTHY, HealthRules.worker(WorkerState.RUNNING, null, s, NOW + 30_000, T).status());
    }

    @Test
    void serviceAggregation() {
        assertEquals(HEALTHY, HealthRules.service(List.of(HEALTHY, HEALTHY), 2, 2));
        assertEquals(DEGRADED, HealthRules.service(List.of(HEALTHY, DEGRADED), 2, 2));
        assertEquals(DEGRADED, HealthRules.service(List.of(HEALTHY), 1, 2));
        assertEquals(UNHEALTHY, HealthRules.service(List.of(HEALTHY, UNHEALTHY), 1, 2));
        assertEquals(UNHEALTHY, HealthRules.service(List.<HealthStatus>of(), 0, 2));
    }
}
