package dev.workflowworker.redis;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dead letter settles its entry in its own script; with no success behind it to move the
 * committed position over it, the owner sends a commit of the position alone. When that commit
 * is lost (here it never reaches Redis: the call and its repeat time out), the owner's log had
 * counted the position as moved: the next success's commit moved it on, but only the entries it
 * passed itself left the settled set. The dead letter's id stayed there below the position until
 * the partition's next open (with a stable owner: for good), counted by the lag as settled above
 * it. Now the partition reopens from Redis, as after any outcome whose reply was lost. Judged from
 * the handlers' ledger and Redis itself; on the code before, the settled set kept the id.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionAdvanceFailureTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    /** The handlers' ledger: per event id, how each run ended. */
    private final Map<String, List<String>> runs = new ConcurrentHashMap<>();
    private final Map<String, List<EventOutcome.Kind>> reported = new ConcurrentHashMap<>();
    private WorkerService service;
    private LateRequestProxy proxy;

    @AfterEach
    void close() throws Exception {
        if (service != null) {
            service.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aLostPositionOnlyCommitLeavesNoSettledIdBelowThePosition(RedisServer redis) throws Exception {
        URI u = URI.create(redis.uri());
        proxy = new LateRequestProxy(u.getHost(), u.getPort());
        RedisOptions options = redis.options().stream("advance-lost").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(20)).socketTimeout(Duration.ofMillis(800))
                .uri("redis://127.0.0.1:" + proxy.port()).build();
        // The position-only commit and its repeat are held for good: the first commit the test sees.
        proxy.holdRequestsContaining(2, LuaScript.load("partition_commit").sha());
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder()
                        .on("POISON", ctx -> {
                            ledger(ctx.event().eventId(), "permanent");
                            throw new PermanentWorkflowException("poison");
                        })
                        .on("STEP", ctx -> ledger(ctx.event().eventId(), "ok"))
                        .build())
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        reported.computeIfAbsent(o.event().eventId(), k -> new CopyOnWriteArrayList<>()).add(o.kind());
                    }
                })
                .workerCount(1).pollInterval(Duration.ofMillis(100)).build();
        service.start();

        publish("POISON", "ev-poison");
        assertTrue(proxy.awaitHeld(WAIT.toMillis()), "the position-only commit and its repeat were not sent");
        awaitReported("ev-poison", EventOutcome.Kind.DEAD_LETTERED);
        publish("STEP", "ev-ok");
        awaitReported("ev-ok", EventOutcome.Kind.SUCCEEDED);

        try (RedisClient c = redis.client()) {
            List<StreamEntry> entries = c.xrange(options.partitionStream(0), (StreamEntryID) null, null);
            String last = entries.get(entries.size() - 1).getID().toString();
            String log = options.partitionStream(0) + ":log";
            Await.until(WAIT, () -> last.equals(c.hget(log, "c")), () -> "the position did not reach " + last
                    + ": " + c.hgetAll(log));
            assertEquals(Set.of("0-0"), c.smembers(options.partitionStream(0) + ":settled"),
                    "settled ids left below the position " + last);
            assertEquals(1, c.xlen(options.partitionDeadLetters(0)), "the poison, dead-lettered once");
        }
        assertEquals(List.of("permanent"), runs.get("ev-poison"), "the handlers' ledger");
        assertEquals(List.of("ok"), runs.get("ev-ok"), "the handlers' ledger");
    }

    private void ledger(String eventId, String end) {
        runs.computeIfAbsent(eventId, k -> new CopyOnWriteArrayList<>()).add(end);
    }

    private void publish(String type, String eventId) {
        service.publisher().publish(WorkflowEvent.builder(type).eventId(eventId).executionId("exec-1")
                .payload(Map.of("n", 1)).build());
    }

    private void awaitReported(String eventId, EventOutcome.Kind kind) {
        Await.until(WAIT, () -> reported.getOrDefault(eventId, List.of()).contains(kind),
                () -> eventId + " not reported " + kind + "; reported " + reported + ", runs " + runs);
    }
}
