package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fencing tokens keep increasing when Redis loses its data (restarted without persistence, as the
 * test servers and many caches run): a downstream system that saw token 5 before must not be
 * handed token 1 after. Each mode's counter is emptied with FLUSHALL between two draws.
 */
@ExtendWith(RedisServerExtension.class)
class FencingAfterDataLossTest {

    private final List<WorkerService> services = new ArrayList<>();
    private final Map<String, Long> tokens = new ConcurrentHashMap<>();

    @AfterEach
    void close() {
        services.forEach(WorkerService::close);
    }

    private WorkerService start(RedisOptions options) {
        return start(RedisEventTransport.create(options));
    }

    private WorkerService start(RedisEventTransport transport) {
        WorkerService s = WorkerService.builder()
                .transport(transport)
                .runtime(ActionRuntime.builder().on("STEP", ctx -> tokens.put(ctx.event().eventId(), ctx.fencingToken()))
                        .build())
                .workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .build();
        services.add(s);
        s.start();
        return s;
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("STEP").eventId(id).executionId("exec-1").payload(Map.of()).build();
    }

    private static void loseEverything(RedisServer redis) {
        try (var c = redis.client()) {
            c.flushAll();
        }
    }

    /** Takes and releases lock "k" five times; returns the last token drawn. */
    private static long lastOfFiveDraws(RedisLockProvider locks) {
        long last = 0;
        for (int i = 0; i < 5; i++) {
            Lock l = locks.tryAcquire("k", Duration.ofSeconds(5)).orElseThrow();
            last = l.fencingToken();
            l.release();
        }
        return last;
    }

    @Test
    void lockTokensDrawnAfterTheCounterWasLostExceedThoseDrawnBefore(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().build())) {
            long before = lastOfFiveDraws(locks);
            loseEverything(redis);
            long after = locks.tryAcquire("k", Duration.ofSeconds(5)).orElseThrow().fencingToken();
            assertTrue(after > before, "token " + after + " after the loss, " + before + " before");
        }
    }

    /**
     * A shared stream's batch claim draws its tokens with a plain INCRBY, which after the loss
     * recreates the counter from nothing and redraws it from Redis's clock only in its next round
     * trip (or never, if the claim dies between the two): a single lock taken meanwhile must still
     * get a token above every one drawn before.
     */
    @Test
    void lockTokensExceedThoseBeforeWhenABatchClaimRecreatedTheCounterFromNothing(RedisServer redis) {
        RedisOptions options = redis.options().build();
        try (RedisLockProvider locks = RedisLockProvider.create(options)) {
            long before = lastOfFiveDraws(locks);
            loseEverything(redis);
            try (var c = redis.client()) {
                c.incrBy(options.keyPrefix() + "fence", 64); // what a batch claim's pipeline leaves before its redraw
            }
            long after = locks.tryAcquire("k", Duration.ofSeconds(5)).orElseThrow().fencingToken();
            assertTrue(after > before, "token " + after + " after the loss, " + before + " before");
        }
    }

    @Test
    void sharedStreamTokensDrawnAfterTheCounterWasLostExceedThoseDrawnBefore(RedisServer redis) throws Exception {
        WorkerService s = start(redis.options().partitions(0).stream("fence:shared").build());
        for (int i = 0; i < 5; i++) {
            s.publisher().publish(event("before-" + i));
        }
        Await.until(Duration.ofSeconds(10), () -> tokens.size() == 5, () -> "ran " + tokens.keySet());
        loseEverything(redis);
        s.publisher().publish(event("after"));
        Await.until(Duration.ofSeconds(20), () -> tokens.containsKey("after"), () -> "ran " + tokens.keySet());
        long before = tokens.entrySet().stream().filter(e -> e.getKey().startsWith("before"))
                .mapToLong(Map.Entry::getValue).max().orElseThrow();
        assertTrue(tokens.get("after") > before, "token " + tokens.get("after") + " after the loss, " + before + " before");
    }

    /**
     * A shared stream's batch of locks restarted a lost counter from the host's clock: one that ran
     * behind (a step back, a host whose clock was never set) handed out tokens below those drawn
     * before. The counter restarts from Redis's clock now, as every other counter of tokens does.
     */
    @Test
    void sharedStreamTokensAfterTheLossExceedThoseBeforeWhenTheHostClockRunsBehind(RedisServer redis) {
        AtomicLong behindMillis = new AtomicLong();
        TimeSource host = new TimeSource() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis() - behindMillis.get();
            }

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }
        };
        WorkerService s = start(RedisEventTransport.create(redis.options().partitions(0).stream("fence:behind").build(),
                host));
        for (int i = 0; i < 5; i++) {
            s.publisher().publish(event("before-" + i));
        }
        Await.until(Duration.ofSeconds(10), () -> tokens.size() == 5, () -> "ran " + tokens.keySet());
        behindMillis.set(Duration.ofDays(1).toMillis()); // the host's clock steps a day back
        loseEverything(redis);
        s.publisher().publish(event("after"));
        Await.until(Duration.ofSeconds(20), () -> tokens.containsKey("after"), () -> "ran " + tokens.keySet());
        long before = tokens.entrySet().stream().filter(e -> e.getKey().startsWith("before"))
                .mapToLong(Map.Entry::getValue).max().orElseThrow();
        assertTrue(tokens.get("after") > before, "token " + tokens.get("after") + " after the loss, " + before + " before");
    }

    @Test
    void partitionLeaseTokensDrawnAfterTheCounterWasLostExceedThoseDrawnBefore(RedisServer redis) throws Exception {
        WorkerService s = start(redis.options().stream("fence:partitioned").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(1)).build());
        s.publisher().publish(event("before"));
        Await.until(Duration.ofSeconds(10), () -> tokens.containsKey("before"), () -> "ran " + tokens.keySet());
        loseEverything(redis);
        // The lease went with the data: the next ownership round finds it gone and takes it anew.
        // Published again every 250 ms: one sent while the transport still held its old lease
        // lands in a stream whose group is gone with the data, and is read once the group is back.
        long[] lastSent = {0};
        Await.until(Duration.ofSeconds(20), () -> {
            if (System.nanoTime() - lastSent[0] > 250_000_000L) {
                lastSent[0] = System.nanoTime();
                try {
                    s.publisher().publish(event("after-" + lastSent[0]));
                } catch (RuntimeException e) {
                    return false;
                }
            }
            return tokens.keySet().stream().anyMatch(k -> k.startsWith("after"));
        }, () -> "ran " + tokens.keySet());
        long after = tokens.entrySet().stream().filter(e -> e.getKey().startsWith("after"))
                .mapToLong(Map.Entry::getValue).min().orElseThrow();
        assertTrue(after > tokens.get("before"), "token " + after + " after the loss, " + tokens.get("before") + " before");
    }
}
