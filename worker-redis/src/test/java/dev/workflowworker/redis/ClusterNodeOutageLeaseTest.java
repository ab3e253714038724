package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;

/**
 * A master down for several partition lease TTLs: the ownership round renews the leases of the
 * live masters' partitions, which keep running events all along; only the dead master's own
 * leases run out. While the round renewed every lease in one all-or-nothing pipeline, every lease
 * was lost 0.9 TTL into the outage and nothing ran until the master came back.
 */
class ClusterNodeOutageLeaseTest extends ClusterFaultCase {

    @Test
    void liveMastersPartitionsKeepTheirLeasesThroughALongOutageOfAnother() {
        RedisOptions options = cluster.options().stream("cluster:outage").partitions(6)
                .partitionLeaseTtl(Duration.ofSeconds(2)).socketTimeout(Duration.ofMillis(500)).build();
        SpawnedRedisServer victim = victim(options);
        liveMastersKeepTheirLeases(options, victim::kill, victim::start, "outage");
    }
}
