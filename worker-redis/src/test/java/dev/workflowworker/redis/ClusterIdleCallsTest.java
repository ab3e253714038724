package dev.workflowworker.redis;

import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an idle partitioned reader sends a 3-master cluster, counted by the masters ({@code INFO
 * commandstats}), not timed: the poll that covers lost wakes runs once a second while every
 * subscription is in place (ten times a second before, a round trip per master each), and a
 * dead letter replayed on a cluster wakes its partition's reader rather than waiting for that poll.
 * See docs/ARCHITECTURE.md, "Redis Cluster"; docs/BENCHMARKS.md, "clu19".
 */
@SpawnedCluster(before = SpawnedCluster.Before.EMPTY)
class ClusterIdleCallsTest {

    private static final int P = 16;
    private static SpawnedRedisCluster cluster;

    private static RedisOptions options(String stream) {
        return cluster.options().stream(stream).partitions(P).build();
    }

    /** {@return calls of {@code command} on every master, summed} */
    private static long calls(String command) {
        long n = 0;
        for (SpawnedRedisServer m : cluster.masters()) {
            try (Jedis j = m.jedis()) {
                for (String line : j.info("commandstats").split("\r?\n")) {
                    if (line.startsWith("cmdstat_" + command + ":")) {
                        String calls = line.substring(line.indexOf("calls=") + 6);
                        n += Long.parseLong(calls.substring(0, calls.indexOf(',')));
                    }
                }
            }
        }
        return n;
    }

    /**
     * An idle reader with its subscriptions confirmed polls its 16 partitions about once a second:
     * one XREAD per partition a second and the router's two blocking reads, not the ten per
     * partition a second of a poll every 100 ms. The poll still runs (a lost wake costs at most
     * about a second), and an event published after the idle window is woken for.
     */
    @Test
    void anIdleReaderWhoseSubscriptionsAreInPlacePollsAboutOnceASecond() throws Exception {
        RedisOptions options = options("idle-calls");
        Set<String> handled = ConcurrentHashMap.newKeySet();
        RedisEventTransport transport = RedisEventTransport.create(options);
        try (WorkerService s = WorkerService.builder().transport(transport)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> handled.add(ctx.event().eventId())).build())
                .workerCount(2).build()) {
            s.start();
            Await.until(Duration.ofSeconds(30), () -> transport.ownedPartitions().size() == P, "every partition owned");
            s.publisher().publish(WorkflowEvent.builder("STEP").eventId("warm").executionId("w").build());
            Await.until(Duration.ofSeconds(10), () -> handled.contains("warm"), "the first event handled");
            long before = calls("xread");
            long t0 = System.nanoTime();
            Thread.sleep(4000); // the idle window counted, not a wait for something to happen
            long xreads = calls("xread") - before;
            double seconds = (System.nanoTime() - t0) / 1e9;
            double perSecond = xreads / seconds;
            System.out.printf("idle reader, P=%d on 3 masters: %.1f XREAD/s%n", P, perSecond);
            // A poll every 100 ms: about 10 x 16 + 2 = 162 a second. Once a second: about 16 + 2.
            assertTrue(perSecond < 3 * P + 4, perSecond + " XREAD/s while idle: more than three polls a second");
            assertTrue(xreads >= P, xreads + " XREADs in " + seconds + " s: the poll for lost wakes no longer runs");
            s.publisher().publish(WorkflowEvent.builder("STEP").eventId("after").executionId("a").build());
            Await.until(Duration.ofSeconds(10), () -> handled.contains("after"), "an event after the idle window");
        }
    }

    /**
     * A replayed dead letter is an append to its partition by the admin, which no publisher
     * announces: the replay sends its wake (an SPUBLISH) itself, so the owner reads it at once
     * rather than at its next poll.
     */
    @Test
    void aDeadLetterReplayedOnAClusterWakesItsPartitionsReader() throws Exception {
        RedisOptions options = options("replay-wake");
        AtomicBoolean broken = new AtomicBoolean(true);
        Set<String> handled = ConcurrentHashMap.newKeySet();
        RedisEventTransport transport = RedisEventTransport.create(options);
        try (WorkerService s = WorkerService.builder().transport(transport)
                .runtime(ActionRuntime.builder().on("CHARGE", ctx -> {
                    if (broken.get()) {
                        throw new PermanentWorkflowException("declined");
                    }
                    handled.add(ctx.event().eventId());
                }).build()).workerCount(2).build();
             WorkflowAdmin admin = WorkflowAdmin.create(options)) {
            s.start();
            Await.until(Duration.ofSeconds(30), () -> transport.ownedPartitions().size() == P, "every partition owned");
            s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("charge-1").executionId("c1").build());
            Await.until(Duration.ofSeconds(10), () -> admin.deadLetterCount() == 1, "one dead letter");
            broken.set(false);
            String id = admin.deadLetters(null, 1).get(0).id();
            long before = calls("spublish");
            assertTrue(admin.replay(id).isPresent(), "replayed");
            long wakes = calls("spublish") - before;
            assertTrue(wakes >= 1, wakes + " SPUBLISH sent by the replay");
            Await.until(Duration.ofSeconds(10), () -> handled.contains("charge-1"), "the replayed event handled");
        }
    }
}
