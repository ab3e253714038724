package dev.workflowworker.redis;

import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClusterClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An ownership round and a master that hangs (SIGSTOP) under it: between the round's reads of
 * the free partitions and their draws, and while a round is in flight when the transport closes.
 * See docs/ARCHITECTURE.md, "Redis Cluster".
 */
@SpawnedCluster(args = {"--cluster-require-full-coverage", "no"}, before = SpawnedCluster.Before.EMPTY)
class ClusterHungOwnershipRoundTest {

    private static final Duration SOCKET_TIMEOUT = Duration.ofMillis(1000);
    private static SpawnedRedisCluster cluster;
    private final List<RedisEventTransport> transports = new ArrayList<>();
    private SpawnedRedisServer frozen;

    @AfterEach
    void thawAndClose() {
        if (frozen != null) {
            frozen.thaw();
        }
        transports.forEach(RedisEventTransport::close);
    }

    /**
     * The round found every partition free, and the master of some hangs before their draws go
     * out: the live masters' draws land in that round (one socket timeout, not one per draw), the
     * hung master's partitions are not taken while it hangs and the live ones stay held past the
     * lease TTL. Once it answers again they are taken, by the newest fencing token of each: a
     * draw that reached it while it hung (its reply lost) holds nothing anyone acts on, and
     * expires.
     */
    @Test
    void aMasterHangingBetweenTheRoundsReadsAndItsDrawsCostsOnlyItsOwnPartitions() {
        int partitions = 12;
        Duration ttl = Duration.ofSeconds(3);
        RedisOptions options = cluster.options().stream("cluster:draw-hung").partitions(partitions)
                .partitionLeaseTtl(ttl).socketTimeout(SOCKET_TIMEOUT).build();
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        boolean[] onVictim = new boolean[partitions];
        List<Integer> live = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            onVictim[i] = cluster.masterOf(options.partitionStream(i)) == victim;
            if (!onVictim[i]) {
                live.add(i);
            }
        }
        assertFalse(live.isEmpty(), "partitions on the live masters");
        AtomicBoolean froze = new AtomicBoolean();
        AtomicLong frozeAt = new AtomicLong();
        PartitionProbe probe = new PartitionProbe() {
            @Override
            public void beforeDraw(List<Integer> wanted) {
                if (wanted.stream().anyMatch(p -> onVictim[p]) && froze.compareAndSet(false, true)) {
                    frozen = victim;
                    victim.freeze();
                    frozeAt.set(System.nanoTime());
                }
            }
        };
        RedisEventTransport t = RedisEventTransport.create(options, TimeSource.system(), probe);
        transports.add(t);
        EventTransport.Consumer consumer = t.openConsumer("c");
        Await.until(Duration.ofSeconds(10), froze::get, "a round about to draw a partition of the hung master");
        Await.until(Duration.ofSeconds(5), () -> t.ownedPartitions().containsAll(live),
                () -> "owns " + t.ownedPartitions() + ", live " + live);
        long liveMs = (System.nanoTime() - frozeAt.get()) / 1_000_000;
        System.out.println("ClusterHungOwnershipRoundTest: the live masters' partitions taken " + liveMs
                + " ms after the hang");
        assertTrue(liveMs < 3 * SOCKET_TIMEOUT.toMillis(), "the live partitions taken " + liveMs + " ms after the hang");
        long until = System.nanoTime() + ttl.multipliedBy(2).toNanos();
        while (System.nanoTime() < until) {
            assertEquals(live, t.ownedPartitions(), "partitions held while their neighbour's master hangs");
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
        }
        victim.thaw();
        frozen = null;
        // Its lease, if a draw reached it, expires after the TTL; the next rounds take it then.
        Await.until(ttl.multipliedBy(3).plusSeconds(15), () -> t.ownedPartitions().size() == partitions,
                () -> "owns " + t.ownedPartitions());
        try (RedisClusterClient c = cluster.client()) {
            for (int i = 0; i < partitions; i++) {
                String value = c.get(options.partitionLease(i));
                String fence = c.get(options.partitionFence(i));
                assertTrue(value != null && value.endsWith("|" + fence), "partition " + i + ": lease " + value
                        + ", newest token " + fence);
            }
        }
        consumer.close();
    }

    /**
     * Close while a round waits on a hung master: close waits for that round (its bound is the
     * ticker's two seconds, here one socket timeout), and the round's timeout marks the node down
     * so the hand-over does not wait for it again. Not waiting would gain nothing here: the
     * hand-over's own calls to that master (its leases, the membership) would wait the same
     * socket timeout, the node not known down yet.
     */
    @Test
    void closeDuringARoundOnAHungMasterWaitsOneSocketTimeoutNotTwo() {
        int partitions = 12;
        RedisOptions options = cluster.options().stream("cluster:close-in-round").partitions(partitions)
                .partitionLeaseTtl(Duration.ofSeconds(3)).socketTimeout(SOCKET_TIMEOUT).build();
        SpawnedRedisServer victim = cluster.masterOf(options.partitionStream(0));
        RedisEventTransport t = RedisEventTransport.create(options);
        transports.add(t);
        EventTransport.Consumer consumer = t.openConsumer("c");
        Await.until(Duration.ofSeconds(10), () -> t.ownedPartitions().size() == partitions,
                () -> "owns " + t.ownedPartitions());
        frozen = victim;
        victim.freeze();
        // The rounds come every fifth of the TTL: the next one waits on the hung master.
        Await.until(Duration.ofSeconds(5), ClusterHungOwnershipRoundTest::roundInACall, "a round in its call");
        long t0 = System.nanoTime();
        t.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("ClusterHungOwnershipRoundTest: close during a round on a hung master took " + ms + " ms");
        assertTrue(ms < SOCKET_TIMEOUT.toMillis() * 17 / 10, "close took " + ms + " ms (socket timeout "
                + SOCKET_TIMEOUT.toMillis() + " ms)");
        consumer.close();
    }

    private static boolean roundInACall() {
        return Thread.getAllStackTraces().entrySet().stream().anyMatch(e -> Arrays.stream(e.getValue())
                .anyMatch(f -> f.getMethodName().equals("tickOnce"))
                && Arrays.stream(e.getValue()).anyMatch(f -> f.getMethodName().contains("read")));
    }

}
