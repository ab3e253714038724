package dev.workflowworker.redis;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A partitioned stream on a cluster gives every partition a hash tag of its own, built from the
 * stream's name. A name with a '}' ends that tag early, so every candidate tag hashes to one slot.
 */
class PartitionTagsTest {

    /** Refused at once with the reason (it used to loop forever looking for tags). */
    @Test
    void aStreamNameWithBracesDoesNotHangTheBuild() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RedisOptions.builder()
                    .uri("redis-cluster://127.0.0.1:7000").stream("{orders}").partitions(4).build());
            assertTrue(e.getMessage().contains("'}'"), e.getMessage());
        });
    }

    /** Partitioned on one server, and shared on a cluster, such a name is fine as before. */
    @Test
    void aStreamNameWithBracesStillBuildsElsewhere() {
        RedisOptions.builder().uri("redis://127.0.0.1:6379").stream("{orders}").partitions(4).build();
        RedisOptions.builder().uri("redis-cluster://127.0.0.1:7000").stream("{orders}").partitions(0).build();
        RedisOptions.builder().uri("redis-cluster://127.0.0.1:7000").stream("orders").partitions(4).build();
    }
}
