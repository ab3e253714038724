package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.StreamEntryID;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle wait of a partitioned stream on a real Redis Cluster of three masters with a replica
 * each: one waiter per node whatever the number of partitions, woken by the publishers' sharded
 * pub/sub; a write that wakes no one (a producer writing to a partition stream itself) found by
 * the poll; subscriptions that follow a failover and ownership. Counts come from the JVM's
 * threads and the nodes' CLIENT LIST and PUBSUB SHARDNUMSUB; "handled" from a ledger the handler writes.
 */
@SpawnedCluster(replicas = 1, before = SpawnedCluster.Before.EMPTY)
class ClusterNodeWaitsTest {

    private static final int P = 32;
    private static SpawnedRedisCluster cluster;

    private final List<WorkerService> services = new ArrayList<>();
    /** Event id to the nanoTime its handler ran at. */
    private final Map<String, Long> handledAt = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> latches = new ConcurrentHashMap<>();

    @AfterEach
    void closeServices() {
        services.forEach(WorkerService::close);
    }

    /** A worker service and its transport, which tells the partitions it owns. */
    private record Instance(WorkerService service, RedisEventTransport transport) {
        List<Integer> ownedPartitions() {
            return transport.ownedPartitions();
        }

        void publish(WorkflowEvent e) {
            service.publisher().publish(e);
        }
    }

    private Instance service(RedisOptions options) {
        RedisEventTransport transport = RedisEventTransport.create(options);
        WorkerService s = WorkerService.builder()
                .transport(transport)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> {
                    handledAt.putIfAbsent(ctx.event().eventId(), System.nanoTime());
                    CountDownLatch l = latches.get(ctx.event().eventId());
                    if (l != null) {
                        l.countDown();
                    }
                }).build())
                .workerCount(2)
                .pollInterval(Duration.ofMillis(500))
                .build();
        services.add(s);
        s.start();
        return new Instance(s, transport);
    }

    private static RedisOptions options(String stream) {
        return cluster.options().stream(stream).partitions(P).partitionLeaseTtl(Duration.ofSeconds(3)).build();
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId("exec-" + id).build();
    }

    /** Publishes one event and returns the ms until its handler ran; fails after 2 s. */
    private long publishAndTime(Instance s, WorkflowEvent e) throws InterruptedException {
        CountDownLatch l = new CountDownLatch(1);
        latches.put(e.eventId(), l);
        long t0 = System.nanoTime();
        s.publish(e);
        assertTrue(l.await(2, TimeUnit.SECONDS), e.eventId() + " handled within 2 s");
        return TimeUnit.NANOSECONDS.toMillis(handledAt.get(e.eventId()) - t0);
    }

    private static Set<Thread> waitThreads(String stream) {
        Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("workflow-worker-partition-wait-")
                    && t.getName().endsWith("-" + stream)) {
                out.add(t);
            }
        }
        return out;
    }

    /** This JVM's connections on the masters that wait: blocked (XREAD BLOCK) or subscribed. */
    private static int waitingConnections() {
        String name = "name=workflow-worker-" + ManagementFactory.getRuntimeMXBean().getPid() + " ";
        int n = 0;
        for (SpawnedRedisServer m : cluster.masters()) {
            try (Jedis j = m.jedis()) {
                for (String line : j.clientList().split("\n")) {
                    if (line.contains(name) && (line.matches(".*flags=\\S*b.*") || !line.contains(" sub=0 ")
                            || !line.contains(" ssub=0 "))) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private static long shardSubscribers(String channel) {
        try (Jedis j = cluster.masterOf(channel).jedis()) {
            List<?> r = (List<?>) j.sendCommand(Protocol.Command.PUBSUB, "SHARDNUMSUB", channel);
            return (Long) r.get(1);
        }
    }

    private static String channel(RedisOptions options, int p) {
        return TestKeys.partitionStream(options, p) + ":news";
    }

    /**
     * With 32 partitions over 3 masters, one instance waits with one thread and one connection
     * per master (before: 32 of each), and a single event into an idle partition is handled at once.
     */
    @Test
    void oneWaiterPerNodeWhateverThePartitionCountAndIdleEventsRunPromptly() throws Exception {
        RedisOptions options = options("idle");
        Instance s = service(options);
        Await.until(Duration.ofSeconds(20), () -> s.ownedPartitions().size() == P, "the instance owns every partition");
        List<Long> ms = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ms.add(publishAndTime(s, event("idle-" + i)));
        }
        ms.sort(null);
        System.out.println("cluster idle path, publish to handler: p50 " + ms.get(ms.size() / 2) + " ms, max "
                + ms.get(ms.size() - 1) + " ms over " + ms.size());
        int threads = waitThreads(options.stream()).size();
        assertTrue(threads <= 3, threads + " wait threads, at most one per master");
        // One subscription per master, plus the router's blocking read and the timers' wake subscription.
        // Awaited, not read once: the count is of every connection this JVM holds on the masters, and
        // an earlier case's closed instance can still show one until the server has seen it go (seen
        // once in a full suite); a leak of waiting connections stays and fails this.
        Await.until(Duration.ofSeconds(10), () -> waitingConnections() <= 3 + 2,
                "at most one waiting connection per master and two more on the masters");
        for (int p = 0; p < P; p++) {
            assertEquals(1, shardSubscribers(channel(options, p)), "subscribers of partition " + p + "'s news");
        }
    }

    /**
     * What an idle instance costs the masters: commands and CPU over a few idle seconds, with 32
     * partitions owned. Printed for docs/BENCHMARKS.md; bounded by the poll (one XREAD per
     * partition every second with the subscriptions in place, every 100 ms while they are not)
     * plus the lease renewals, the router's wait and the timers.
     */
    @Test
    void anIdleInstanceCostsTheMastersAboutOnePollReadPerPartitionEveryPollInterval() throws Exception {
        RedisOptions options = options("cost");
        Instance s = service(options);
        Await.until(Duration.ofSeconds(20), () -> s.ownedPartitions().size() == P, "the instance owns every partition");
        publishAndTime(s, event("warm"));
        long[] before = idleCounters();
        long t0 = System.nanoTime();
        Thread.sleep(5000); // the idle window measured, not a wait for something to happen
        long[] after = idleCounters();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double commands = (after[0] - before[0]) / seconds;
        double cpuMs = (after[1] - before[1]) / 1000.0 / seconds;
        System.out.printf("cluster idle cost, P=%d on 3 masters: %.0f commands/s, %.2f ms Redis CPU/s in all%n",
                P, commands, cpuMs);
        assertTrue(commands < 1000, commands + " commands/s while idle");
    }

    /** {@return the masters' commands processed and used CPU (user + sys, µs), summed} */
    private static long[] idleCounters() {
        long commands = 0;
        long cpuMicros = 0;
        for (SpawnedRedisServer m : cluster.masters()) {
            try (Jedis j = m.jedis()) {
                for (String line : j.info().split("\r?\n")) {
                    if (line.startsWith("total_commands_processed:")) {
                        commands += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    } else if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
                        cpuMicros += (long) (Double.parseDouble(line.substring(line.indexOf(':') + 1).trim()) * 1e6);
                    }
                }
            }
        }
        return new long[] {commands, cpuMicros};
    }

    /**
     * An entry a producer writes to a partition stream itself wakes no one: the poll finds it, about
     * a second later with the subscriptions in place (NodeWaits.SWEEP_MS); 5 s leaves room for a
     * loaded machine.
     */
    @Test
    void anEntryWrittenStraightToAPartitionStreamIsHandledWithinThePollBound() throws Exception {
        RedisOptions options = options("foreign");
        Instance s = service(options);
        Await.until(Duration.ofSeconds(20), () -> s.ownedPartitions().size() == P, "the instance owns every partition");
        publishAndTime(s, event("warm"));
        List<Long> ms = new ArrayList<>();
        try (RedisClusterClient admin = cluster.client()) {
            WireFormat wire = WireFormat.withMaxPayloadBytes(1 << 20);
            for (int i = 0; i < 10; i++) {
                WorkflowEvent e = event("foreign-" + i);
                int p = PartitionRouting.partitionOf(e.lockKey(), P);
                CountDownLatch l = new CountDownLatch(1);
                latches.put(e.eventId(), l);
                long t0 = System.nanoTime();
                admin.xadd(TestKeys.partitionStream(options, p), StreamEntryID.NEW_ENTRY, wire.encode(e, 1));
                assertTrue(l.await(5, TimeUnit.SECONDS), e.eventId() + " handled within 5 s");
                ms.add(TimeUnit.NANOSECONDS.toMillis(handledAt.get(e.eventId()) - t0));
            }
        }
        ms.sort(null);
        System.out.println("cluster foreign XADD, write to handler: p50 " + ms.get(ms.size() / 2) + " ms, max "
                + ms.get(ms.size() - 1) + " ms");
    }

    /**
     * A wake that never comes (a producer writing to a partition stream itself) is found by the poll
     * even while another partition's wakes keep arriving: the poll once ran only when a wait found
     * no news, so a steady flow elsewhere held a quiet partition's entry for as long as it lasted.
     */
    @Test
    void anEntryWrittenStraightToAQuietPartitionIsFoundWhileOtherPartitionsKeepWaking() throws Exception {
        RedisOptions options = options("foreign-busy");
        Instance s = service(options);
        Await.until(Duration.ofSeconds(20), () -> s.ownedPartitions().size() == P, "the instance owns every partition");
        publishAndTime(s, event("warm"));
        WorkflowEvent quiet = event("quiet");
        int quietPartition = PartitionRouting.partitionOf(quiet.lockKey(), P);
        // Keys of the partitions on the other masters: each reader has news every few ms, none of
        // it from the quiet partition's master (news from a master has its partitions read).
        int quietPort = cluster.masterOf(TestKeys.partitionStream(options, quietPartition)).port();
        List<String> hotKeys = new ArrayList<>();
        for (int k = 0; hotKeys.size() < 4 * P; k++) {
            String key = "hot-" + k;
            int p = PartitionRouting.partitionOf(event(key).lockKey(), P);
            if (cluster.masterOf(TestKeys.partitionStream(options, p)).port() != quietPort) {
                hotKeys.add(key);
            }
        }
        Thread publisher = new Thread(() -> {
            for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                s.publish(WorkflowEvent.builder("STEP").eventId("hot-event-" + i)
                        .executionId("exec-" + hotKeys.get(i % hotKeys.size())).build());
                try {
                    Thread.sleep(5); // a steady flow of wakes, far more often than the poll's second
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        publisher.start();
        try (RedisClusterClient admin = cluster.client()) {
            Await.until(Duration.ofSeconds(10), () -> hotHandled() > 100, "the other partitions' events run");
            CountDownLatch l = new CountDownLatch(1);
            latches.put(quiet.eventId(), l);
            admin.xadd(TestKeys.partitionStream(options, quietPartition), StreamEntryID.NEW_ENTRY,
                    WireFormat.withMaxPayloadBytes(1 << 20).encode(quiet, 1));
            long before = hotHandled();
            assertTrue(l.await(5, TimeUnit.SECONDS), quiet.eventId() + " handled within 5 s while the other partitions ran "
                    + (hotHandled() - before) + " events");
        } finally {
            publisher.interrupt();
            publisher.join(5_000);
        }
    }

    private long hotHandled() {
        return handledAt.keySet().stream().filter(k -> k.startsWith("hot-event-")).count();
    }

    /** After a master is killed and its replica takes over, events of its partitions still flow, woken. */
    @Test
    void eventsOfPartitionsOnAFailedOverMasterStillFlow() throws Exception {
        RedisOptions options = options("failover");
        Instance s = service(options);
        Await.until(Duration.ofSeconds(20), () -> s.ownedPartitions().size() == P, "the instance owns every partition");
        publishAndTime(s, event("before"));
        SpawnedRedisServer victim = cluster.masterOf(TestKeys.partitionStream(options, 0));
        cluster.killMasterAndAwaitFailover(victim, Duration.ofSeconds(30));
        List<String> moved = new ArrayList<>();
        for (int i = 0; moved.size() < 5; i++) {
            WorkflowEvent e = event("after-" + i);
            int p = PartitionRouting.partitionOf(e.lockKey(), P);
            if (cluster.masterOf(TestKeys.partitionStream(options, p)).port() == cluster.masterOf(
                    TestKeys.partitionStream(options, 0)).port()) {
                moved.add(e.eventId());
                CountDownLatch l = new CountDownLatch(1);
                latches.put(e.eventId(), l);
                publishUntilAccepted(s, e);
                assertTrue(l.await(20, TimeUnit.SECONDS), e.eventId() + " on the new master handled");
            }
        }
        // Settled: the partitions on the new master are subscribed there, woken again at once.
        Await.until(Duration.ofSeconds(20), () -> shardSubscribers(channel(options, 0)) == 1,
                "partition 0's news subscribed on its new master");
        WorkflowEvent e = null;
        for (int i = 0; e == null; i++) {
            WorkflowEvent c = event("settled-" + i);
            if (PartitionRouting.partitionOf(c.lockKey(), P) == 0) {
                e = c;
            }
        }
        publishAndTime(s, e);
        assertTrue(waitThreads(options.stream()).size() <= 3, "wait threads after the failover: "
                + waitThreads(options.stream()).size());
    }

    private static void publishUntilAccepted(Instance s, WorkflowEvent e) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                s.publish(e);
                return;
            } catch (RedisUnavailableException unavailable) {
                if (System.nanoTime() - deadline > 0) {
                    throw unavailable;
                }
                Thread.sleep(100);
            }
        }
    }

    /** Partitions another instance took over are unsubscribed here: each channel has exactly its owner. */
    @Test
    void partitionsGivenUpAreUnsubscribed() throws Exception {
        RedisOptions options = options("handover");
        Instance a = service(options);
        Await.until(Duration.ofSeconds(20), () -> a.ownedPartitions().size() == P, "a owns every partition");
        publishAndTime(a, event("warm"));
        Instance b = service(options);
        Await.until(Duration.ofSeconds(30), () -> a.ownedPartitions().size() == P / 2
                && b.ownedPartitions().size() == P / 2, () -> "an even share: a " + a.ownedPartitions()
                + ", b " + b.ownedPartitions());
        Await.until(Duration.ofSeconds(10), () -> {
            for (int p = 0; p < P; p++) {
                if (shardSubscribers(channel(options, p)) != 1) {
                    return false;
                }
            }
            return true;
        }, "every partition's news has exactly one subscriber, its owner");
        for (int i = 0; i < 10; i++) {
            WorkflowEvent e = event("shared-" + i);
            publishAndTime(i % 2 == 0 ? a : b, e);
        }
    }
}
