package dev.workflowworker.redis;

import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schedules and delayed events where processes race or replies are lost, on a real Redis: two
 * concurrent moves leave one copy, a move that failed half-way is finished by the next caller, a
 * state left without its definition does not make the owner spin, a cancel whose reply was lost
 * answers what it did, and a schedule created from a lagging clock fires nothing already past by
 * Redis TIME. Each failed before the homes hash and the call markers (see docs/ARCHITECTURE.md,
 * "Time").
 */
@ExtendWith(RedisServerExtension.class)
class ScheduleMovesAndLostRepliesTest {

    private static final int P = 4;
    private final List<WorkerService> services = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> ledger = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() throws Exception {
        services.forEach(WorkerService::close);
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private RedisOptions options(RedisServer redis, int partitions) {
        return redis.options().partitions(partitions).partitionLeaseTtl(Duration.ofSeconds(2)).build();
    }

    private WorkerService worker(RedisOptions options) {
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ActionRuntime.builder().on("TICK", ctx -> ledger.add(ctx.event().eventId())).build())
                .workerCount(1).pollInterval(Duration.ofMillis(200)).build();
        services.add(s);
        s.start();
        return s;
    }

    /** An execution id routed to partition {@code p}. */
    private static String execIn(int p, String prefix) {
        for (int k = 0; ; k++) {
            if (PartitionRouting.partitionOf(prefix + k, P) == p) {
                return prefix + k;
            }
        }
    }

    private static int copies(RedisClient c, RedisOptions o, String id) {
        int n = 0;
        for (int i = 0; i < P; i++) {
            if (c.hexists(TestKeys.partitionStream(o, i) + ":sched", id)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Promise 1 (exactly once through concurrent moves): two processes put the same schedule with
     * different execution ids at once (e.g. an old and a new release declaring it in Spring Boot
     * properties). P1 deletes it from its old partition; before P1 writes it to its new home, P2
     * finds nothing and creates it afresh in its own home; then P1's create (expected '') succeeds
     * too. The schedule now lives in two partitions, both owners fire it (same occurrence ids in
     * two partitions' streams, which no partition's duplicate window sees), and one delete() leaves
     * the other copy firing.
     */
    @Test
    void twoConcurrentMovesLeaveOneCopy(RedisServer redis) throws Exception {
        RedisOptions direct = options(redis, P);
        java.net.URI u = java.net.URI.create(redis.uri());
        ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
        closeables.add(proxy);
        RedisOptions viaProxy = redis.options().uri("redis://127.0.0.1:" + proxy.port()).partitions(P)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        RedisEventTransport t1 = RedisEventTransport.create(viaProxy);
        RedisEventTransport t2 = RedisEventTransport.create(direct);
        closeables.add(t1);
        closeables.add(t2);
        Schedules s1 = t1.schedules().orElseThrow();
        Schedules s2 = t2.schedules().orElseThrow();
        String a = execIn(0, "a");
        String b = execIn(1, "b");
        String c3 = execIn(2, "c");
        // Warm the script cache through the proxy, so the held reply is the deletion's own.
        s1.put(Schedule.every("warm", Duration.ofHours(1)).eventType("TICK").executionId(a).build());
        s1.put(Schedule.every("warm", Duration.ofHours(1)).eventType("TICK").executionId(b).build());
        s2.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").executionId(a).build());

        proxy.holdReplyTo("leave");
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread mover = new Thread(() -> {
            try {
                s1.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").executionId(b).build());
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        mover.start();
        assertTrue(proxy.held.await(5, TimeUnit.SECONDS), "P1's deletion ran and its reply is held");
        // P2 moves it elsewhere meanwhile: it finds nothing and creates it.
        s2.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").executionId(c3).build());
        proxy.release();
        mover.join(10_000);
        try (RedisClient c = redis.client()) {
            assertEquals(1, copies(c, direct, "s"), "a schedule lives in one partition (failed=" + failed.get() + ")");
        }
    }

    /**
     * Promise 1 (0 missing): a put that moves a schedule deletes it from the old partition and then
     * writes it to the new one in a second call. When Redis becomes unreachable between the two
     * (or the process dies there), put() throws and the schedule is gone: no occurrence fires any
     * more, and a retried put() starts it afresh (counts, run limit and place lost).
     */
    @Test
    void aMoveThatFailsHalfWayDoesNotLoseTheSchedule(RedisServer redis) throws Exception {
        RedisOptions direct = options(redis, P);
        java.net.URI u = java.net.URI.create(redis.uri());
        ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
        closeables.add(proxy);
        RedisOptions viaProxy = redis.options().uri("redis://127.0.0.1:" + proxy.port()).partitions(P)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        RedisEventTransport t1 = RedisEventTransport.create(viaProxy);
        RedisEventTransport t2 = RedisEventTransport.create(direct);
        closeables.add(t1);
        closeables.add(t2);
        Schedules s1 = t1.schedules().orElseThrow();
        String a = execIn(0, "a");
        String b = execIn(1, "b");
        s1.put(Schedule.every("warm", Duration.ofHours(1)).eventType("TICK").executionId(a).build());
        s1.put(Schedule.every("warm", Duration.ofHours(1)).eventType("TICK").executionId(b).build());
        s1.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").executionId(a).limit(3).build());

        proxy.holdReplyTo("leave");
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread mover = new Thread(() -> {
            try {
                s1.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").executionId(b).limit(3).build());
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        mover.start();
        assertTrue(proxy.held.await(5, TimeUnit.SECONDS), "the deletion ran");
        proxy.cutAndRefuse(); // Redis unreachable from P1 from now on
        mover.join(20_000);
        assertTrue(failed.get() instanceof RedisUnavailableException, "put failed: " + failed.get());
        assertTrue(t2.schedules().orElseThrow().get("s").isPresent(),
                "a put that failed must not have deleted the schedule");
    }

    /**
     * Promise 3 (nothing spins hot): a place in the due set whose definition is gone but whose
     * state is left (an HDEL by hand, a key evicted under an allkeys-* maxmemory policy: the
     * definitions and states are two keys) is answered 0 by schedule_fire forever
     * (ARGV[3] == '' but a state exists), stays in the due set with a past score, and the owner
     * looks at the partition again 1 ms later, forever. The API cannot repair it: find() wants
     * both, so delete() says false and put() fails 20 CAS rounds.
     */
    @Test
    void aStateWithoutADefinitionDoesNotSpinTheOwner(RedisServer redis) throws Exception {
        RedisOptions o = options(redis, 1);
        WorkerService w = worker(o);
        Schedules schedules = w.schedules().orElseThrow();
        schedules.put(Schedule.every("s", Duration.ofHours(1)).eventType("TICK").build());
        try (RedisClient c = redis.client()) {
            String base = TestKeys.partitionStream(o, 0);
            long first = calls(c, "zrangebyscore");
            c.hdel(base + ":sched", "s");
            c.zadd(base + ":sched:due", 0, "s");
            // The owner holds the partition and has looked at it since: else the window below
            // could pass before it looked at all (a sleep of 1.5 s stood here).
            Await.until(Duration.ofSeconds(10), () -> c.get(TestInternals.keys(o).partitionLease(0)) != null
                    && calls(c, "zrangebyscore") > first, "the owner looked at the partition");
            long before = calls(c, "zrangebyscore");
            Thread.sleep(2000);
            long looks = calls(c, "zrangebyscore") - before;
            assertTrue(looks <= 10, "the owner looked at the partition " + looks
                    + " times in 2 s (about 2 expected: the once-a-second sweep)");
        }
    }

    /**
     * The lost-reply case of schedule deletion, on delayed events: the
     * transport resends a call whose reply was lost (StreamClient.call). delayed_cancel removed the
     * event on the first send; the resend finds nothing and answers 0, so cancel() says false
     * ("it had moved into the stream or was unknown") for an event it cancelled. A caller that
     * compensates on false ("too late, it ran") does so for an event that never runs.
     */
    @Test
    void cancelAnswersTrueWhenTheReplyToTheCancelWasLost(RedisServer redis) throws Exception {
        java.net.URI u = java.net.URI.create(redis.uri());
        ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
        closeables.add(proxy);
        RedisEventTransport t = RedisEventTransport.create(redis.options().uri("redis://127.0.0.1:" + proxy.port())
                .partitions(P).build());
        closeables.add(t);
        var delayed = t.delayed().orElseThrow();
        // Warm the cancel script's cache, so the dropped reply is not a NOSCRIPT.
        delayed.cancel("nothing");
        delayed.publishAfter(dev.workflowworker.api.WorkflowEvent.builder("TICK").eventId("escalate-42")
                .executionId("ticket-42").build(), Duration.ofHours(1));
        assertEquals(1, delayed.waiting());
        proxy.holdReplyTo("escalate-42");
        Thread dropper = new Thread(() -> {
            try {
                if (proxy.held.await(5, TimeUnit.SECONDS)) {
                    proxy.cut();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        dropper.start();
        boolean cancelled = delayed.cancel("escalate-42");
        dropper.join(5000);
        assertEquals(0, delayed.waiting(), "the event was cancelled");
        assertTrue(cancelled, "cancel() answers true for the event it cancelled");
    }

    private static long calls(RedisClient c, String cmd) {
        for (String line : c.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_" + cmd + ":")) {
                String calls = line.substring(line.indexOf("calls=") + 6);
                return Long.parseLong(calls.substring(0, calls.indexOf(',')));
            }
        }
        return 0;
    }

    /**
     * docs/time.md / ScheduleState.starting: "creating a schedule never fires one that is already
     * past". put() computes the first occurrence from the putting process's wall clock, not from
     * Redis TIME (delayed events do count from TIME). A producer whose clock lags Redis by 30 s
     * creates an every-second schedule whose first occurrence is 30 s in the past by Redis time:
     * within the 1-minute misfire threshold, so the owner fires all ~30 at once.
     */
    @Test
    void creatingAScheduleFiresNothingAlreadyPastByRedisTime(RedisServer redis) {
        RedisOptions o = options(redis, 1);
        worker(o);
        TimeSource lagging = new TimeSource() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis() - 30_000;
            }

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }
        };
        RedisEventTransport producer = RedisEventTransport.create(o, lagging);
        closeables.add(producer);
        long redisNow;
        try (RedisClient c = redis.client()) {
            redisNow = (Long) c.eval("local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)");
        }
        producer.schedules().orElseThrow().put(Schedule.every("s", Duration.ofSeconds(1)).eventType("TICK").build());
        Await.until(Duration.ofSeconds(10), () -> !ledger.isEmpty(), () -> "fired: " + ledger);
        long settle = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < settle) {
            Thread.onSpinWait();
        }
        List<Long> past = ledger.stream().map(e -> Long.parseLong(e.substring(2))).filter(ms -> ms < redisNow).toList();
        assertEquals(List.of(), past, past.size() + " occurrence(s) scheduled before the schedule was created (by Redis TIME)");
    }
}
