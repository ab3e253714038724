package dev.workflowworker.redis;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An outcome script whose reply was lost (two socket timeouts: the call and its one repeat) while
 * the script itself still reaches Redis later, after the partition was opened again from what
 * Redis held (docs/ARCHITECTURE.md, "Why a stale reader cannot lose, duplicate or reorder"). The
 * late script must change nothing: the reopened log runs the event again and its outcome is the
 * one that counts. Everything is judged from the handlers' own ledger (each run and how it ended),
 * the outcomes the engine reported to the host and the dead-letter stream, on a real Redis.
 *
 * <p>The late landing comes from {@link LateRequestProxy} (packets of one connection delayed while
 * a new connection gets through). {@code CLIENT PAUSE} alone cannot make a script land after the
 * reopen: the open is a script too, paused behind it, and the paused call of a connection the
 * client closed on its timeout is dropped with the connection; the last case shows that.
 */
@ExtendWith(RedisServerExtension.class)
class PartitionLateOutcomeTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * The call and its repeat time out well within the lease; not so short that a busy machine
     * times out a call the test does not hold (one more rerun would change the handlers' ledger).
     */
    private static final Duration SOCKET_TIMEOUT = Duration.ofMillis(800);

    /** The handlers' ledger: per event id, how each run ended ("ok", "permanent", "recoverable"). */
    private final Map<String, List<String>> runs = new ConcurrentHashMap<>();
    /** What the engine reported to the host, per event id. */
    private final Map<String, List<EventOutcome.Kind>> reported = new ConcurrentHashMap<>();
    /** Counted down when an event's second run starts. */
    private final CountDownLatch secondRun = new CountDownLatch(1);
    /** Opened by the test when a second run may end. */
    private final CountDownLatch endSecondRun = new CountDownLatch(1);
    /** Opened by the test when a first run may end. */
    private volatile CountDownLatch endFirstRun = new CountDownLatch(0);
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

    /** How an event's run ends, by its number (1 for the first). */
    private interface Script {
        void run(int n) throws Exception;
    }

    private void start(RedisOptions options, Script script) {
        ActionRuntime runtime = ActionRuntime.builder().on("STEP", ctx -> {
            String id = ctx.event().eventId();
            List<String> mine = runs.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>());
            int n;
            synchronized (mine) {
                n = mine.size() + 1;
                mine.add("running");
            }
            String end = "ok";
            try {
                if (n == 1) {
                    assertTrue(endFirstRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "first run not let end");
                } else {
                    secondRun.countDown();
                    assertTrue(endSecondRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "second run not let end");
                }
                script.run(n);
            } catch (Throwable t) {
                end = t instanceof PermanentWorkflowException ? "permanent"
                        : t instanceof RecoverableWorkflowException ? "recoverable" : "error: " + t;
                throw t;
            } finally {
                mine.set(n - 1, end);
            }
        }).build();
        service = WorkerService.builder()
                .transport(RedisEventTransport.create(options))
                .runtime(runtime)
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome o) {
                        reported.computeIfAbsent(o.event().eventId(), k -> new CopyOnWriteArrayList<>()).add(o.kind());
                    }
                })
                .workerCount(1).concurrencyLimit(4).pollInterval(Duration.ofMillis(100))
                .initialBackoff(Duration.ofMillis(200)).maxBackoff(Duration.ofMillis(200))
                .build();
        service.start();
    }

    private RedisOptions throughProxy(RedisServer redis, String stream) throws Exception {
        URI u = URI.create(redis.uri());
        proxy = new LateRequestProxy(u.getHost(), u.getPort());
        return options(redis, stream).uri("redis://127.0.0.1:" + proxy.port()).build();
    }

    private static RedisOptions.Builder options(RedisServer redis, String stream) {
        return redis.options().stream(stream).partitions(1).partitionLeaseTtl(Duration.ofSeconds(20))
                .socketTimeout(SOCKET_TIMEOUT);
    }

    private void publish(String eventId) {
        service.publisher().publish(WorkflowEvent.builder("STEP").eventId(eventId).executionId("exec-1")
                .payload(Map.of("n", 1)).build());
    }

    private void awaitReported(String eventId, EventOutcome.Kind kind) {
        Await.until(WAIT, () -> reported.getOrDefault(eventId, List.of()).contains(kind),
                () -> eventId + " not reported " + kind + "; reported " + reported + ", runs " + runs);
    }

    private static List<Map<String, String>> deadLetters(RedisServer redis, RedisOptions options) {
        List<Map<String, String>> out = new ArrayList<>();
        try (RedisClient c = redis.client()) {
            c.xrange(options.partitionDeadLetters(0), (StreamEntryID) null, null)
                    .forEach(e -> out.add(e.getFields()));
        }
        return out;
    }

    /**
     * The dead letter of a first run is delayed until the second run, after the reopen, is under
     * way; that run succeeds. Landing late, the dead letter would put an event that completed (and
     * was reported so) into the dead-letter stream, where a replay would run it again.
     */
    @Test
    void aDeadLetterLandingAfterTheReopenDoesNotDeadLetterTheEventItsRerunCompleted(RedisServer redis)
            throws Exception {
        RedisOptions options = throughProxy(redis, "late:dead-letter");
        proxy.holdRequestsContaining(2, "ev-dl", ":dlq");
        start(options, n -> {
            if (n == 1) {
                throw new PermanentWorkflowException("fails once");
            }
        });
        publish("ev-dl");
        assertTrue(proxy.awaitHeld(WAIT.toMillis()), "the dead letter and its repeat were not sent");
        assertTrue(secondRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                "the event was not run again after the dead letter's unknown outcome: " + runs);
        proxy.release();
        assertTrue(proxy.landed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the held dead letters did not run");
        endSecondRun.countDown();
        awaitReported("ev-dl", EventOutcome.Kind.SUCCEEDED);

        assertEquals(List.of("permanent", "ok"), runs.get("ev-dl"), "the handlers' ledger");
        assertEquals(List.of(), deadLetters(redis, options),
                "the event's last run completed (reported " + reported.get("ev-dl") + "), yet it was dead-lettered");
    }

    /**
     * The commit of a first run's success is delayed until the second run, after the reopen, is
     * under way; that run fails for good. Landing late, the commit would settle the entry under the
     * rerun: its dead letter then writes nothing, while the engine reports it dead-lettered, and
     * no success of the event was ever reported: the event is in neither record.
     */
    @Test
    void aCommitLandingAfterTheReopenDoesNotSwallowTheDeadLetterOfTheRerun(RedisServer redis) throws Exception {
        RedisOptions options = throughProxy(redis, "late:commit");
        proxy.holdRequestsContaining(2, "ev-c", ":recent");
        start(options, n -> {
            if (n == 2) {
                throw new PermanentWorkflowException("fails the second time");
            }
        });
        publish("ev-c");
        assertTrue(proxy.awaitHeld(WAIT.toMillis()), "the commit and its repeat were not sent");
        assertTrue(secondRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                "the event was not run again after the commit's unknown outcome: " + runs);
        proxy.release();
        assertTrue(proxy.landed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the held commits did not run");
        endSecondRun.countDown();
        awaitReported("ev-c", EventOutcome.Kind.DEAD_LETTERED);

        assertEquals(List.of("ok", "permanent"), runs.get("ev-c"), "the handlers' ledger");
        assertTrue(!reported.get("ev-c").contains(EventOutcome.Kind.SUCCEEDED), "reported " + reported);
        assertEquals(1, deadLetters(redis, options).size(),
                "reported dead-lettered (" + reported.get("ev-c") + ") but not in the dead-letter stream");
    }

    /**
     * The hold of a first run's retry is delayed until the second run (the reopen hands the event
     * out again at once) is under way; that run succeeds. Landing late, the hold would leave a
     * mark its entry's commit does not know of: a retry counted as waiting for an event that
     * completed.
     */
    @Test
    void aHoldLandingAfterTheReopenLeavesNoRetryWaiting(RedisServer redis) throws Exception {
        RedisOptions options = throughProxy(redis, "late:hold");
        endFirstRun = new CountDownLatch(1);
        start(options, n -> {
            if (n == 1) {
                throw new RecoverableWorkflowException("fails once");
            }
        });
        publish("ev-h");
        Await.until(WAIT, () -> runs.containsKey("ev-h"), "the event did not start");
        // Armed once the partition is open: the hold's keys, which only the open and a commit share.
        proxy.holdRequestsContaining(2, ":lease", ":held", ":settled");
        endFirstRun.countDown();
        assertTrue(proxy.awaitHeld(WAIT.toMillis()), "the hold and its repeat were not sent");
        assertTrue(secondRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                "the event was not run again after the hold's unknown outcome: " + runs);
        proxy.release();
        assertTrue(proxy.landed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the held holds did not run");
        endSecondRun.countDown();
        awaitReported("ev-h", EventOutcome.Kind.SUCCEEDED);

        assertEquals(List.of("recoverable", "ok"), runs.get("ev-h"), "the handlers' ledger");
        try (RedisClient c = redis.client()) {
            assertEquals(Map.of(), TestInternals.heldMarks(c.hgetAll(options.partitionHeld(0))), "a retry mark outlived its completed event");
        }
    }

    /**
     * The scripts on their own: each open counts up the log's {@code e} and answers it; a commit,
     * hold or dead letter stamped with an earlier open writes nothing (commit and dead letter -2,
     * hold 3), one stamped with the current open goes through, and another owner's lease is
     * refused as before, whatever its stamp.
     */
    @Test
    void anOutcomeStampedWithAnEarlierOpenWritesNothing(RedisServer redis) {
        String p = "{stamp#0}";
        List<String> openKeys = List.of(p + ":lease", p + ":log", p + ":settled", p + ":held", p + ":recent",
                p + ":dlq", p, p + ":completed");
        List<String> commitKeys = List.of(p + ":lease", p + ":log", p + ":settled", p + ":held", p + ":recent");
        List<String> holdKeys = List.of(p + ":lease", p + ":held", p + ":log", p + ":settled");
        List<String> deadLetterKeys = List.of(p + ":lease", p + ":settled", p + ":held", p + ":dlq", p + ":log");
        String open = TimeScriptsTest.script("partition_open.lua");
        String commit = TimeScriptsTest.script("partition_commit.lua");
        String hold = TimeScriptsTest.script("partition_hold.lua");
        String deadLetter = TimeScriptsTest.script("partition_dead_letter.lua");
        try (RedisClient c = redis.client()) {
            c.xadd(p, new StreamEntryID(5, 0), Map.of("k", "v"));
            c.xadd(p, new StreamEntryID(6, 0), Map.of("k", "v"));
            c.set(p + ":lease", "me|7");
            long first = (Long) ((List<?>) c.eval(open, openKeys, List.of("me|7", "g", "100"))).get(5);
            assertEquals(first + 1, ((List<?>) c.eval(open, openKeys, List.of("me|7", "g", "100"))).get(5));
            String earlier = "me|7#" + first;
            String current = "me|7#" + (first + 1);
            Map<String, String> before = c.hgetAll(p + ":log");

            List<String> settle5 = List.of("5-0", "1", "100", "1|4:ev-5", "0", "0", "0");
            assertEquals(-2L, c.eval(commit, commitKeys, with(earlier, settle5)), "a commit of the first open");
            assertEquals(before, c.hgetAll(p + ":log"), "a commit of the first open moved the position");
            assertEquals(List.of(), TestInternals.recentCompletions(c.lrange(p + ":recent", 0, -1)),
                    "a commit of the first open recorded a completion");
            assertEquals(3L, c.eval(hold, holdKeys, List.of(earlier, "6-0", "2:1000")), "a hold of the first open");
            assertEquals(Map.of(), TestInternals.heldMarks(c.hgetAll(p + ":held")), "a hold of the first open wrote a mark");
            assertEquals(-2L, c.eval(deadLetter, deadLetterKeys, List.of(earlier, "6-0", "100", "f", "v")),
                    "a dead letter of the first open");
            assertEquals(0L, c.xlen(p + ":dlq"), "a dead letter of the first open was written");
            assertTrue(!c.sismember(p + ":settled", "6-0"), "a dead letter of the first open settled its entry");

            assertEquals(-1L, c.eval(commit, commitKeys, with("other|8#" + (first + 1), settle5)),
                    "another owner's commit");
            assertEquals(1L, c.eval(commit, commitKeys, with(current, settle5)), "a commit of the current open");
            assertEquals("5-0", c.hget(p + ":log", "c"));
            assertEquals(1L, c.eval(hold, holdKeys, List.of(current, "6-0", "2:1000")));
            assertEquals(1L, c.eval(deadLetter, deadLetterKeys, List.of(current, "6-0", "100", "f", "v")));
            assertEquals(1L, c.xlen(p + ":dlq"));
        }
    }

    private static List<String> with(String stamp, List<String> rest) {
        List<String> out = new ArrayList<>(rest.size() + 1);
        out.add(stamp);
        out.addAll(rest);
        return out;
    }

    /**
     * The case as first suspected: Redis clients paused ({@code CLIENT PAUSE WRITE}) for longer
     * than the commit's call and its repeat wait, while the commit is in flight. The commit does
     * not land after the reopen: Jedis closes each connection that timed out, and Redis drops the
     * paused call of a closed connection; and the reopen's open, a script as well, would wait in
     * the pause behind it. So the reopened log finds the entry unsettled, runs it again, and that
     * run's dead letter is written.
     */
    @Test
    void aCommitCaughtInAClientPauseDoesNotLandAfterTheReopen(RedisServer redis) throws Exception {
        RedisOptions options = options(redis, "late:pause").build();
        endFirstRun = new CountDownLatch(1);
        start(options, n -> {
            if (n == 2) {
                throw new PermanentWorkflowException("fails the second time");
            }
        });
        publish("ev-p");
        Await.until(WAIT, () -> runs.containsKey("ev-p"), "the event did not start");
        try (RedisClient c = redis.client()) {
            // Longer than the call, its repeat and the reconnection in between.
            c.sendCommand(Protocol.Command.CLIENT, "PAUSE",
                    Long.toString(SOCKET_TIMEOUT.toMillis() * 5), "WRITE");
        }
        endFirstRun.countDown();
        assertTrue(secondRun.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
                "the event was not run again after the commit's unknown outcome: " + runs);
        endSecondRun.countDown();
        awaitReported("ev-p", EventOutcome.Kind.DEAD_LETTERED);

        assertEquals(List.of("ok", "permanent"), runs.get("ev-p"), "the handlers' ledger");
        assertTrue(!reported.get("ev-p").contains(EventOutcome.Kind.SUCCEEDED), "reported " + reported);
        assertEquals(1, deadLetters(redis, options).size(), "reported dead-lettered but not in the dead-letter stream");
    }
}
