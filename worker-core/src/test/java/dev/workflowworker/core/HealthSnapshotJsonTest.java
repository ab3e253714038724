package dev.workflowworker.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.WorkerHealth;
import dev.workflowworker.api.WorkerState;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HealthSnapshotJsonTest {

    @Test
    void jsonHasTheSeedKeysFirstThenOursAndIsValid() throws Exception {
        WorkerHealth w = new WorkerHealth("host-1-worker1-ab", HealthStatus.DEGRADED, WorkerState.RUNNING,
                "failure \"ratio\"\n high", 10, 9, 1, 2, Instant.parse("2025-03-01T23:00:00Z"), "boom\tä\u0001");
        HealthSnapshot s = new HealthSnapshot(HealthStatus.DEGRADED, 4, 3, 1, 0, 1250, 1245, 5, 3,
                Instant.parse("2025-03-01T23:00:00Z"), 7, 2, 1, List.of(w),
                new dev.workflowworker.api.PartitionOwnership(8, List.of(1, 5), 2, false),
                new dev.workflowworker.api.RetryHolds(3, 1500));
        JsonNode n = new ObjectMapper().readTree(s.toJson());
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        assertEquals(List.of("status", "workerCount", "healthyWorkers", "degradedWorkers", "unhealthyWorkers",
                "eventsProcessed", "eventsSucceeded", "eventsFailed", "activeEvents", "timestamp",
                "eventsRetried", "eventsDeadLettered", "duplicates", "workers", "partitions", "retryHolds"), keys);
        assertEquals(5, n.get("partitions").get("owned").get(1).asInt());
        assertEquals(2, n.get("partitions").get("share").asInt());
        assertEquals(1500, n.get("retryHolds").get("longestMillis").asLong());
        assertEquals("degraded", n.get("status").asText());
        assertEquals(1250, n.get("eventsProcessed").asLong());
        assertEquals("2025-03-01T23:00:00.000Z", n.get("timestamp").asText());
        JsonNode wn = n.get("workers").get(0);
        assertEquals("failure \"ratio\"\n high", wn.get("reason").asText());
        assertEquals("boom\tä\u0001", wn.get("lastError").asText());
        assertEquals("degraded", wn.get("status").asText());
    }
}
