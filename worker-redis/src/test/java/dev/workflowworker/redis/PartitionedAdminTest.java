package dev.workflowworker.redis;

import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.internal.partitioned.PartitionKeys;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.resps.StreamEntry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin on a partitioned stream, against dead letters, holds and leases that a real
 * {@link WorkerService} left in Redis. What the admin reports is checked against what Redis holds,
 * read with plain commands; where an event was processed is judged from its delivery id
 * ({@code partition/entry id}), which the engine reports in its outcomes.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionedAdminTest {

    private static final int PARTITIONS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();

    private static RedisOptions options(RedisServer redis) {
        // Trimming would change stream lengths between the admin's read and the test's own.
        return redis.options().partitions(PARTITIONS).partitionLeaseTtl(Duration.ofSeconds(2))
                .trimInterval(Duration.ofMinutes(10)).build();
    }

    private WorkerService service(RedisOptions options, ActionRuntime runtime) {
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options)).workerCount(1)
                .pollInterval(Duration.ofMillis(100)).maxBackoff(Duration.ofMinutes(5)).runtime(runtime)
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome outcome) {
                        outcomes.add(outcome);
                    }
                }).build();
        s.start();
        return s;
    }

    /** Two lock keys per partition, so that every partition gets dead letters. */
    private static List<String> keysCoveringEveryPartition(int perPartition) {
        int[] found = new int[PARTITIONS];
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < PARTITIONS * perPartition; i++) {
            int p = PartitionRouting.partitionOf("acct-" + i, PARTITIONS);
            if (found[p] < perPartition) {
                found[p]++;
                keys.add("acct-" + i);
            }
        }
        return keys;
    }

    private static String executionIdOf(RedisDeadLetters.Entry e) throws Exception {
        return JSON.readTree(e.originalMessage()).get("execution_id").asText();
    }

    private static int partitionOf(String id) {
        return Integer.parseInt(id.substring(0, id.indexOf('/')));
    }

    private boolean succeeded(String deliveryId) {
        return outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.SUCCEEDED
                && deliveryId.equals(o.deliveryId()));
    }

    @Test
    void deadLettersOfEveryPartitionAreListedPagedShownReplayedIntoTheirOwnPartitionAndPurged(RedisServer redis)
            throws Exception {
        RedisOptions options = options(redis);
        AtomicBoolean broken = new AtomicBoolean(true);
        ActionRuntime runtime = ActionRuntime.builder().on("CHARGE", ctx -> {
            if (broken.get()) {
                throw new PermanentWorkflowException("card of " + ctx.event().executionId() + " was declined");
            }
        }).build();
        List<String> keys = keysCoveringEveryPartition(2);
        try (WorkerService s = service(options, runtime);
             WorkflowAdmin admin = WorkflowAdmin.create(options);
             RedisClient client = redis.client()) {
            for (String key : keys) {
                s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("charge-" + key).executionId(key).build());
            }
            Await.until(Duration.ofSeconds(15), () -> admin.deadLetterCount() == 8, "eight dead letters");
            assertEquals(PARTITIONS, admin.partitions());

            // Paged across partitions, oldest first, each dead letter once.
            List<RedisDeadLetters.Entry> listed = new ArrayList<>();
            List<Integer> pageSizes = new ArrayList<>();
            String after = null;
            while (true) {
                List<RedisDeadLetters.Entry> page = admin.deadLetters(after, 3);
                if (page.isEmpty()) {
                    break;
                }
                pageSizes.add(page.size());
                listed.addAll(page);
                after = page.get(page.size() - 1).id();
            }
            assertEquals(List.of(3, 3, 2), pageSizes);
            assertEquals(rawDeadLetterIdsInTimeOrder(client, options), listed.stream().map(RedisDeadLetters.Entry::id)
                    .toList());
            Set<Integer> partitionsSeen = new HashSet<>();
            for (RedisDeadLetters.Entry e : listed) {
                int p = partitionOf(e.id());
                partitionsSeen.add(p);
                assertEquals(p, PartitionRouting.partitionOf(executionIdOf(e), PARTITIONS), e.id());
                assertEquals(options.partitionStream(p), e.fields().get("source_stream"), e.id());
                assertEquals("card of " + executionIdOf(e) + " was declined", e.errorMessage());
            }
            assertEquals(Set.of(0, 1, 2, 3), partitionsSeen);

            // Shown by partition/id; ids of the wrong form are refused with the form to use.
            RedisDeadLetters.Entry first = listed.get(0);
            assertEquals(first, admin.deadLetter(first.id()).orElseThrow());
            assertTrue(admin.deadLetter("0/1-1").isEmpty());
            IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                    () -> admin.deadLetter(first.id().substring(first.id().indexOf('/') + 1)));
            assertTrue(plain.getMessage().contains("partition/id"), plain.getMessage());
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                    () -> admin.deadLetter("7/1-1"));
            assertTrue(outside.getMessage().contains("partitions 0 to 3"), outside.getMessage());

            WorkflowAdmin.QueueStats stats = admin.stats();
            assertStatsMatchRedis(stats, client, options);
            assertEquals(8, stats.deadLetters());
            for (WorkflowAdmin.PartitionStats row : stats.partitions()) {
                assertEquals(2, row.deadLetters(), "dead letters of " + row);
                assertEquals(-1, row.lag(), "lag of " + row + ": unknown, the read position is its owner's");
                assertEquals(0, row.pending(), "pending of " + row);
                assertFalse(row.owner().isEmpty(), "the one instance owns " + row);
            }
            assertEquals(1, stats.consumers().size(), "one live instance: " + stats.consumers());
            assertEquals(stats.partitions().get(0).owner(), stats.consumers().get(0).name());

            // One replayed: back into its own partition, where the service processes it.
            broken.set(false);
            RedisDeadLetters.Entry one = listed.stream().filter(e -> partitionOf(e.id()) == 2).findFirst().orElseThrow();
            String newId = admin.replay(one.id()).orElseThrow();
            assertEquals(2, partitionOf(newId), newId);
            Await.until(Duration.ofSeconds(15), () -> succeeded(newId),
                    "the replayed event processed as delivery " + newId);
            assertTrue(admin.replay(one.id()).isEmpty(), "a dead letter is replayed once");
            assertEquals(7, admin.deadLetterCount());

            // A range in merge order, then the rest at a paced rate.
            List<RedisDeadLetters.Entry> rest = admin.deadLetters(null, 10);
            assertEquals(3, admin.replayRange(rest.get(0).id(), rest.get(2).id(), 1000));
            assertEquals(rest.subList(3, 7), admin.deadLetters(null, 10));
            long start = System.nanoTime();
            assertEquals(4, admin.replayAll(10));
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(290).toNanos(),
                    "four replays at 10 a second take at least 0.3 s");
            Await.until(Duration.ofSeconds(15),
                    () -> outcomes.stream().filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED).count() == 8,
                    "every replayed event processed");
            for (EventOutcome o : outcomes) {
                if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                    assertEquals(PartitionRouting.partitionOf(o.event().executionId(), PARTITIONS),
                            partitionOf(o.deliveryId()), "replayed " + o.event().eventId() + " as " + o.deliveryId());
                }
            }
            assertEquals(0, admin.deadLetterCount());

            // Purged in every partition.
            broken.set(true);
            for (String key : keys.subList(0, PARTITIONS * 2)) {
                s.publisher().publish(WorkflowEvent.builder("CHARGE").eventId("again-" + key).executionId(key).build());
            }
            Await.until(Duration.ofSeconds(15), () -> admin.deadLetterCount() == 8, "eight new dead letters");
            assertEquals(8, admin.purge());
            assertEquals(0, admin.deadLetterCount());
            for (int p = 0; p < PARTITIONS; p++) {
                // emptied, not deleted: a partition's dead-letter script names the stream, and a
                // slot migration answers a script naming an absent key TRYAGAIN
                assertEquals(0L, client.xlen(options.partitionDeadLetters(p)), "dead letters of partition " + p);
                assertTrue(client.exists(options.partitionDeadLetters(p)), "dead letters of partition " + p + " kept");
            }
        }
    }

    @Test
    void statsRowsMatchWhatRedisHoldsWhileARetryHoldsItsKey(RedisServer redis) throws Exception {
        RedisOptions options = options(redis);
        ActionRuntime runtime = ActionRuntime.builder().on("STEP", ctx -> {
            if ("held".equals(ctx.event().eventId())) {
                throw new RecoverableWorkflowException("bank is closed", Duration.ofMinutes(2));
            }
        }).build();
        try (WorkerService s = service(options, runtime);
             WorkflowAdmin admin = WorkflowAdmin.create(options);
             RedisClient client = redis.client()) {
            String key = "vault-1";
            int partition = PartitionRouting.partitionOf(key, PARTITIONS);
            s.publisher().publish(WorkflowEvent.builder("STEP").eventId("held").executionId(key).build());
            for (int i = 0; i < 3; i++) {
                s.publisher().publish(WorkflowEvent.builder("STEP").eventId("behind-" + i).executionId(key).build());
            }
            for (String other : keysCoveringEveryPartition(1)) {
                s.publisher().publish(WorkflowEvent.builder("STEP").eventId("free-" + other).executionId(other).build());
            }
            Await.until(Duration.ofSeconds(15), () -> admin.stats().retryScheduled() == 1 && outcomes.stream()
                            .filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED).count() == PARTITIONS,
                    "the retry held and the other keys done");
            WorkflowAdmin.QueueStats stats = admin.stats();
            assertStatsMatchRedis(stats, client, options);
            WorkflowAdmin.PartitionStats row = stats.partitions().get(partition);
            assertEquals(1, row.heldRetries());
            assertEquals(4, row.pending(), "the held event and the three behind it are pending: " + row);
            assertEquals(4, stats.pending());
            assertEquals(-1, stats.lag(), "how much is not read yet is its owners' to know");
        }
    }

    @Test
    void theRecordedCountIsReadWithoutWritingAndAContradictingCountIsRefused(RedisServer redis) {
        RedisOptions options = options(redis);
        try (RedisEventTransport producer = RedisEventTransport.create(options)) {
            for (int i = 0; i < 5; i++) {
                producer.publish(WorkflowEvent.builder("STEP").eventId("e" + i).executionId("acct-" + i).build());
            }
            // The transport says the same: what is not read yet is unknown, not the pending count again.
            assertEquals(new StreamStats(-1, 5, 0, 0), producer.stats().orElseThrow());
        }
        try (RedisClient client = redis.client()) {
            client.scriptFlush();
            Set<String> keysBefore = client.keys("*");
            RedisOptions unset = redis.options().trimInterval(Duration.ofMinutes(10)).build();
            try (WorkflowAdmin admin = WorkflowAdmin.create(unset)) {
                assertEquals(PARTITIONS, admin.partitions(), "read from " + options.partitionCountKey());
                WorkflowAdmin.QueueStats stats = admin.stats();
                assertStatsMatchRedis(stats, client, options);
                assertEquals(5, stats.length());
                assertEquals(-1, stats.lag(), "unknown, even with nothing read: reads leave no trace");
                assertTrue(stats.consumers().isEmpty(), "no instance runs: " + stats.consumers());
                assertTrue(stats.partitions().stream().allMatch(r -> r.owner().isEmpty()), stats.toString());
                assertEquals(0, admin.deadLetterCount());
                assertTrue(admin.deadLetters(null, 5).isEmpty());
                assertTrue(admin.deadLetter("3/1-1").isEmpty());
            }
            assertEquals(keysBefore, client.keys("*"), "reading wrote keys");
            assertEquals(List.of(0L), client.executeCommand(new CommandArguments(Protocol.Command.SCRIPT).add("EXISTS")
                    .add(LuaScript.load("replay_dead_letter").sha())), "scripts were loaded");
            try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().partitions(8).build())) {
                IllegalStateException e = assertThrows(IllegalStateException.class, admin::stats);
                assertTrue(e.getMessage().contains("configured with 8") && e.getMessage().contains("created with 4"),
                        e.getMessage());
            }
        }
    }

    @Test
    void anAdminOnAPartitionedStreamNobodyCreatedReadsItAsEmptyAndWritesNothing(RedisServer redis) throws Exception {
        try (RedisClient client = redis.client()) {
            client.set("unrelated", "1");
            Set<String> keysBefore = client.keys("*");
            try (WorkflowAdmin admin = WorkflowAdmin.create(redis.options().stream("ordres").partitions(3).build())) {
                WorkflowAdmin.QueueStats stats = admin.stats();
                assertEquals(List.of(0, 1, 2), stats.partitions().stream().map(WorkflowAdmin.PartitionStats::partition)
                        .toList());
                assertTrue(stats.partitions().stream().allMatch(r -> r.length() == 0 && r.lag() == -1
                        && r.owner().isEmpty()), stats.toString());
                assertEquals(-1, stats.lag());
                assertEquals(0, admin.deadLetterCount());
                assertEquals(0, admin.replayAll(100));
                assertTrue(admin.deadLetters("1/1-1", 5).isEmpty());
            }
            assertEquals(keysBefore, client.keys("*"), "reading wrote keys");
        }
    }

    /** Every dead letter of every partition as {@code partition/id}, by id and then partition. */
    private static List<String> rawDeadLetterIdsInTimeOrder(RedisClient client, RedisOptions options) {
        record Raw(int partition, long ms, long seq) {
        }
        List<Raw> all = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            for (StreamEntry e : client.xrange(options.partitionDeadLetters(p), "-", "+")) {
                all.add(new Raw(p, e.getID().getTime(), e.getID().getSequence()));
            }
        }
        all.sort(Comparator.comparingLong(Raw::ms).thenComparingLong(Raw::seq).thenComparingInt(Raw::partition));
        return all.stream().map(r -> r.partition() + "/" + r.ms() + "-" + r.seq()).toList();
    }

    /** Entries of partition {@code p} above its committed position and not in its settled set. */
    private static long unsettledByScan(RedisClient client, RedisOptions options, int p) {
        String stream = options.partitionStream(p);
        if (!client.exists(stream)) {
            return 0;
        }
        String c = client.hget(PartitionKeys.log(TestInternals.keys(options), p), "c");
        Set<String> settled = client.smembers(PartitionKeys.settled(TestInternals.keys(options), p));
        return client.xrange(stream, c == null ? "-" : "(" + c, "+").stream()
                .filter(e -> !settled.contains(e.getID().toString())).count();
    }

    private static void assertStatsMatchRedis(WorkflowAdmin.QueueStats stats, RedisClient client, RedisOptions options) {
        assertEquals(PARTITIONS, stats.partitions().size());
        long length = 0;
        long pending = 0;
        long held = 0;
        long dead = 0;
        for (int p = 0; p < PARTITIONS; p++) {
            WorkflowAdmin.PartitionStats row = stats.partitions().get(p);
            String stream = options.partitionStream(p);
            assertEquals(p, row.partition());
            assertEquals(client.xlen(stream), row.length(), "length of " + row);
            // Counted here from the stream itself: entries above the committed position, less those settled there.
            long unsettled = unsettledByScan(client, options, p);
            assertEquals(Math.max(0, unsettled), row.pending(), "pending of " + row);
            assertEquals(-1, row.lag(), "lag of " + row + ": reads of a partition leave no trace");
            assertEquals(TestInternals.heldMarks(client.hgetAll(options.partitionHeld(p))).size(), row.heldRetries(),
                    "held of " + row);
            assertEquals(client.xlen(options.partitionDeadLetters(p)), row.deadLetters(), "dead letters of " + row);
            String lease = client.get(options.partitionLease(p));
            assertEquals(lease == null ? "" : lease.substring(0, lease.lastIndexOf('|')), row.owner(), "owner of " + row);
            length += row.length();
            pending += row.pending();
            held += row.heldRetries();
            dead += row.deadLetters();
        }
        assertEquals(length, stats.length());
        assertEquals(pending, stats.pending());
        assertEquals(held, stats.retryScheduled());
        assertEquals(dead, stats.deadLetters());
    }
}
