package dev.workflowworker.examples;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class AdminCliTest {

    record Result(int code, String out, String err) {
    }

    private static Result cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = AdminCli.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void deadLetterRoundTripsThroughListShowReplayAndIsProcessed(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        AtomicBoolean broken = new AtomicBoolean(true);
        Set<String> done = ConcurrentHashMap.newKeySet();
        try (WorkerService s = WorkerService.builder()
                // The shared stream; the CLI is given REDIS_URL alone and recognises it by its group.
                .transport(RedisEventTransport.create(redis.options().partitions(0).build())).workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .runtime(ActionRuntime.builder().on("INVOICE_DUE", ctx -> {
                    if (broken.get()) {
                        throw new PermanentWorkflowException("customer C-9 has no payment method");
                    }
                    done.add(ctx.event().eventId());
                }).build()).build()) {
            s.start();
            s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-1").build());
            s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-2").build());
            Await.until(Duration.ofSeconds(15), () -> cli(env, "dlq", "list").out().startsWith("2 of 2 dead letters"),
                    "two dead letters");

            Result list = cli(env, "dlq", "list", "--limit", "1");
            assertEquals(0, list.code(), list.err());
            assertTrue(list.out().contains("permanent") && list.out().contains("customer C-9 has no payment method"),
                    list.out());
            assertTrue(list.out().contains("next page: admin dlq list --limit 1 --after "), list.out());
            Matcher m = Pattern.compile("^(\\d+-\\d+) ", Pattern.MULTILINE).matcher(list.out());
            assertTrue(m.find(), list.out());
            String id = m.group(1);

            Result show = cli(env, "dlq", "show", id);
            assertEquals(0, show.code(), show.err());
            assertTrue(show.out().contains("error_message: customer C-9 has no payment method"), show.out());
            assertTrue(show.out().contains("original_message: {"), show.out());
            assertTrue(show.out().contains("worker_id: "), show.out());

            Result stats = cli(env, "stats");
            assertEquals(0, stats.code(), stats.err());
            assertTrue(stats.out().contains("dead letters    2"), stats.out());
            assertTrue(stats.out().contains("pending         0"), stats.out());

            broken.set(false);
            Result replay = cli(env, "dlq", "replay", id);
            assertEquals(0, replay.code(), replay.err());
            Await.until(Duration.ofSeconds(15), () -> done.size() == 1, "the replayed event to be processed");
            Result all = cli(env, "dlq", "replay", "--all", "--rate", "50");
            assertEquals(0, all.code(), all.err());
            assertTrue(all.out().contains("replayed 1 dead letters"), all.out());
            Await.until(Duration.ofSeconds(15), () -> done.equals(Set.of("inv-1", "inv-2")), "both processed");

            Result again = cli(env, "dlq", "replay", id);
            assertEquals(1, again.code());
            assertTrue(again.err().contains("no dead letter " + id), again.err());
            assertEquals(0, cli(env, "dlq", "purge", "--yes").code());
        }
    }

    @Test
    void aPartitionedStreamIsListedShownReplayedIntoItsPartitionAndShownPerPartitionInStats(RedisServer redis) {
        int partitions = 4;
        // WORKER_PARTITIONS unset: the CLI reads the count the stream recorded.
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "billing");
        AtomicBoolean broken = new AtomicBoolean(true);
        Set<String> doneAs = ConcurrentHashMap.newKeySet();
        List<String> keys = new java.util.ArrayList<>();
        boolean[] covered = new boolean[partitions];
        for (int i = 0; keys.size() < partitions; i++) {
            int p = PartitionRouting.partitionOf("cust-" + i, partitions);
            if (!covered[p]) {
                covered[p] = true;
                keys.add("cust-" + i);
            }
        }
        try (WorkerService s = WorkerService.builder()
                .transport(RedisEventTransport.create(redis.options().stream("billing").partitions(partitions).build()))
                .workerCount(1).pollInterval(Duration.ofMillis(100))
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                            doneAs.add(o.deliveryId());
                        }
                    }
                })
                .runtime(ActionRuntime.builder().on("INVOICE_DUE", ctx -> {
                    if (broken.get()) {
                        throw new PermanentWorkflowException("customer " + ctx.event().executionId() + " has no card");
                    }
                }).build()).build()) {
            s.start();
            for (String key : keys) {
                s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-" + key).executionId(key).build());
            }
            Await.until(Duration.ofSeconds(15), () -> cli(env, "dlq", "list").out().startsWith("4 of 4 dead letters"),
                    "a dead letter in every partition");

            Result list = cli(env, "dlq", "list", "--limit", "3");
            assertEquals(0, list.code(), list.err());
            Matcher m = Pattern.compile("^(\\d+)/(\\d+-\\d+) ", Pattern.MULTILINE).matcher(list.out());
            List<String> ids = new java.util.ArrayList<>();
            while (m.find()) {
                ids.add(m.group(1) + "/" + m.group(2));
            }
            assertEquals(3, ids.size(), list.out());
            assertTrue(list.out().contains("next page: admin dlq list --limit 3 --after " + ids.get(2)), list.out());
            Result next = cli(env, "dlq", "list", "--limit", "3", "--after", ids.get(2));
            assertTrue(next.out().startsWith("1 of 4 dead letters after " + ids.get(2)), next.out());

            String id = ids.get(0);
            int partition = Integer.parseInt(id.substring(0, id.indexOf('/')));
            Result show = cli(env, "dlq", "show", id);
            assertEquals(0, show.code(), show.err());
            assertTrue(show.out().contains("source_stream: {billing#" + partition + "}"), show.out());
            assertTrue(show.out().contains(" has no card"), show.out());
            Result plain = cli(env, "dlq", "show", id.substring(id.indexOf('/') + 1));
            assertEquals(2, plain.code(), plain.out());
            assertTrue(plain.err().contains("partition/id"), plain.err());

            Result stats = cli(env, "stats");
            assertEquals(0, stats.code(), stats.err());
            assertTrue(stats.out().startsWith("stream billing, group workflow-processors, 4 partitions"), stats.out());
            assertTrue(stats.out().contains("dead letters    4"), stats.out());
            assertTrue(stats.out().contains("instances       1"), stats.out());
            for (int p = 0; p < partitions; p++) {
                // partition, length, lag (unknown: a partition's read position is its owner's), pending, held,
                // dead, then the owner's name
                assertTrue(Pattern.compile("(?m)^\\s+" + p + "\\s+1\\s+\\?\\s+0\\s+0\\s+1\\s+workflow-worker-\\S+$")
                        .matcher(stats.out()).find(), "row of partition " + p + " in\n" + stats.out());
            }

            broken.set(false);
            Result replay = cli(env, "dlq", "replay", id);
            assertEquals(0, replay.code(), replay.err());
            Matcher as = Pattern.compile("as stream entry (" + partition + "/\\d+-\\d+)").matcher(replay.out());
            assertTrue(as.find(), replay.out());
            Await.until(Duration.ofSeconds(15), () -> doneAs.contains(as.group(1)),
                    "the replayed event processed in its partition");
            Result all = cli(Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "billing", "WORKER_PARTITIONS", "4"),
                    "dlq", "replay", "--all", "--rate", "50");
            assertEquals(0, all.code(), all.err());
            assertTrue(all.out().contains("replayed 3 dead letters"), all.out());
            Await.until(Duration.ofSeconds(15), () -> doneAs.size() == 4, "all four processed");

            broken.set(true);
            s.publisher().publish(WorkflowEvent.builder("INVOICE_DUE").eventId("inv-again").executionId(keys.get(1)).build());
            Await.until(Duration.ofSeconds(15), () -> cli(env, "dlq", "list").out().startsWith("1 of 1 dead letters"),
                    "a new dead letter");
            Result purge = cli(env, "dlq", "purge", "--yes");
            assertEquals(0, purge.code(), purge.err());
            assertTrue(purge.out().contains("purged 1 dead letters"), purge.out());
            Result wrongCount = cli(Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "billing",
                    "WORKER_PARTITIONS", "8"), "stats");
            assertEquals(1, wrongCount.code(), wrongCount.out());
            assertTrue(wrongCount.err().contains("configured with 8") && wrongCount.err().contains("created with 4"),
                    wrongCount.err());
        }
    }

    @Test
    void usageErrorsExitTwoWithAMessage(RedisServer redis) {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri());
        assertUsage(cli(Map.of(), "stats"), "REDIS_URL is not set");
        assertUsage(cli(env), "missing command");
        assertUsage(cli(env, "frobnicate"), "unknown command 'frobnicate'");
        assertUsage(cli(env, "dlq"), "dlq needs a subcommand");
        assertUsage(cli(env, "dlq", "purge"), "confirm with --yes");
        assertUsage(cli(env, "dlq", "list", "--limit", "ten"), "--limit must be a positive integer");
        assertUsage(cli(env, "dlq", "replay", "--from", "1-0"), "needs both --from and --to");
        assertUsage(cli(env, "dlq", "show"), "dlq show needs a dead letter id");
        assertUsage(cli(env, "stats", "extra"), "unexpected argument 'extra'");
        // A stream nobody created is read in the mode the environment names: here the shared one.
        Map<String, String> shared = Map.of("REDIS_URL", redis.uri(), "WORKER_PARTITIONS", "0");
        Result partitioned = cli(shared, "dlq", "list", "--after", "2/1-1");
        assertEquals(2, partitioned.code(), partitioned.err());
        assertTrue(partitioned.err().contains("is not partitioned"), partitioned.err());
        Result plain = cli(env, "dlq", "show", "1-1");
        assertEquals(2, plain.code(), "a plain id on the default, partitioned stream: " + plain.err());
        Result missing = cli(shared, "dlq", "show", "1-1");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("no dead letter 1-1"), missing.err());
    }

    private static void assertUsage(Result r, String message) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
        assertTrue(r.err().contains("usage:") || r.err().contains("is invalid"), r.err());
    }

    @Test
    void switchToPartitionedIsRefusedWhileEntriesArePendingAndThenMovesTheStream(RedisServer redis) throws Exception {
        Map<String, String> env = Map.of("REDIS_URL", redis.uri(), "WORKER_STREAM", "moving");
        try (RedisEventTransport shared = RedisEventTransport.create(redis.options().stream("moving").partitions(0)
                .build())) {
            shared.publish(WorkflowEvent.builder("STEP").eventId("m1").build());
            var consumer = shared.openConsumer("c1");
            var taken = consumer.read(1, Duration.ofSeconds(2));
            Result refused = cli(env, "switch-to-partitioned", "--partitions", "4");
            assertEquals(1, refused.code(), refused.out());
            assertTrue(refused.err().contains("1 entries are pending"), refused.err());
            consumer.complete(taken);
            consumer.close();
        }
        Result moved = cli(env, "switch-to-partitioned", "--partitions", "4");
        assertEquals(0, moved.code(), moved.err());
        assertTrue(moved.out().startsWith("stream moving is partitioned (4 partitions)"), moved.out());
        Result stats = cli(env, "stats");
        assertTrue(stats.out().startsWith("stream moving, group workflow-processors, 4 partitions"), stats.out());
        Result again = cli(env, "switch-to-partitioned");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("partitioned already"), again.err());
    }
}
